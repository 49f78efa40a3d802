"""The Hugging Face ``datasets`` library as genlab's general loader: a hub id (fetched and cached by ``datasets``) or
one of its builders over local files (``csv``, ``json``, ``parquet``, ``text``, ``imagefolder``, ``audiofolder``,
...), or a folder written by ``save_to_disk``. The data stays in memory-mapped Arrow files under the cache folder.

datasets 4 dropped dataset loading scripts, so a hub id only ever reads data files: nothing it loads runs code.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from genlab.data.splits import held_out_counts
from genlab.errors import ConfigError, DataError
from genlab.integrations.hf_datasets import fingerprint_of, packaged_builders

if TYPE_CHECKING:
    from datasets import Dataset, IterableDataset

SPLITS = ("train", "val", "test")
# the names datasets' hub datasets give their splits, in the order they are looked for
SPLIT_NAMES = {"train": ("train",), "val": ("validation", "valid", "val", "dev"), "test": ("test",)}
# builders that read local files; any other name that is not a folder is a hub id
LOCAL_BUILDERS = ("csv", "json", "parquet", "text", "arrow", "imagefolder", "audiofolder", "webdataset")


@dataclass(frozen=True)
class HFDatasetSource:
    """Where a ``datasets`` dataset comes from and which of its splits are train, val and test.

    ``path``: a builder of local files with ``data_files`` (a file, a glob, a list, or {split: files}) or
    ``data_dir``; a folder (of data files, or written by ``Dataset.save_to_disk``); or a hub id (``user/name``).
    ``splits`` maps train/val/test to the dataset's split names; by default ``train``, then
    ``validation|valid|val|dev`` and ``test`` are taken where they exist, and a missing val or test split is drawn
    from the training split by the data module's ``val_size``/``test_size``.
    """

    path: str
    name: str | None = None
    data_files: Any = None
    data_dir: str | None = None
    revision: str | None = None
    splits: Mapping[str, str] | None = None
    streaming: bool = False
    cache_dir: str | None = None

    def __post_init__(self) -> None:
        # hashable, so that loading is cached by these settings
        if isinstance(self.data_files, Mapping):
            object.__setattr__(
                self, "data_files", tuple(sorted((str(k), _files(v)) for k, v in self.data_files.items()))
            )
        elif self.data_files is not None:
            object.__setattr__(self, "data_files", _files(self.data_files))
        if self.splits is not None:
            unknown = sorted(set(self.splits) - set(SPLITS))
            if unknown:
                raise ConfigError(f"data.source.splits: {', '.join(unknown)} is not one of train, val, test")
            object.__setattr__(self, "splits", tuple(sorted((str(k), str(v)) for k, v in self.splits.items())))

    def load(self) -> dict[str, Dataset | IterableDataset]:
        """The dataset's train split and whichever of val and test it has, keyed train/val/test."""
        return dict(_load(self))

    def describe(self) -> str:
        return f"data.source.path={self.path}" + (f" (data.source.name={self.name})" if self.name else "")

    def cache_folder(self, name: str) -> Path:
        """A folder of ``cache_dir`` (the system's temporary folder without one) for what is derived from the data:
        nothing is written beside the user's files."""
        root = Path(self.cache_dir).expanduser() if self.cache_dir else Path(tempfile.gettempdir()) / "genlab-cache"
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def _files(value: Any) -> Any:
    if isinstance(value, str):
        return str(Path(value).expanduser()) if not value.startswith(("hf://", "http")) else value
    return tuple(_files(v) for v in value)


def _data_files(source: HFDatasetSource) -> Any:
    if isinstance(source.data_files, tuple) and source.data_files and isinstance(source.data_files[0], tuple):
        return {k: list(v) if isinstance(v, tuple) else v for k, v in source.data_files}
    return list(source.data_files) if isinstance(source.data_files, tuple) else source.data_files


