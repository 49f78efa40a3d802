from dataclasses import dataclass

from genlab.errors import ConfigError

SCHEDULERS = ("ddpm", "ddim", "default")


@dataclass
class ImageGenerationSettings:
    """What images to draw (prompts × n_per_prompt) and how (sampler, steps, guidance), for diffusion models.

    Prompts are class names or indices for a class-conditional model (``null``: one row per class), text for a
    text-to-image pipeline, and must be ``null`` for an unconditional model. Sample k of prompt p is seeded with
    ``seed + p * n_per_prompt + k``, so an image does not depend on the batch it was drawn in.
    """

    prompts: list[str | int] | None = None
    n_per_prompt: int = 4
    # ddpm: the training chain, one step per training timestep; ddim: num_inference_steps steps;
    # default: a pretrained pipeline's own scheduler
    scheduler: str = "ddim"
    num_inference_steps: int = 50
    guidance_scale: float = 1.5
    eta: float = 1.0
    negative_prompt: str | None = None
    height: int | None = None
    width: int | None = None
    seed: int = 0
    batch_size: int = 64
    every_n_epochs: int = 1
    samples_per_class: int = 4  # in the grid logged during training

    def __post_init__(self):
        if self.scheduler not in SCHEDULERS:
            raise ConfigError(f"generation.scheduler={self.scheduler!r}: use one of {', '.join(SCHEDULERS)}")
        for key in ("n_per_prompt", "num_inference_steps", "batch_size", "every_n_epochs", "samples_per_class"):
            if getattr(self, key) < 1:
                raise ConfigError(f"generation.{key}={getattr(self, key)}: must be at least 1")
        if self.guidance_scale < 0:
            raise ConfigError(f"generation.guidance_scale={self.guidance_scale}: must be >= 0 (1 = no guidance)")

    def seed_of(self, prompt_index: int, sample: int) -> int:
        return self.seed + prompt_index * self.n_per_prompt + sample
