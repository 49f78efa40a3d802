from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from genlab.audio.spectrogram import MelSpectrogram, normalize_peak
from genlab.data.audio_files import check_clip_length, read_waves, scan_audio_folder, speaker_of
from genlab.data.folder_data import FolderDataModule


class AudioFolderDataModule(FolderDataModule):
    """The user's own recordings (genlab.data.file_folders for the layouts) as the log-mel spectrogram images of
    data=spoken_digits ([1, n_mels, frames] in [0, 1], then normalized by ``mean``/``std``): each file mono,
    resampled to the spectrogram's rate, peak-normalized and cut or zero-padded to its clip length.
    ``speaker_regex`` (its first group is the speaker in a file's name) keeps each speaker in one split.
    ``clip_seconds`` is the clip length the config derived ``spectrogram.frames`` from, checked against it."""

    def __init__(
        self,
        root: str,
        spectrogram: MelSpectrogram,
        input_shape: Sequence[int],
        num_classes: int,
        clip_seconds: float | None = None,
        speaker_regex: str | None = None,
        max_bad_files: float = 0.0,
        **kwargs: Any,
    ):
        check_clip_length(spectrogram, clip_seconds)
        super().__init__(partial(scan_audio_folder, root), input_shape=input_shape, num_classes=num_classes, **kwargs)
        self.spectrogram, self.speaker_regex, self.max_bad_files = spectrogram, speaker_regex, max_bad_files

    def read_inputs(self, paths: Sequence[Path]) -> tuple[np.ndarray, list[int]]:
        waves, kept = read_waves(paths, self.spectrogram.sample_rate, self.max_bad_files)
        return self.spectrogram.to_images([normalize_peak(w) for w in waves])[:, None], kept

    def group_of(self, path: Path) -> str | None:
        return None if self.speaker_regex is None else speaker_of(path, self.speaker_regex)
