"""A folder of the user's images: its layout (classes, split folders) and its files decoded to arrays.

Layouts: ``root/<class>/*.png`` (class names are the folder names, in sorted order) or a flat ``root/*.png`` (one
class, named after the folder); either may sit in ``root/train``, ``root/val`` and ``root/test``, which are then
the splits. PNG, JPEG, BMP and WebP, any size, gray or colour.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from genlab.errors import DataError

if TYPE_CHECKING:
    from PIL import Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
SPLIT_FOLDERS = ("train", "val", "test")
ALL = "all"  # the files of a folder without split folders, split at random

log = logging.getLogger("genlab")


@dataclass(frozen=True)
class ImageFolder:
    """What a folder holds: class names and, per part (``train``/``val``/``test``, or ``all``), (file, label)."""

    root: Path
    class_names: tuple[str, ...]
    parts: dict[str, list[tuple[Path, int]]]


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _subfolders(folder: Path) -> list[str]:
    return sorted(d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))


def scan_image_folder(root: str | Path) -> ImageFolder:
    """The layout of ``root`` (see the module's docstring), or a one-line error saying what is wrong with it."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"data.root={root}: no such folder; point it at a folder of images")
    split_folders = [s for s in SPLIT_FOLDERS if (root / s).is_dir()]
    if split_folders and "train" not in split_folders:
        raise DataError(f"data.root={root}: has {', '.join(split_folders)}/ but no train/; add train/ or flatten it")
    folders = {s: root / s for s in split_folders} if split_folders else {ALL: root}
    reference = folders.get("train", root)
    classes = tuple(c for c in _subfolders(reference) if _images_in(reference / c))
    parts: dict[str, list[tuple[Path, int]]] = {}
    for part, folder in folders.items():
        if classes:
            unknown = [c for c in _subfolders(folder) if c not in classes and _images_in(folder / c)]
            if unknown:
                raise DataError(
                    f"data.root={root}: {part}/ has classes that train/ has not ({', '.join(unknown)}); "
                    f"every class needs training images"
                )
            parts[part] = [(f, label) for label, c in enumerate(classes) for f in _images_in(folder / c)]
        else:
            parts[part] = [(f, 0) for f in _images_in(folder)]
    if not any(parts.values()):
        raise DataError(f"data.root={root}: {_no_images(root)}")
    for part, files in parts.items():
        counts = Counter(label for _, label in files)
        empty = [c for i, c in enumerate(classes) if counts[i] == 0]
        if empty and part != ALL:
            raise DataError(
                f"data.root={root}: class {', '.join(repr(c) for c in empty)} has no images in {part}/; "
                f"every class needs images in every split folder"
            )
    return ImageFolder(root, classes or (root.name,), parts)


def _no_images(root: Path) -> str:
    found = Counter(p.suffix.lower() or "(no extension)" for p in root.rglob("*") if p.is_file())
    if not found:
        return "the folder is empty"
    listed = ", ".join(f"{suffix} ({n})" for suffix, n in found.most_common(6))
    return f"no image files ({', '.join(IMAGE_SUFFIXES)}) in it; found {listed}"


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


def decode_images(
    files: Sequence[Path], channels: int, image_size: int | None, max_bad_files: float
) -> tuple[np.ndarray, list[int]]:
    """The images as uint8 [N, channels, H, W] and the indices of those decoded (unreadable files are left out:
    named in the log, or a one-line error past ``max_bad_files``, a share of all files)."""
    from PIL import Image, UnidentifiedImageError

    mode = {1: "L", 3: "RGB"}.get(channels)
    if mode is None:
        raise DataError(f"data.channels={channels}: use 1 (grayscale) or 3 (colour)")
    arrays: list[np.ndarray] = []
    kept: list[int] = []
    bad: list[Path] = []
    for index, path in enumerate(files):
        try:
            with Image.open(path) as opened:
                image = opened.convert(mode)
                image.load()
        except (UnidentifiedImageError, OSError, ValueError):
            bad.append(path)
            continue
        if image_size is not None:
            image = _resized_center_crop(image, image_size)
        array = np.asarray(image, dtype=np.uint8)
        if arrays and array.shape != arrays[0].shape:
            raise DataError(
                f"data.image_size=null but the images differ in size ({files[kept[0]].name} is "
                f"{arrays[0].shape[1]}×{arrays[0].shape[0]}, {path.name} {array.shape[1]}×{array.shape[0]}); "
                f"set data.image_size to resize them"
            )
        arrays.append(array)
        kept.append(index)
    if bad:
        names = ", ".join(p.name for p in bad[:5]) + (", ..." if len(bad) > 5 else "")
        if len(bad) > max_bad_files * len(files):
            raise DataError(
                f"data.max_bad_files={max_bad_files}: {len(bad)} of {len(files)} files cannot be read as images "
                f"({names}); remove them or raise data.max_bad_files"
            )
        log.warning(f"data: skipped {len(bad)} of {len(files)} files that cannot be read as images ({names})")
    images = np.stack(arrays)
    return (images[:, None] if channels == 1 else images.transpose(0, 3, 1, 2)), kept


def _resized_center_crop(image: Image.Image, size: int) -> Image.Image:
    """The shorter side resized to ``size``, then the centre ``size``×``size``."""
    from PIL import Image

    width, height = image.size
    scale = size / min(width, height)
    resized = image.resize(
        (max(size, round(width * scale)), max(size, round(height * scale))), Image.Resampling.BICUBIC
    )
    left, top = (resized.width - size) // 2, (resized.height - size) // 2
    return resized.crop((left, top, left + size, top + size))
