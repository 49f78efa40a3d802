import lightning as L
import torch
from torch import nn

from genlab.generation.diffusion_sampling import sampling_scheduler
from genlab.generation.image_settings import ImageGenerationSettings, ImageRequest


class TextToImage(L.LightningModule):
    """Generation with a pretrained text-to-image pipeline (``net.pipeline``) as Lightning prediction steps."""

    takes_text = True
    num_classes = None

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def output_shape(self, input_shape, num_classes) -> None:
        return None  # nothing to dry-run: the pipeline does not take the run's data

    @torch.no_grad()
    def generate(self, requests: list[ImageRequest], settings: ImageGenerationSettings) -> torch.Tensor:
        """Images in [0, 1], [len(requests), 3, H, W]; each image's noise comes from its own seeded CPU generator, so
        it is the same on any device and in any batch."""
        pipeline = self.net.pipeline
        if settings.scheduler != "default":
            pipeline.scheduler = sampling_scheduler(settings.scheduler, pipeline.scheduler.config)
        size = self.net.default_size
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
