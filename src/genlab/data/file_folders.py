"""A folder of the user's files (images, audio): which classes it holds and which files are in which split.

Layouts: ``root/<class>/<files>`` (class names are the folder names, in sorted order) or a flat ``root/<files>``
(one class, named after the folder); either may sit in ``root/train``, ``root/val`` and ``root/test``, which are
then the splits.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from genlab.errors import DataError

SPLIT_FOLDERS = ("train", "val", "test")
log = logging.getLogger("genlab")
ALL = "all"  # the files of a folder without split folders, split at random


@dataclass(frozen=True)
class LabelledFolder:
    """What a folder holds: class names and, per part (``train``/``val``/``test``, or ``all``), (file, label)."""

    root: Path
    class_names: tuple[str, ...]
    parts: dict[str, list[tuple[Path, int]]]


def files_in(folder: Path, suffixes: Sequence[str]) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)


def _subfolders(folder: Path) -> list[str]:
    return sorted(d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))


def scan_folder(
    root: str | Path, suffixes: Sequence[str], kind: str, items_in: Callable[[Path], list[Path]] | None = None
) -> LabelledFolder:
    """The layout of ``root`` (see the module's docstring) for files ending in ``suffixes`` (``kind``: what they
    are, for messages), or a one-line error saying what is wrong with it. ``items_in`` finds the examples in a
    folder when they are not just its files (a clip may be a folder of frames)."""
    root = Path(root).expanduser()

    def _files_in(folder: Path, suffixes: Sequence[str]) -> list[Path]:
        return items_in(folder) if items_in else files_in(folder, suffixes)

    if not root.is_dir():
        raise DataError(f"data.root={root}: no such folder; point it at a folder of {kind} files")
    split_folders = [s for s in SPLIT_FOLDERS if (root / s).is_dir()]
    if split_folders and "train" not in split_folders:
        raise DataError(f"data.root={root}: has {', '.join(split_folders)}/ but no train/; add train/ or flatten it")
    folders = {s: root / s for s in split_folders} if split_folders else {ALL: root}
    reference = folders.get("train", root)
    classes = tuple(c for c in _subfolders(reference) if _files_in(reference / c, suffixes))
    parts: dict[str, list[tuple[Path, int]]] = {}
    for part, folder in folders.items():
        if classes:
            unknown = [c for c in _subfolders(folder) if c not in classes and _files_in(folder / c, suffixes)]
            if unknown:
                raise DataError(
                    f"data.root={root}: {part}/ has classes that train/ has not ({', '.join(unknown)}); "
                    f"every class needs training files"
                )
            parts[part] = [(f, label) for label, c in enumerate(classes) for f in _files_in(folder / c, suffixes)]
        else:
            parts[part] = [(f, 0) for f in _files_in(folder, suffixes)]
    if not any(parts.values()):
        raise DataError(f"data.root={root}: {_nothing_of(root, suffixes, kind)}")
    for part, files in parts.items():
        counts = Counter(label for _, label in files)
        empty = [c for i, c in enumerate(classes) if counts[i] == 0]
        if empty and part != ALL:
            raise DataError(
                f"data.root={root}: class {', '.join(repr(c) for c in empty)} has no {kind} files in {part}/; "
                f"every class needs files in every split folder"
            )
    return LabelledFolder(root, classes or (root.name,), parts)


def _nothing_of(root: Path, suffixes: Sequence[str], kind: str) -> str:
    found = Counter(p.suffix.lower() or "(no extension)" for p in root.rglob("*") if p.is_file())
    if not found:
        return "the folder is empty"
    listed = ", ".join(f"{suffix} ({n})" for suffix, n in found.most_common(6))
    return f"no {kind} files ({', '.join(suffixes)}) in it; found {listed}"


def unreadable_files(bad: Sequence[Path], total: int, max_bad_files: float, kind: str) -> None:
    """Files that could not be read: a one-line error past ``max_bad_files`` (a share of ``total``), else a
    warning naming the first few."""
    if not bad:
        return
    names = ", ".join(p.name for p in bad[:5]) + (", ..." if len(bad) > 5 else "")
    if len(bad) > max_bad_files * total:
        raise DataError(
            f"data.max_bad_files={max_bad_files}: {len(bad)} of {total} files cannot be read as {kind} ({names}); "
            f"remove them or raise data.max_bad_files"
        )
    log.warning(f"data: skipped {len(bad)} of {total} files that cannot be read as {kind} ({names})")