@functools.lru_cache(maxsize=8)
def _load(source: HFDatasetSource) -> tuple[tuple[str, Any], ...]:
    """Loaded once per process for the config's resolvers and the data module alike."""
    import datasets

    path = Path(source.path).expanduser()
    is_saved = path.is_dir() and ((path / "dataset_dict.json").is_file() or (path / "state.json").is_file())
    if is_saved:
        loaded: Any = datasets.load_from_disk(str(path))
        if source.streaming:
            loaded = loaded.to_iterable_dataset() if isinstance(loaded, datasets.Dataset) else loaded
    else:
        _check_builder(source, path)
        try:
            loaded = datasets.load_dataset(
                source.path if not path.exists() else str(path),
                name=source.name,
                data_files=_data_files(source),
                data_dir=source.data_dir,
                revision=source.revision,
                cache_dir=str(source.cache_folder("hf_datasets")),
                streaming=source.streaming,
            )
        except ConnectionError:
            raise DataError(
                f"{source.describe()}: cannot reach the Hugging Face hub (offline?); point data.source.path at a "
                f"local builder and files instead, e.g. data.source.path=parquet data.source.data_files=<files>, or "
                f"at a folder saved with Dataset.save_to_disk"
            ) from None
        except FileNotFoundError as e:
            raise DataError(
                f"{source.describe()}: {_first_line(e)}; check data.source.data_files and data.source.data_dir"
            ) from None
        except ValueError as e:
            raise DataError(f"{source.describe()}: {_first_line(e)}") from None
        except datasets.exceptions.DatasetGenerationError as e:
            raise DataError(
                f"{source.describe()}: datasets cannot read it ({_first_line(_root_cause(e))}){_hint(e)}"
            ) from None
    splits = loaded if isinstance(loaded, Mapping) else {"train": loaded}
    return tuple((split, splits[name]) for split, name in _chosen_splits(source, list(splits)).items())


