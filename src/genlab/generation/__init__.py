"""Generation: sampling settings, samplers (genlab's own LMs, diffusion), and writers of what was generated
(text, images, audio)."""

from genlab.generation.audio_settings import AudioGenerationSettings
from genlab.generation.image_samples import ImageSamples
from genlab.generation.image_settings import ImageGenerationSettings
from genlab.generation.samples_callback import GenerationSamples
from genlab.generation.settings import GenerationSettings
from genlab.generation.video_samples import VideoSamples
from genlab.generation.video_settings import VideoGenerationSettings

__all__ = [
    "AudioGenerationSettings",
    "GenerationSamples",
    "GenerationSettings",
    "ImageGenerationSettings",
    "ImageSamples",
    "VideoGenerationSettings",
    "VideoSamples",
]
