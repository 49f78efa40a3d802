"""A folder of the user's recordings (genlab.data.file_folders for the layouts), read to mono waveforms at one
sample rate: WAV, FLAC and OGG through soundfile, resampled with librosa."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from genlab.data.file_folders import LabelledFolder, scan_folder, unreadable_files
from genlab.errors import ConfigError, DataError

if TYPE_CHECKING:
    from genlab.audio.spectrogram import MelSpectrogram

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


def scan_audio_folder(root: str | Path) -> LabelledFolder:
    return scan_folder(root, AUDIO_SUFFIXES, "audio")


def audio_folder_classes(root: str) -> int:
    """How many classes ``root`` holds (a flat folder: 1): ``data.num_classes`` of data=audio_folder."""
    return len(scan_audio_folder(root).class_names)


def clip_frames(clip_seconds: float, sample_rate: int, hop_length: int) -> int:
    """Spectrogram frames that cover ``clip_seconds``: ``data.spectrogram.frames`` of data=audio_folder."""
    return math.ceil(clip_seconds * sample_rate / hop_length) + 1


def check_clip_length(spectrogram: MelSpectrogram, clip_seconds: float | None) -> None:
    """The spectrogram's frames must cover ``data.clip_seconds`` (they follow it unless set by hand)."""
    if clip_seconds is not None and spectrogram.seconds + 1 / spectrogram.sample_rate < clip_seconds:
        raise ConfigError(
            f"data.clip_seconds={clip_seconds} but data.spectrogram.frames={spectrogram.frames} cover only "
            f"{spectrogram.seconds:.3f} s; leave data.spectrogram.frames to follow data.clip_seconds"
        )


def read_wave(source: Path | BinaryIO, sample_rate: int) -> np.ndarray:
    """One recording as a mono float32 waveform at ``sample_rate``. Raises ``UnreadableAudio`` for a file that
    soundfile cannot decode, or an empty one."""
    import librosa
    import soundfile

    try:
        wave, rate = soundfile.read(source, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as e:
        raise UnreadableAudio(str(e)) from None
    if len(wave) == 0:
        raise UnreadableAudio("no samples")
    mono = wave.mean(axis=1)
    if rate != sample_rate:
        mono = librosa.resample(mono, orig_sr=rate, target_sr=sample_rate)
    return mono.astype(np.float32)


class UnreadableAudio(Exception):
    """A file that is not audio soundfile reads, a damaged one or an empty one."""


def read_waves(files: Sequence[Path], sample_rate: int, max_bad_files: float) -> tuple[list[np.ndarray], list[int]]:
    """Mono float32 waveforms at ``sample_rate`` and the indices of the files read (unreadable ones are left out:
    named in the log, or a one-line error past ``max_bad_files``, a share of all files)."""
    waves: list[np.ndarray] = []
    kept: list[int] = []
    bad: list[Path] = []
    for index, path in enumerate(files):
        try:
            waves.append(read_wave(path, sample_rate))
        except UnreadableAudio:
            bad.append(path)
            continue
        kept.append(index)
    unreadable_files(bad, len(files), max_bad_files, "audio")
    return waves, kept


def speaker_of(path: Path, speaker_regex: str) -> str:
    """The speaker (or any group that must not cross splits) a file belongs to: the first group of
    ``speaker_regex`` matched in its name (the whole match without a group)."""
    found = re.search(speaker_regex, path.name)
    if found is None:
        raise DataError(
            f"data.speaker_regex={speaker_regex!r} does not match the file name {path.name}; "
            f"every file needs a speaker in its name (or set data.speaker_regex=null)"
        )
    return found.group(1) if found.groups() else found.group(0)
