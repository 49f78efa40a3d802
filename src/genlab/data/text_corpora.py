"""Where texts come from: Debian's fortunes, and the user's own .txt, .jsonl or .csv files."""

import csv
import io
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from genlab.data.language_modeling import LanguageModelingDataModule
from genlab.data.text_files import RECORD_SUFFIXES, expand_paths, read_text, text_suffix
from genlab.errors import DataError

DEBIAN_FORTUNES = "/usr/share/games/fortunes"
_SEPARATOR = re.compile(r"^%\s*$", flags=re.M)


def read_fortunes(root: str, files: Sequence[str] | None = None) -> list[str]:
    """Every fortune in the ``fortune`` files under root (items separated by ``%`` lines)."""
    folder = Path(root)
    if not folder.is_dir():
        raise DataError(
            f"data.root: {root} is not a folder; install the fortunes with 'apt-get install fortunes fortunes-min' or set data.root"
        )
    paths = (
        [folder / f for f in files]
        if files
        else [
            p
            for p in sorted(folder.iterdir())
            if p.is_file() and not p.is_symlink() and p.suffix not in (".dat", ".u8")
        ]
    )
    texts = []
    for path in paths:
        if not path.is_file():
            raise DataError(f"data.files: {path} does not exist")
        content = path.read_text(encoding="utf-8", errors="replace")
        texts += [item.strip("\n") for item in _SEPARATOR.split(content) if item.strip()]
    if not texts:
        raise DataError(f"data.root: no fortunes found under {root}")
    return texts


def _check_readable(path: Path) -> None:
    if not path.is_file():
        raise DataError(f"data.paths: {path} does not exist")
    if path.stat().st_size == 0:
        raise DataError(f"data.paths: {path} is empty")


def read_records(path: Path, encoding: str = "utf-8") -> list[dict]:
    """The records of a .jsonl (one JSON object a line) or .csv (a header row) file that exists and is not empty,
    compressed or not (genlab.data.text_files)."""
    _check_readable(path)
    content = read_text(path, encoding)
    if text_suffix(path) != ".jsonl":
        return list(csv.DictReader(io.StringIO(content, newline="")))
    records = []
    for number, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"data.paths: {path} line {number} is not JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(record, dict):
            raise DataError(f"data.paths: {path} line {number} is a JSON {type(record).__name__}, not an object")
        records.append(record)
    return records


def read_text_files(
    paths: Sequence[str],
    text_column: str = "text",
    separator: str | None = None,
    encoding: str = "utf-8",
    glob: str | None = None,
) -> list[str]:
    """Texts from .txt (one text per file, or split on ``separator`` lines), .jsonl and .csv files, compressed or
    not; a folder gives its files (``glob``, or every text file)."""
    texts: list[str] = []
    for path in expand_paths(paths, glob):
        if text_suffix(path) in RECORD_SUFFIXES:
            for number, record in enumerate(read_records(path, encoding), 1):
                if text_column not in record:
                    raise DataError(
                        f"data.text_column={text_column!r}: not in record {number} of {path} (fields: {', '.join(record)})"
                    )
                texts.append(str(record[text_column]))
            continue
        _check_readable(path)
        content = read_text(path, encoding)
        texts += re.split(f"^{re.escape(separator)}$", content, flags=re.M) if separator else [content]
    return texts


def read_labelled_files(
    paths: Sequence[str], text_column: str, label_column: str, encoding: str = "utf-8", glob: str | None = None
) -> tuple[list[str], list]:
    """(texts, raw labels) from .jsonl and .csv files, compressed or not; a folder gives its files (``glob``, or
    every .jsonl and .csv file)."""
    texts, labels = [], []
    for path in expand_paths(paths, glob, RECORD_SUFFIXES):
        if text_suffix(path) not in RECORD_SUFFIXES:
            raise DataError(f"data.paths: {path} is not .jsonl or .csv (labelled examples need a label column)")
        for number, record in enumerate(read_records(path, encoding), 1):
            for column, key in ((text_column, "text_column"), (label_column, "label_column")):
                if column not in record:
                    raise DataError(
                        f"data.{key}={column!r}: not in record {number} of {path} (fields: {', '.join(record)})"
                    )
            texts.append(str(record[text_column]))
            labels.append(record[label_column])
    return texts, labels


class FortunesDataModule(LanguageModelingDataModule):
    """The 15,000 fortunes of Debian's ``fortunes`` and ``fortunes-min`` packages."""

    def __init__(self, root: str = DEBIAN_FORTUNES, files: Sequence[str] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.root, self.files = root, files

    def load_texts(self) -> list[str]:
        return read_fortunes(self.root, self.files)


class TextFilesDataModule(LanguageModelingDataModule):
    """The user's own texts: .txt, .jsonl or .csv files (``text_column`` names the field) in ``encoding``
    (``auto``: detected), compressed or not, or folders of them (``glob`` chooses which files)."""

    def __init__(
        self,
        paths: Sequence[str],
        text_column: str = "text",
        separator: str | None = None,
        encoding: str = "utf-8",
        glob: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.paths, self.text_column, self.separator, self.encoding = list(paths), text_column, separator, encoding
        self.glob = glob

    def load_texts(self) -> list[str]:
        return read_text_files(self.paths, self.text_column, self.separator, self.encoding, self.glob)
