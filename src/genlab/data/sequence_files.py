"""Sequence files a user brings: time series in CSV (one row per series, or long format), NumPy (.npy/.npz) and
the UCR/UEA archive's .tsv and .ts layouts, read to one array [series, steps, features] with optional labels."""

from __future__ import annotations

import csv
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genlab.errors import DataError

SUFFIXES = (".csv", ".npy", ".npz", ".tsv", ".ts")


@dataclass(frozen=True)
class Sequences:
    """Series of one length: ``values`` [N, T, F] float32, ``labels`` [N] class indices or None, the class names."""

    values: np.ndarray
    labels: np.ndarray | None
    class_names: tuple[str, ...]


@dataclass(frozen=True)
class SequenceFile:
    """Where the series are and how to read them.

    - ``.csv`` with ``series_column`` (long format): one row per (series, time step), ``time_column`` orders the
      steps, ``value_columns`` are the features (default: every other numeric column), ``label_column`` the
      series' class. Without ``series_column`` (wide format): one row per series, its ``value_columns`` (default:
      every column but the label) the steps of a univariate series.
    - ``.npy``: an array [N, T] or [N, T, F]; ``.npz``: arrays ``x`` and, if labelled, ``y``.
    - ``.tsv`` (UCR): the class, then the values, tab separated; ``.ts`` (UCR/UEA): ``@`` header lines, then a
      series a line, its dimensions separated by ``:``, the class last.

    Series of different lengths need ``length`` (each cut or zero-padded at the end to it).
    """

    path: str
    label_column: str | None = None
    value_columns: Sequence[str] | None = None
    series_column: str | None = None
    time_column: str | None = None
    length: int | None = None

    def __post_init__(self) -> None:
        if self.value_columns is not None:  # a tuple: the reader caches by these settings
            object.__setattr__(self, "value_columns", tuple(self.value_columns))

    def read(self) -> Sequences:
        path = Path(self.path).expanduser()
        if not path.is_file():
            raise DataError(f"data.source.path={path}: no such file")
        if path.suffix.lower() not in SUFFIXES:
            raise DataError(f"data.source.path={path}: not a sequence file ({', '.join(SUFFIXES)})")
        stamp = path.stat().st_mtime_ns
        return _read(self, str(path), stamp)


@functools.lru_cache(maxsize=4)
def _read(source: SequenceFile, path: str, stamp: int) -> Sequences:
    """Read once per process for a file's version: the config reads the shape, the data module the values."""
    suffix = Path(path).suffix.lower()
    readers = {".csv": _read_csv, ".npy": _read_numpy, ".npz": _read_numpy, ".tsv": _read_ucr_tsv, ".ts": _read_ucr_ts}
    series, raw_labels = readers[suffix](source, Path(path))
    if not series:
        raise DataError(f"data.source.path={path}: no series in it")
    values = _one_length(series, source.length, path)
    if raw_labels is None:
        return Sequences(values, None, ())
    names = sorted({str(label) for label in raw_labels}, key=_natural)
    index = {name: i for i, name in enumerate(names)}
    return Sequences(values, np.asarray([index[str(label)] for label in raw_labels]), tuple(names))


def _natural(name: str) -> tuple:
    try:
        return (0, float(name), "")
    except ValueError:
        return (1, 0.0, name)


