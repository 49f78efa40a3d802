import torch

from genlab.generation.requests import GenerationRequest
from genlab.generation.video_settings import VideoGenerationSettings
from genlab.tasks.pretrained import PretrainedGenerator
from genlab.tasks.text_to_image import run_pipeline


class TextToVideo(PretrainedGenerator):
    """Generation with a pretrained diffusers text-to-video pipeline (``net.pipeline``) as Lightning prediction
    steps; the clips are written like those of a video model trained here (generation=video)."""

    num_frames = None  # the pipeline's own unless generation.num_frames says

    @torch.no_grad()
    def generate(self, requests: list[GenerationRequest], settings: VideoGenerationSettings) -> torch.Tensor:
        """Clips in [0, 1], [len(requests), 3, frames, H, W]; each clip's noise comes from its own seeded CPU
        generator, so it is the same on any device and in any batch."""
        extra = {"num_frames": settings.num_frames} if settings.num_frames else {}
        out = run_pipeline(self.net, requests, settings, self.net.pipeline.vae_scale_factor, "frames", **extra)
        return out.frames.float().transpose(1, 2)  # [B, F, C, H, W] -> [B, C, F, H, W]

    def predict_step(self, batch: dict, batch_idx: int) -> dict:
        return {"requests": batch["requests"], "videos": self.generate(batch["requests"], batch["settings"]).cpu()}
