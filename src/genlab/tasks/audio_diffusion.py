from typing import Any

import numpy as np
import torch
from torch import nn

from genlab.audio.spectrogram import MelSpectrogram, normalize_peak
from genlab.generation.audio_settings import AudioGenerationSettings, check_duration
from genlab.tasks.diffusion import Diffusion
from genlab.tasks.optim import OptimizerFactory


class AudioDiffusion(Diffusion):
    """Diffusion over log-mel spectrogram images (see ``Diffusion``) whose prediction steps also return the audio:
    each generated spectrogram turned into a waveform by ``spectrogram.to_waveform`` (Griffin-Lim)."""

    _not_hparams = (*Diffusion._not_hparams, "spectrogram")

    def __init__(self, net: nn.Module, optimizer: OptimizerFactory, spectrogram: MelSpectrogram, **kwargs: Any):
        super().__init__(net, optimizer, **kwargs)
        self.spectrogram = spectrogram

    @property
    def sample_rate(self) -> int:
        return self.spectrogram.sample_rate

    def predict_step(self, batch: dict, batch_idx: int) -> dict:
        settings: AudioGenerationSettings = batch["settings"]
        seconds = settings.duration_seconds
        check_duration(
            seconds,
            self.spectrogram.seconds,
            "this spectrogram model",
            f"its clips are data.spectrogram.frames={self.spectrogram.frames} frames long",
        )
        images = self.generate(batch["requests"], settings).cpu()
        audio = self.waveforms(images, round(seconds * self.sample_rate) if seconds else None)
        return {"requests": batch["requests"], "spectrograms": images, "audio": audio, "sample_rate": self.sample_rate}

    def waveforms(self, images: torch.Tensor, length: int | None = None) -> torch.Tensor:
        """[B, samples] audio of [B, 1, n_mels, frames] spectrogram images in [0, 1], cut to ``length``, at the
        training clips' peak (Griffin-Lim's loudness is arbitrary)."""
        length = length or self.spectrogram.num_samples
        return torch.from_numpy(
            np.stack([normalize_peak(self.spectrogram.to_waveform(image[0].numpy()))[:length] for image in images])
        )