def _check_builder(source: HFDatasetSource, path: Path) -> None:
    """A name that is neither a folder, a hub id (owner/name) nor one of datasets' builders is a typo to say so
    of at once, not after a minute of retries to reach the hub."""
    builders = packaged_builders()
    if path.exists() or source.path in builders or "/" in source.path:
        if source.path in LOCAL_BUILDERS and source.data_files is None and source.data_dir is None:
            raise ConfigError(
                f"data.source.path={source.path} reads local files: set data.source.data_files (a file, a glob or a "
                f"list) or data.source.data_dir"
            )
        return
    close = difflib.get_close_matches(source.path, builders, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    raise DataError(
        f"data.source.path={source.path}: no such folder and not a builder of datasets ({hint}local builders: "
        f"{', '.join(LOCAL_BUILDERS)}); a hub dataset is named owner/name"
    )


def _chosen_splits(source: HFDatasetSource, available: Sequence[str]) -> dict[str, str]:
    """{train|val|test: the dataset's split name} for the splits it has."""
    if source.splits is not None:
        chosen = dict(source.splits)
        missing = [name for name in chosen.values() if name not in available]
        if missing:
            raise DataError(
                f"data.source.splits: {source.describe()} has no split {', '.join(missing)} (its splits: "
                f"{', '.join(available)})"
            )
        if "train" not in chosen:
            raise ConfigError("data.source.splits: name the dataset's training split, e.g. {train: train}")
        return chosen
    chosen = {
        split: next(n for n in names if n in available)
        for split, names in SPLIT_NAMES.items()
        if set(names) & set(available)
    }
    if "train" not in chosen:
        if len(available) != 1:
            raise DataError(
                f"{source.describe()} has no split named train (its splits: {', '.join(available)}); choose one with "
                f"data.source.splits={{train: <split>}}"
            )
        chosen["train"] = available[0]
    return chosen


def _root_cause(error: BaseException) -> BaseException:
    while error.__cause__ is not None:
        error = error.__cause__
    return error


def _hint(error: BaseException) -> str:
    if "torchcodec" in str(_root_cause(error)):
        # datasets 5 encodes every Audio value through torchcodec (which needs FFmpeg), even a file's path
        return "; install torchcodec and FFmpeg, or read a folder of recordings with data=audio_folder"
    return ""


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def check_columns(
    dataset: Dataset | IterableDataset, wanted: Mapping[str, str | None], source: HFDatasetSource
) -> None:
    """A one-line error naming the ``data.<key>`` whose column the dataset lacks, and the columns it has."""
    columns = list(dataset.column_names or [])
    for key, column in wanted.items():
        if column is not None and columns and column not in columns:
            raise DataError(
                f"data.{key}={column!r}: {source.describe()} has no such column (its columns: {', '.join(columns)})"
            )


def split_datasets(
    source: HFDatasetSource, val_size: float, test_size: float, split_seed: int, columns: Mapping[str, str | None]
) -> dict[str, Dataset | IterableDataset]:
    """train, val and test: the dataset's own splits where it has them, the others drawn from its training split
    (at random by ``split_seed``; in a stream, the first examples). Selecting keeps the Arrow data where it is.
    ``columns`` ({config key: column}) are the columns the data module reads: checked first."""
    splits, drawn = held_out_splits(source, val_size, test_size, split_seed, columns)
    if drawn:
        train = splits["train"]
        kept = np.ones(len(train), dtype=bool)
        kept[np.concatenate(list(drawn.values()))] = False
        splits["train"] = _selected(train, np.flatnonzero(kept), source, f"train-{split_seed}-{int((~kept).sum())}")
    return splits


def held_out_splits(
    source: HFDatasetSource, val_size: float, test_size: float, split_seed: int, columns: Mapping[str, str | None]
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``split_datasets`` without taking the drawn rows out of the training split: (the splits, with the whole
    training split as train, {split: the sorted rows of the training split it took}). Only the drawn rows are
    ever listed, so a corpus of any size costs memory in proportion to its held-out splits alone."""
    import torch

    from genlab.data.large_shuffle import KeyedPermutation

    splits = source.load()
    train = splits["train"]
    check_columns(train, columns, source)
    missing = {
        f"data.{split}_size": size for split, size in (("val", val_size), ("test", test_size)) if split not in splits
    }
    names = [key.split(".")[1].removesuffix("_size") for key in missing]
    if not missing:
        return splits, {}
    if source.streaming:
        if any(size < 1 for size in missing.values()):
            raise ConfigError(
                f"{', '.join(f'{k}={v}' for k, v in missing.items())}: a streamed dataset has no length to take a "
                f"share of; give a count of examples (taken from the start of the stream), or use its own splits"
            )
        start = 0
        for split, count in zip(names, (int(size) for size in missing.values())):
            splits[split] = train.skip(start).take(count)
            start += count
        splits["train"] = train.skip(start)
        return splits, {}
    counts = held_out_counts(len(train), missing, source.describe())
    keys = torch.randint(0, 2**62, (4,), generator=torch.Generator().manual_seed(split_seed)).tolist()
    chosen = KeyedPermutation(len(train), keys)(np.arange(sum(counts)))  # the first rows of a random order
    drawn, start = {}, 0
    for split, count in zip(names, counts):
        drawn[split] = np.sort(chosen[start : start + count])
        splits[split] = _selected(train, drawn[split], source, f"{split}-{split_seed}-{count}")
        start += count
    return {split: splits[split] for split in SPLITS}, drawn


def _selected(dataset: Dataset, indices: np.ndarray, source: HFDatasetSource, key: str) -> Dataset:
    """``dataset.select``, its indices mapping written to a file under the cache folder (memory-mapped) instead of
    held in memory: 8 bytes a row adds up for a corpus of millions of texts."""
    name = fingerprint(fingerprint_of(dataset), key)
    indices_file = source.cache_folder("hf_map") / f"{name}-indices.arrow"
    return dataset.select(indices, indices_cache_file_name=str(indices_file), new_fingerprint=name)


def fingerprint(*parts: object) -> str:
    """A cache key for ``datasets.map`` results and genlab's own files derived from a dataset (bytes are hashed as
    they are, anything else as its text)."""
    key = hashlib.sha256()
    for part in parts:
        key.update(part if isinstance(part, bytes) else str(part).encode())
        key.update(b"\0")
    return key.hexdigest()[:32]


def source_of(node: Any) -> HFDatasetSource:
    """The source a config node describes (the resolvers get the node, not the built object)."""
    if isinstance(node, HFDatasetSource):
        return node
    from omegaconf import OmegaConf

    written = OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node
    if not isinstance(written, dict):
        raise ConfigError(f"data.source: expected the settings of a datasets source, got {written!r}")
    return HFDatasetSource(**{str(k): v for k, v in written.items() if not str(k).startswith("_")})
