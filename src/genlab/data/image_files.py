"""A folder of the user's images (genlab.data.file_folders for the layouts), decoded to arrays: PNG, JPEG, BMP and
WebP, any size, gray or colour."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from genlab.data.file_folders import LabelledFolder, scan_folder, unreadable_files
from genlab.errors import DataError

if TYPE_CHECKING:
    from PIL import Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def scan_image_folder(root: str | Path) -> LabelledFolder:
    return scan_folder(root, IMAGE_SUFFIXES, "image")


def image_folder_classes(root: str) -> int:
    """How many classes ``root`` holds (a flat folder: 1): ``data.num_classes`` of data=image_folder."""
    return len(scan_image_folder(root).class_names)


def image_folder_shape(root: str, channels: int, image_size: int | None) -> list[int]:
    """``data.input_shape`` of data=image_folder: [channels, size, size], or, without ``image_size``, the size of
    the folder's first image (they must all share it)."""
    if image_size is not None:
        return [int(channels), int(image_size), int(image_size)]
    from PIL import Image

    folder = scan_image_folder(root)
    first = next(f for files in folder.parts.values() for f, _ in files)
    with Image.open(first) as image:
        width, height = image.size
    return [int(channels), height, width]


def image_mode(channels: int) -> str:
    """PIL's mode for ``data.channels``."""
    mode = {1: "L", 3: "RGB"}.get(channels)
    if mode is None:
        raise DataError(f"data.channels={channels}: use 1 (grayscale) or 3 (colour)")
    return mode


def decode_image(source: Path | BinaryIO, mode: str, image_size: int | None) -> np.ndarray:
    """One image as uint8 [H, W] (gray) or [H, W, 3], resized and centre-cropped to ``image_size`` if given.
    Raises ``UnreadableImage`` for a file that is not an image PIL can decode."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(source) as opened:
            image = opened.convert(mode)
            image.load()
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise UnreadableImage(str(e)) from None
    if image_size is not None:
        image = resized_center_crop(image, image_size)
    return np.asarray(image, dtype=np.uint8)


class UnreadableImage(Exception):
    """A file that is not an image, or a damaged one."""


def channels_first(images: np.ndarray) -> np.ndarray:
    """[N, H, W] (gray) or [N, H, W, C] as [N, C, H, W]."""
    return images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)


def decode_images(
    files: Sequence[Path], channels: int, image_size: int | None, max_bad_files: float
) -> tuple[np.ndarray, list[int]]:
    """The images as uint8 [N, channels, H, W] and the indices of those decoded (unreadable files are left out:
    named in the log, or a one-line error past ``max_bad_files``, a share of all files)."""
    mode = image_mode(channels)
    arrays: list[np.ndarray] = []
    kept: list[int] = []
    bad: list[Path] = []
    for index, path in enumerate(files):
        try:
            array = decode_image(path, mode, image_size)
        except UnreadableImage:
            bad.append(path)
            continue
        if arrays and array.shape != arrays[0].shape:
            raise DataError(
                f"data.image_size=null but the images differ in size ({files[kept[0]].name} is "
                f"{arrays[0].shape[1]}×{arrays[0].shape[0]}, {path.name} {array.shape[1]}×{array.shape[0]}); "
                f"set data.image_size to resize them"
            )
        arrays.append(array)
        kept.append(index)
    unreadable_files(bad, len(files), max_bad_files, "images")
    return channels_first(np.stack(arrays)), kept


def resized_center_crop(image: Image.Image, size: int) -> Image.Image:
    """The shorter side resized to ``size``, then the centre ``size``×``size``."""
    from PIL import Image

    width, height = image.size
    scale = size / min(width, height)
    resized = image.resize(
        (max(size, round(width * scale)), max(size, round(height * scale))), Image.Resampling.BICUBIC
    )
    left, top = (resized.width - size) // 2, (resized.height - size) // 2
    return resized.crop((left, top, left + size, top + size))