def _number(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise DataError(f"{where}: {text!r} is not a number; sequences hold numbers only") from None


def _one_length(series: list[np.ndarray], length: int | None, path: str) -> np.ndarray:
    lengths = {len(s) for s in series}
    if length is None:
        if len(lengths) > 1:
            raise DataError(
                f"data.source.path={path}: the series have different lengths ({min(lengths)} to {max(lengths)} "
                f"steps); set data.source.length to cut or zero-pad them to one"
            )
        length = lengths.pop()
    out = np.zeros((len(series), length, series[0].shape[1]), dtype=np.float32)
    for i, s in enumerate(series):
        out[i, : min(length, len(s))] = s[:length]
    return out


def _read_csv(source: SequenceFile, path: Path) -> tuple[list[np.ndarray], list | None]:
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    if not rows:
        raise DataError(f"data.source.path={path}: no rows under the header")
    columns = list(rows[0])
    for key in ("label_column", "series_column", "time_column"):
        name = getattr(source, key)
        if name is not None and name not in columns:
            raise DataError(f"data.source.{key}={name!r}: not a column of {path} (columns: {', '.join(columns)})")
    skip = {source.label_column, source.series_column, source.time_column}
    values = source.value_columns or [c for c in columns if c not in skip]
    unknown = [c for c in values if c not in columns]
    if unknown:
        raise DataError(
            f"data.source.value_columns: {', '.join(unknown)} not among the columns of {path} ({', '.join(columns)})"
        )

    def number(row: int, column: str) -> float:
        return _number(rows[row][column], f"{path} row {row + 2}, column {column!r}")

    if source.series_column is None:  # wide: a row per series, one feature
        series = [np.asarray([[number(r, c)] for c in values], dtype=np.float32) for r in range(len(rows))]
        labels = [rows[r][source.label_column] for r in range(len(rows))] if source.label_column else None
        return series, labels
    by_series: dict[str, list[int]] = {}
    for r, row in enumerate(rows):
        by_series.setdefault(row[source.series_column], []).append(r)
    series, labels = [], []
    for members in by_series.values():
        if source.time_column is not None:
            members = sorted(members, key=lambda r: number(r, source.time_column))  # type: ignore[arg-type]
        series.append(np.asarray([[number(r, c) for c in values] for r in members], dtype=np.float32))
        if source.label_column:
            labels.append(rows[members[0]][source.label_column])
    return series, labels if source.label_column else None


def _read_numpy(source: SequenceFile, path: Path) -> tuple[list[np.ndarray], list | None]:
    try:
        if path.suffix.lower() == ".npy":
            x, y = np.load(path, allow_pickle=False), None
        else:
            with np.load(path, allow_pickle=False) as arrays:
                if "x" not in arrays:
                    raise DataError(f"data.source.path={path}: no array 'x' in it (arrays: {', '.join(arrays.files)})")
                x, y = arrays["x"], arrays.get("y")
    except ValueError as e:  # an object array would need pickle, which could run code
        raise DataError(f"data.source.path={path}: not a plain numeric array ({e})") from None
    if x.ndim not in (2, 3) or not np.issubdtype(x.dtype, np.number):
        raise DataError(
            f"data.source.path={path}: x is {x.dtype} {list(x.shape)}; expected numbers [N, T] or [N, T, F]"
        )
    x = x.astype(np.float32)
    series = list(x[:, :, None] if x.ndim == 2 else x)
    return series, None if y is None else list(y.tolist())


def _read_ucr_tsv(source: SequenceFile, path: Path) -> tuple[list[np.ndarray], list | None]:
    series, labels = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        label, *steps = line.split("\t")
        where = f"{path} line {number}"
        series.append(np.asarray([[_number(v, where)] for v in steps if v.strip()], dtype=np.float32))
        labels.append(label.strip())
    return series, labels


def _read_ucr_ts(source: SequenceFile, path: Path) -> tuple[list[np.ndarray], list | None]:
    series, labels = [], []
    labelled = True
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith("@"):
            if text.lower().startswith("@classlabel"):
                labelled = text.split()[1].lower() == "true"
            continue
        *dimensions, last = text.split(":")
        if not labelled:
            dimensions, last = [*dimensions, last], ""
        where = f"{path} line {number}"
        steps = [[_number(v, where) for v in d.split(",") if v.strip()] for d in dimensions]
        if len({len(d) for d in steps}) > 1:
            raise DataError(f"{where}: its dimensions have different lengths ({', '.join(str(len(d)) for d in steps)})")
        series.append(np.asarray(steps, dtype=np.float32).T)
        labels.append(last.strip())
    return series, labels if labelled else None
