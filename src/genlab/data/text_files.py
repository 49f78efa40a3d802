"""Text files as users have them: compressed (``.gz``, ``.bz2``, ``.xz``, ``.zst``), with a byte-order mark, in an
encoding given or detected, and folders of them. Every failure is one line naming the file and the option that
fixes it."""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from genlab.errors import DataError

# what a compressed file's last suffix says it is
COMPRESSIONS: dict[str, Callable[[Path, str], IO[bytes]]] = {
    ".gz": gzip.open,  # type: ignore[dict-item]
    ".bz2": bz2.open,  # type: ignore[dict-item]
    ".xz": lzma.open,  # type: ignore[dict-item]
    ".zst": lambda path, mode: _zstd_open(path, mode),
}
# the files records (one JSON object a line, or CSV rows) come in
RECORD_SUFFIXES = (".jsonl", ".csv")
# the files a folder in data.paths contributes to a corpus (each also compressed)
TEXT_SUFFIXES = (".txt", ".text", ".md", *RECORD_SUFFIXES)
AUTO = "auto"


def text_suffix(path: Path) -> str:
    """The suffix of what the file holds: ``notes.jsonl.gz`` holds ``.jsonl``."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSIONS:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed by its suffix."""
    open_compressed = COMPRESSIONS.get(path.suffix.lower())
    if open_compressed is None:
        return path.read_bytes()
    try:
        with open_compressed(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, lzma.LZMAError, ValueError) as e:
        raise DataError(f"data.paths: {path} is not a readable {path.suffix} file ({e}); is it whole?") from None


def decode(raw: bytes, path: Path, encoding: str = "utf-8") -> str:
    """Bytes as text in ``encoding`` (``auto``: detected by chardet), without a byte-order mark."""
    if encoding == AUTO:
        encoding = detected_encoding(raw, path)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as e:
        raise DataError(
            f"data.paths: {path} is not {encoding} text (byte 0x{e.object[e.start]:02x} at offset {e.start}); "
            f"set data.encoding to the file's encoding, e.g. data.encoding=latin-1, or data.encoding=auto to detect it"
        ) from None
    except LookupError:
        raise DataError(
            f"data.encoding={encoding!r}: no such text encoding; use e.g. utf-8, latin-1, cp1252 or auto"
        ) from None
    return text.removeprefix("\ufeff")  # a byte-order mark (Excel's UTF-8 CSVs) is not text


def detected_encoding(raw: bytes, path: Path) -> str:
    """The encoding chardet finds most likely. (charset-normalizer, the other candidate, read French Latin-1 text
    as Baltic cp1257 where chardet read it right; see tests/unit/test_text_file_forms.py.)"""
    import chardet

    if not raw:
        return "utf-8"
    found = chardet.detect(raw)["encoding"]
    if found is None:
        raise DataError(
            f"data.paths: {path}: data.encoding=auto could not tell its encoding (is it text?); set data.encoding, "
            f"e.g. data.encoding=mac_roman"
        )
    return found


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """A text file's content, decompressed and decoded; one line naming the file when it cannot be."""
    return decode(read_bytes(path), path, encoding)


def expand_paths(paths: Sequence[str], glob: str | None = None, suffixes: Sequence[str] = TEXT_SUFFIXES) -> list[Path]:
    """``data.paths`` with each folder replaced by its files, recursively and in name order: those matching
    ``glob`` if given, else every file whose content suffix is one of ``suffixes``."""
    files: list[Path] = []
    for name in paths:
        path = Path(name).expanduser()
        if not path.is_dir():
            files.append(path)
            continue
        found = sorted(p for p in path.rglob(glob or "*") if p.is_file() and not p.name.startswith("."))
        chosen = found if glob else [p for p in found if text_suffix(p) in suffixes]
        if not chosen:
            kinds = sorted({text_suffix(p) or p.name for p in found})[:8]
            wanted = f"matching data.glob={glob!r}" if glob else f"ending in {', '.join(suffixes)}"
            raise DataError(
                f"data.paths: the folder {path} holds no file {wanted} (found: {', '.join(kinds) or 'nothing'}); "
                f"set data.glob, e.g. data.glob='*.log'"
            )
        files += chosen
    return files


def _zstd_open(path: Path, mode: str) -> Any:
    import zstandard  # imported when a .zst file is read

    return zstandard.open(path, mode)
