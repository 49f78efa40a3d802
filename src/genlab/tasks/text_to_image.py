import math

import torch

from genlab.errors import ConfigError
from genlab.generation.diffusion_sampling import sampling_scheduler
from genlab.generation.image_settings import ImageGenerationSettings
from genlab.generation.requests import GenerationRequest
from genlab.tasks.pretrained import PretrainedGenerator


class TextToImage(PretrainedGenerator):
    """Generation with a pretrained text-to-image pipeline (``net.pipeline``) as Lightning prediction steps."""

    @torch.no_grad()
    def generate(self, requests: list[GenerationRequest], settings: ImageGenerationSettings) -> torch.Tensor:
        """Images in [0, 1], [len(requests), 3, H, W]; each image's noise comes from its own seeded CPU generator, so
        it is the same on any device and in any batch."""
        pipeline = self.net.pipeline
        if settings.scheduler != "default":
            pipeline.scheduler = sampling_scheduler(settings.scheduler, pipeline.scheduler.config)
        size = self.net.default_size
        # StableDiffusionPipeline.check_inputs asks for multiples of 8 whatever the VAE; the latents, of its factor
        step = math.lcm(8, pipeline.vae_scale_factor)
        for key in ("height", "width"):
            value = getattr(settings, key) or size
            if value % step:
                raise ConfigError(
                    f"generation.{key}={value}: this pipeline makes images in steps of {step} pixels; "
                    f"use a multiple of {step} (its own size is {size})"
                )
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
        )
        return out.images.float()

    def predict_step(self, batch: dict, batch_idx: int) -> dict:
        return {"requests": batch["requests"], "images": self.generate(batch["requests"], batch["settings"]).cpu()}
