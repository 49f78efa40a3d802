from dataclasses import dataclass

from genlab.errors import ConfigError
from genlab.generation.image_settings import ImageGenerationSettings


@dataclass
class AudioGenerationSettings(ImageGenerationSettings):
    """What audio to make (prompts × n_per_prompt, ``duration_seconds`` each) and how.

    A spectrogram diffusion model (model=audio_diffusion) takes words as prompts and samples like an image model
    (scheduler, steps, guidance, eta); a text-to-music model (model=musicgen) takes text and samples tokens
    (``do_sample``, ``temperature``, ``top_k``, ``top_p``, ``guidance_scale``). ``duration_seconds=null`` means the
    model's own length: a diffusion model's clip, or 5 s of music.
    """

    duration_seconds: float | None = None
    do_sample: bool = True
    temperature: float = 1.0
    top_k: int = 250
    top_p: float = 0.0

    def __post_init__(self):
        super().__post_init__()
        if self.duration_seconds is not None and self.duration_seconds <= 0:
            raise ConfigError(
                f"generation.duration_seconds={self.duration_seconds}: must be positive (or null for the model's own length)"
            )
        if self.temperature <= 0:
            raise ConfigError(f"generation.temperature={self.temperature}: must be positive")
        if self.top_k < 0 or not 0 <= self.top_p <= 1:
            raise ConfigError(
                f"generation.top_k={self.top_k}, generation.top_p={self.top_p}: top_k >= 0 (0 = off), top_p in [0, 1] (0 = off)"
            )


def check_duration(seconds: float | None, limit: float, model: str, why: str) -> None:
    """Refuse a duration past what the model can make, naming the key and the limit."""
    if seconds is not None and seconds > limit + 1e-9:
        raise ConfigError(
            f"generation.duration_seconds={seconds}: {model} makes at most {limit:.3g} s ({why}); ask for {limit:.3g} or less"
        )
