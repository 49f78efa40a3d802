from pathlib import Path

import numpy as np


def log_mel_db(wave: np.ndarray, sample_rate: int, n_mels: int = 64, hop_length: int = 256) -> np.ndarray:
    """[n_mels, frames] log-mel power in dB (peak 0 dB), low frequencies in the bottom row: to draw any audio."""
    import librosa

    mel = librosa.feature.melspectrogram(
        y=np.asarray(wave, dtype=np.float32), sr=sample_rate, n_mels=n_mels, hop_length=hop_length
    )
    return librosa.power_to_db(mel, ref=np.max, top_db=80.0)[::-1]


def save_spectrogram_png(image: np.ndarray, path: Path, seconds: float, sample_rate: int, title: str) -> None:
    """A spectrogram image (rows: mel bands, high at the top) as a labelled PNG: time in seconds, mel bands upwards."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    shown = ax.imshow(image, aspect="auto", cmap="magma", extent=(0, seconds, 0, image.shape[0]))
    ax.set(xlabel="time (s)", ylabel=f"mel band (0-{sample_rate / 2000:g} kHz)", title=title)
    fig.colorbar(shown, ax=ax)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
