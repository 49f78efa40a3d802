import torch

from genlab.errors import ConfigError
from genlab.generation.image_settings import ImageGenerationSettings
from genlab.generation.requests import GenerationRequest
from genlab.generation.video_settings import VideoGenerationSettings
from genlab.tasks.diffusion import Diffusion


class VideoDiffusion(Diffusion):
    """Diffusion (see ``Diffusion``: the same noise schedule, classifier-free guidance, EMA and DDPM/DDIM samplers)
    over clips [C, frames, H, W] scaled to [-1, 1], with a space-time net such as ``genlab.nets.SpaceTimeUNet``.
    Its prediction steps return clips, which generation=video writes as video files."""

    @property
    def num_frames(self) -> int:
        return self.image_shape[1]

    def generate(self, requests: list[GenerationRequest], settings: ImageGenerationSettings) -> torch.Tensor:
        """Clips in [0, 1], [len(requests), C, frames, H, W], each seeded by its request."""
        wanted = settings.num_frames if isinstance(settings, VideoGenerationSettings) else None
        if wanted is not None and wanted != self.num_frames:
            raise ConfigError(
                f"generation.num_frames={wanted}: this model makes clips of the {self.num_frames} frames it was "
                f"trained on; set generation.num_frames=null"
            )
        return super().generate(requests, settings)

    def predict_step(self, batch: dict, batch_idx: int) -> dict:
        return {"requests": batch["requests"], "videos": self.generate(batch["requests"], batch["settings"]).cpu()}
