"""A folder of the user's short clips (genlab.data.file_folders for the layouts): video files (GIF; MP4, WebM,
AVI, MOV, MKV through PyAV) or folders of frame images, one clip each."""

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from genlab.data.file_folders import LabelledFolder, scan_folder, unreadable_files
from genlab.data.folder_data import FolderDataModule
from genlab.data.image_files import channels_first, image_mode, resized_center_crop
from genlab.errors import DataError
from genlab.generation.video_files import FRAME_SUFFIXES, VIDEO_SUFFIXES, read_video


def clips_in(folder: Path) -> list[Path]:
    """The clips under ``folder``: video files, and folders that hold frame images."""
    found = []
    for path in sorted(folder.rglob("*")):
        if (path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES) or (
            path.is_dir() and any(f.is_file() and f.suffix.lower() in FRAME_SUFFIXES for f in path.iterdir())
        ):
            found.append(path)
    return found


def scan_video_folder(root: str | Path) -> LabelledFolder:
    return scan_folder(root, (*VIDEO_SUFFIXES, "folders of frames"), "clip", clips_in)


def video_folder_classes(root: str) -> int:
    """How many classes ``root`` holds (a flat folder: 1): ``data.num_classes`` of data=video_folder."""
    return len(scan_video_folder(root).class_names)


def evenly_spaced(count: int, wanted: int) -> np.ndarray:
    """``wanted`` frame indices spread over a clip of ``count`` frames (repeating frames of a shorter clip)."""
    return np.round(np.linspace(0, count - 1, wanted)).astype(int)


def decode_clip(path: Path, frames: int, size: int, channels: int) -> np.ndarray:
    """A clip as uint8 [channels, frames, size, size]: ``frames`` frames evenly spaced over it, each resized and
    centre-cropped."""
    from PIL import Image

    video = read_video(path)
    mode = image_mode(channels)
    picked = [
        np.asarray(resized_center_crop(Image.fromarray(video[i]).convert(mode), size))
        for i in evenly_spaced(len(video), frames)
    ]
    return channels_first(np.stack(picked)).transpose(1, 0, 2, 3)


class VideoFolderDataModule(FolderDataModule):
    """The user's own clips, labelled by class folder (or one class), as [channels, frames, size, size] in [0, 1]
    normalized like every image data module: ``frames`` frames evenly spaced over each clip, each resized and
    centre-cropped to ``size``. Unreadable clips are a one-line error naming them, or skipped and named up to
    ``max_bad_files`` (a share)."""

    def __init__(
        self,
        root: str,
        input_shape: Sequence[int],
        num_classes: int,
        frames: int = 8,
        size: int = 32,
        channels: int = 3,
        max_bad_files: float = 0.0,
        **kwargs: Any,
    ):
        if frames < 1 or size < 1:
            raise DataError(f"data.frames={frames}, data.size={size}: both must be at least 1")
        super().__init__(partial(scan_video_folder, root), input_shape=input_shape, num_classes=num_classes, **kwargs)
        self.frames, self.size, self.channels, self.max_bad_files = frames, size, channels, max_bad_files

    def read_inputs(self, paths: Sequence[Path]) -> tuple[np.ndarray, list[int]]:
        clips, kept, bad = [], [], []
        for index, path in enumerate(paths):
            try:
                clips.append(decode_clip(path, self.frames, self.size, self.channels))
            except DataError:
                bad.append(path)
                continue
            kept.append(index)
        unreadable_files(bad, len(paths), self.max_bad_files, "clips")
        return np.stack(clips).astype(np.float32) / 255.0, kept
