from dataclasses import dataclass

from genlab.errors import ConfigError
from genlab.generation.image_settings import ImageGenerationSettings

VIDEO_FORMATS = ("mp4", "gif")


@dataclass
class VideoGenerationSettings(ImageGenerationSettings):
    """What clips to make (prompts × n_per_prompt) and how (the diffusion sampler's settings), written as video
    files played at ``fps`` frames a second. ``format=mp4`` needs PyAV (``pip install av``); without it genlab
    writes GIFs and says so. ``num_frames`` is for text-to-video pipelines (null: the pipeline's own); a model
    trained here always makes clips as long as its training clips."""

    fps: int = 4
    format: str = "mp4"
    num_frames: int | None = None
    samples_per_class: int = 1  # in the clips logged during training

    def __post_init__(self):
        super().__post_init__()
        if self.format not in VIDEO_FORMATS:
            raise ConfigError(f"generation.format={self.format!r}: use one of {', '.join(VIDEO_FORMATS)}")
        if self.fps < 1:
            raise ConfigError(f"generation.fps={self.fps}: must be at least 1 frame a second")
        if self.num_frames is not None and self.num_frames < 1:
            raise ConfigError(f"generation.num_frames={self.num_frames}: must be at least 1 (or null)")
