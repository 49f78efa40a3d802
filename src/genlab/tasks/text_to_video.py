import torch

from genlab.errors import ConfigError
from genlab.generation.diffusion_sampling import sampling_scheduler
from genlab.generation.requests import GenerationRequest
from genlab.generation.video_settings import VideoGenerationSettings
from genlab.tasks.pretrained import PretrainedGenerator


class TextToVideo(PretrainedGenerator):
    """Generation with a pretrained diffusers text-to-video pipeline (``net.pipeline``) as Lightning prediction
    steps; the clips are written like those of a video model trained here (generation=video)."""

    num_frames = None  # the pipeline's own unless generation.num_frames says

    @torch.no_grad()
    def generate(self, requests: list[GenerationRequest], settings: VideoGenerationSettings) -> torch.Tensor:
        """Clips in [0, 1], [len(requests), 3, frames, H, W]; each clip's noise comes from its own seeded CPU
        generator, so it is the same on any device and in any batch."""
        pipeline = self.net.pipeline
        if settings.scheduler != "default":
            pipeline.scheduler = sampling_scheduler(settings.scheduler, pipeline.scheduler.config)
        size = self.net.default_size
        step = pipeline.vae_scale_factor
        for key in ("height", "width"):
            value = getattr(settings, key) or size
            if value % step:
                raise ConfigError(
                    f"generation.{key}={value}: this pipeline makes frames in steps of {step} pixels; "
                    f"use a multiple of {step} (its own size is {size})"
                )
        extra = {"num_frames": settings.num_frames} if settings.num_frames else {}
        out = pipeline(
            prompt=[r.prompt for r in requests],
            negative_prompt=[settings.negative_prompt] * len(requests) if settings.negative_prompt else None,
            num_inference_steps=settings.num_inference_steps,
            guidance_scale=settings.guidance_scale,
            eta=settings.eta,  # used by DDIM schedulers only
            height=settings.height or size,
            width=settings.width or size,
            generator=[torch.Generator().manual_seed(r.seed) for r in requests],
            output_type="pt",
            **extra,
        )
        return out.frames.float().transpose(1, 2)  # [B, F, C, H, W] -> [B, C, F, H, W]

    def predict_step(self, batch: dict, batch_idx: int) -> dict:
        return {"requests": batch["requests"], "videos": self.generate(batch["requests"], batch["settings"]).cpu()}
