"""LightningModules: loss, metrics and optimizers around a plain network. They never read the command line."""

from genlab.tasks.audio_diffusion import AudioDiffusion
from genlab.tasks.chat_sft import ChatFineTuning
from genlab.tasks.classification import Classification, SequenceClassification
from genlab.tasks.diffusion import Diffusion
from genlab.tasks.forecasting import Forecasting
from genlab.tasks.language_modeling import LanguageModeling
from genlab.tasks.preference import PreferenceTuning
from genlab.tasks.text_to_audio import TextToAudio
from genlab.tasks.text_to_image import TextToImage
from genlab.tasks.text_to_video import TextToVideo
from genlab.tasks.video_diffusion import VideoDiffusion

__all__ = [
    "AudioDiffusion",
    "ChatFineTuning",
    "Classification",
    "Diffusion",
    "Forecasting",
    "LanguageModeling",
    "PreferenceTuning",
    "SequenceClassification",
    "TextToAudio",
    "TextToImage",
    "TextToVideo",
    "VideoDiffusion",
]
