from collections.abc import Sequence
from pathlib import Path

import numpy as np

from genlab.audio.espeak import espeak_variants
from genlab.audio.spectrogram import MelSpectrogram
from genlab.audio.spoken_words import Utterance, plan_utterances, split_variants, synthesize
from genlab.data.image_classification import ImageClassificationDataModule
from genlab.errors import ConfigError

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


class SpokenWordsDataModule(ImageClassificationDataModule):
    """Words spoken by espeak-ng voices, as log-mel spectrogram images ([1, n_mels, frames] in [0, 1], then
    normalized by ``mean``/``std``), one class per word; by default the digits "zero" to "nine".

    Every voice variant (espeak-ng's speakers: m1, f3, klatt, whisper, ...) says every word in every accent
    (en-us, en-gb, ...), ``takes`` times at a random speed and pitch. The splits are by variant: the val and test
    speakers are never heard in training, in any accent. The audio is synthesized on first use and cached.
    """

    def __init__(
        self,
        spectrogram: MelSpectrogram,
        cache_dir: str,
        words: Sequence[str] = DIGITS,
        accents: Sequence[str] = ("en-us",),
        variants: Sequence[str] | None = None,
        takes: int = 1,
        speed: Sequence[int] = (130, 190),
        pitch: Sequence[int] = (30, 70),
        val_voices: float = 0.1,
        test_voices: float = 0.1,
        input_shape: Sequence[int] | None = None,
        num_classes: int | None = None,
        batch_size: int = 64,
        split_seed: int = 0,
        mean: float | Sequence[float] | None = None,
        std: float | Sequence[float] | None = None,
        num_workers: int = 0,
    ):
        words = [str(w) for w in words]
        shape = [1, *spectrogram.shape]
        if input_shape is not None and list(input_shape) != shape:
            raise ConfigError(
                f"data.input_shape={list(input_shape)} but the spectrogram makes {shape} (1, n_mels, frames); set data.input_shape={shape}"
            )
        if num_classes is not None and num_classes != len(words):
            raise ConfigError(
                f"data.num_classes={num_classes} but data.words has {len(words)} words; set data.num_classes={len(words)}"
            )
        if len(set(words)) != len(words) or not all(w.strip() for w in words):
            raise ConfigError(f"data.words={words}: words must be distinct and non-empty")
        if (
            takes < 1
            or len(speed) != 2
            or len(pitch) != 2
            or speed[0] > speed[1]
            or pitch[0] > pitch[1]
            or not 0 <= pitch[0] <= pitch[1] <= 99
        ):
            raise ConfigError(
                f"data.takes={takes}, data.speed={list(speed)}, data.pitch={list(pitch)}: takes >= 1, ranges [low, high], pitch within 0-99"
            )
        super().__init__(shape, len(words), batch_size, 0.0, split_seed, mean, std, num_workers)
        self.spectrogram = spectrogram
        self.cache_dir = Path(cache_dir)
        self.words, self.accents, self.variants = words, list(accents), list(variants) if variants else None
        self.takes, self.speed, self.pitch = takes, (speed[0], speed[1]), (pitch[0], pitch[1])
        self.val_voices, self.test_voices = val_voices, test_voices
        self.class_names = tuple(words)
        self.utterances: dict[str, list[Utterance]] = {}
        self.waves: dict[str, list[np.ndarray]] = {}

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        variants = self.variants or espeak_variants()
        speakers = split_variants(variants, self.val_voices, self.test_voices, self.split_seed)
        images = {}
        for split, names in speakers.items():
            self.utterances[split] = plan_utterances(
                self.words, self.accents, names, self.takes, self.speed, self.pitch, self.split_seed
            )
            self.waves[split] = synthesize(
                self.words, self.utterances[split], self.spectrogram.sample_rate, self.cache_dir
            )
            images[split] = self.spectrogram.to_images(self.waves[split])[:, None]
        labels = {split: np.array([u.word for u in us]) for split, us in self.utterances.items()}
        mean, std = self.normalization = self._stats(images["train"])
        self.splits = {
            split: self._tensors(images[split], labels[split], mean, std) for split in ("train", "val", "test")
        }

    def image_of(self, wave: np.ndarray, sample_rate: int) -> np.ndarray:
        """A waveform as this data's normalized input ([1, n_mels, frames]): what a classifier trained here takes."""
        if sample_rate != self.spectrogram.sample_rate:
            import librosa

            wave = librosa.resample(
                np.asarray(wave, dtype=np.float32), orig_sr=sample_rate, target_sr=self.spectrogram.sample_rate
            )
        self.setup()
        if self.normalization is None:
            raise RuntimeError("setup() did not compute the normalization")
        mean, std = self.normalization
        return (self.spectrogram.to_image(wave)[None] - mean[0]) / std[0]
