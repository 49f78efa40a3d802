import re
import shutil
import subprocess

import numpy as np

from genlab.errors import DataError

INSTALL_HINT = "install it with 'sudo apt-get install espeak-ng' (Debian/Ubuntu) or 'brew install espeak-ng' (macOS)"


def require_espeak() -> str:
    """The espeak-ng executable, or a DataError that says how to install it."""
    path = shutil.which("espeak-ng")
    if path is None:
        raise DataError(
            f"data=spoken_digits synthesizes its audio with espeak-ng, which is not on PATH: {INSTALL_HINT}"
        )
    return path


def espeak_variants() -> list[str]:
    """The voice variants this espeak-ng has (``espeak-ng --voices=variant``), e.g. m1, f3, klatt, whisper: the
    names after ``!v/`` in its File column. Names with a space (``Mr serious``) are left out: espeak-ng cannot take
    them after a ``+``, and falls back to its default voice without a word."""
    out = subprocess.run([require_espeak(), "--voices=variant"], capture_output=True, text=True, check=True).stdout
    names = [re.search(r"!v/(\S+)(\s|$)", line) for line in out.splitlines()[1:]]
    spaced = [re.search(r"!v/\S+ \S", line) for line in out.splitlines()[1:]]
    return [m.group(1) for m, space in zip(names, spaced) if m and not space]


def speak(text: str, voice: str, speed: int, pitch: int, sample_rate: int) -> np.ndarray:
    """``text`` spoken by espeak-ng ``voice`` (e.g. ``en-us+f3``) at ``speed`` words per minute and ``pitch`` (0-99),
    as float32 samples at ``sample_rate``, leading and trailing silence trimmed."""
    import librosa

    result = subprocess.run(
        [require_espeak(), "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0 or len(result.stdout) <= 44:
        raise DataError(
            f"espeak-ng could not speak {text!r} with voice {voice!r}: {result.stderr.decode().strip() or 'no audio'}"
        )
    # --stdout writes a streaming WAV (its length fields are unset): 44-byte header, 16-bit mono PCM, 22050 Hz
    wave = np.frombuffer(result.stdout[44:], dtype="<i2").astype(np.float32) / 32768.0
    wave = librosa.resample(wave, orig_sr=22050, target_sr=sample_rate) if sample_rate != 22050 else wave
    trimmed, _ = librosa.effects.trim(wave, top_db=40)
    return trimmed.astype(np.float32)
