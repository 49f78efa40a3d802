"""A spoken-word corpus synthesized with espeak-ng and cached: which voices say which words, and the audio."""

import hashlib
import json
import logging
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from genlab.audio.espeak import require_espeak, speak
from genlab.audio.spectrogram import normalize_peak
from genlab.errors import ConfigError

log = logging.getLogger("genlab")


@dataclass(frozen=True)
class Utterance:
    word: int  # index into the corpus' words
    accent: str  # espeak-ng language voice, e.g. en-us
    variant: str  # espeak-ng voice variant (the speaker), e.g. f3
    speed: int  # words per minute
    pitch: int  # 0-99

    @property
    def voice(self) -> str:
        return f"{self.accent}+{self.variant}"


def plan_utterances(
    words: list[str],
    accents: list[str],
    variants: list[str],
    takes: int,
    speed: tuple[int, int],
    pitch: tuple[int, int],
    seed: int,
) -> list[Utterance]:
    """Every variant says every word in every accent ``takes`` times, at a speed and pitch drawn (seeded) from the
    given ranges, so a voice is heard over its whole range."""
    rng = np.random.default_rng(seed)
    return [
        Utterance(
            w, accent, variant, int(rng.integers(speed[0], speed[1] + 1)), int(rng.integers(pitch[0], pitch[1] + 1))
        )
        for variant in variants
        for accent in accents
        for w in range(len(words))
        for _ in range(takes)
    ]


def _espeak_version() -> str:
    return subprocess.run([require_espeak(), "--version"], capture_output=True, text=True).stdout.strip()


def cache_key(words: list[str], utterances: list[Utterance], sample_rate: int) -> str:
    spec = json.dumps(
        {
            "words": words,
            "utterances": [asdict(u) for u in utterances],
            "rate": sample_rate,
            "espeak": _espeak_version(),
        }
    )
    return hashlib.sha256(spec.encode()).hexdigest()[:16]


def synthesize(words: list[str], utterances: list[Utterance], sample_rate: int, cache_dir: Path) -> list[np.ndarray]:
    """The peak-normalized audio of each utterance, synthesized once and then read from ``cache_dir``."""
    path = cache_dir / f"spoken_words-{cache_key(words, utterances, sample_rate)}.npz"
    if path.exists():
        with np.load(path) as cached:
            return _unpack(cached["audio"], cached["offsets"])
    from rich.progress import track

    def one(u: Utterance) -> np.ndarray:
        return normalize_peak(speak(words[u.word], u.voice, u.speed, u.pitch, sample_rate))

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # espeak-ng runs as a process: threads suffice
        waves = list(
            track(
                pool.map(one, utterances), total=len(utterances), description=f"espeak-ng: {len(utterances)} utterances"
            )
        )
    offsets = np.cumsum([0] + [len(w) for w in waves])
    audio = np.round(np.concatenate(waves) * 32767).astype(np.int16)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, audio=audio, offsets=offsets)
    tmp.replace(path)  # a killed synthesis leaves no half-written cache behind
    log.info(f"spoken words cached in {path}")
    return _unpack(audio, offsets)  # as a later run reads them, so the first run is not the odd one out


def _unpack(audio: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    return np.split(audio.astype(np.float32) / 32767, offsets[1:-1])


def split_variants(variants: list[str], val: float, test: float, seed: int) -> dict[str, list[str]]:
    """Disjoint speaker sets: ``val``/``test`` are shares (< 1) or counts of the variants, drawn with ``seed``."""
    order = [variants[i] for i in np.random.default_rng(seed).permutation(len(variants))]
    n_test, n_val = (round(n * len(variants)) if n < 1 else int(n) for n in (test, val))
    if n_test < 1 or n_val < 1 or n_test + n_val >= len(variants):
        raise ConfigError(
            f"data.val_voices={val}, data.test_voices={test} with {len(variants)} voice variants: each split needs at "
            f"least one variant and training needs the rest; list more data.variants or hold out fewer"
        )
    return {"test": order[:n_test], "val": order[n_test : n_test + n_val], "train": order[n_test + n_val :]}
