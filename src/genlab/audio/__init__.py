"""Audio building blocks: speech synthesis with espeak-ng, mel spectrograms and their inversion, WAV files."""

from genlab.audio.espeak import require_espeak, speak
from genlab.audio.spectrogram import MelSpectrogram
from genlab.audio.wav import read_wav, write_wav

__all__ = ["MelSpectrogram", "read_wav", "require_espeak", "speak", "write_wav"]
