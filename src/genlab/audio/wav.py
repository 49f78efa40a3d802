from pathlib import Path

import numpy as np


def write_wav(path: Path, wave: np.ndarray, sample_rate: int) -> None:
    """16-bit PCM WAV (what every player opens); float samples are clipped to [-1, 1]."""
    import soundfile

    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), np.clip(np.asarray(wave, dtype=np.float32), -1, 1), sample_rate, subtype="PCM_16")


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """(mono float32 samples in [-1, 1], sample rate); channels are averaged."""
    import soundfile

    wave, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    return wave.mean(axis=1), rate
