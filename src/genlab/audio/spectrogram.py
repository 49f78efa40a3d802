import numpy as np

PEAK = 0.9  # clips are brought to this peak before encoding (max_db is set for it), generated audio after decoding


def normalize_peak(wave: np.ndarray) -> np.ndarray:
    """``wave`` scaled to peak at ``PEAK``; (near-)silence is left as it is."""
    top = float(np.abs(wave).max())
    return wave * (PEAK / top) if top > 1e-4 else wave


class MelSpectrogram:
    """A fixed-length waveform ↔ log-mel image in [0, 1] ([n_mels, frames], drawn as spectrograms are: low
    frequencies in the bottom row).

    Power mel spectrogram in dB, clipped to ``[max_db - dynamic_range_db, max_db]`` and scaled to [0, 1], so a
    diffusion model sees an image in a fixed range and every clip is on the same scale (clips are normalized to
    ``PEAK`` before encoding). ``to_waveform`` inverts it with librosa: mel → linear magnitudes (pseudo-inverse) → Griffin-Lim phase.
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        n_fft: int = 1024,
        hop_length: int = 256,
        n_mels: int = 64,
        frames: int = 64,
        fmin: float = 0.0,
        fmax: float | None = None,
        max_db: float = 25.0,
        dynamic_range_db: float = 80.0,
        griffin_lim_iters: int = 64,
    ):
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.frames = frames
        self.fmin = fmin
        self.fmax = fmax if fmax is not None else sample_rate / 2
        self.max_db = max_db
        self.dynamic_range_db = dynamic_range_db
        self.griffin_lim_iters = griffin_lim_iters

    def __repr__(self) -> str:  # its settings: a cache of decoded spectrograms is keyed by them
        return f"MelSpectrogram({', '.join(f'{k}={v!r}' for k, v in sorted(vars(self).items()))})"

    @property
    def num_samples(self) -> int:
        """Samples in a clip: exactly ``frames`` centred STFT frames."""
        return (self.frames - 1) * self.hop_length

    @property
    def seconds(self) -> float:
        return self.num_samples / self.sample_rate

    @property
    def shape(self) -> tuple[int, int]:
        return self.n_mels, self.frames

    def _stft_kwargs(self) -> dict:
        return dict(
            sr=self.sample_rate, n_fft=self.n_fft, hop_length=self.hop_length, fmin=self.fmin, fmax=self.fmax, power=2.0
        )

    def fit_length(self, wave: np.ndarray) -> np.ndarray:
        """Cut or zero-pad (at the end) to ``num_samples``."""
        wave = np.asarray(wave, dtype=np.float32)[: self.num_samples]
        return np.pad(wave, (0, self.num_samples - len(wave)))

    def to_image(self, wave: np.ndarray) -> np.ndarray:
        """[n_mels, frames] float32 in [0, 1] from a waveform at ``sample_rate`` (cut or padded to the clip length)."""
        return self.to_images([wave])[0]

    def to_images(self, waves: list[np.ndarray], chunk: int = 512) -> np.ndarray:
        """[len(waves), n_mels, frames]: ``to_image`` of each, computed a chunk of clips at a time (much faster)."""
        import librosa

        low = self.max_db - self.dynamic_range_db
        images = []
        for start in range(0, len(waves), chunk):
            batch = np.stack([self.fit_length(w) for w in waves[start : start + chunk]])
            mel = librosa.feature.melspectrogram(y=batch, n_mels=self.n_mels, **self._stft_kwargs())
            db = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None)
            images.append(((np.clip(db[:, ::-1], low, self.max_db) - low) / self.dynamic_range_db).astype(np.float32))
        return np.concatenate(images) if images else np.zeros((0, *self.shape), np.float32)

    def to_waveform(self, image: np.ndarray) -> np.ndarray:
        """The waveform (float32, ``num_samples`` long) of a [n_mels, frames] image in [0, 1], by Griffin-Lim."""
        import librosa

        image = np.clip(np.asarray(image, dtype=np.float32).reshape(self.shape)[::-1], 0, 1)
        db = image * self.dynamic_range_db + self.max_db - self.dynamic_range_db
        mel = librosa.db_to_power(db)
        # the clip floor stands for silence: zero it so Griffin-Lim does not paint it as noise
        mel[image <= 0] = 0.0
        # mel → linear power by the filter bank's pseudo-inverse: linear, so a tiny change of the image is a tiny
        # change of the audio (librosa's NNLS inversion stops at data-dependent iterations and is not)
        basis = librosa.filters.mel(
            sr=self.sample_rate, n_fft=self.n_fft, n_mels=self.n_mels, fmin=self.fmin, fmax=self.fmax
        )
        magnitudes = np.sqrt(np.maximum(np.linalg.pinv(basis) @ mel, 0.0))
        wave = librosa.griffinlim(
            magnitudes,
            n_iter=self.griffin_lim_iters,
            hop_length=self.hop_length,
            n_fft=self.n_fft,
            length=self.num_samples,
            random_state=0,
        )
        return wave.astype(np.float32)
