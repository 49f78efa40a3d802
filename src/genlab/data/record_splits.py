"""Records (dicts) for the data modules that read them one by one (chat conversations, preference pairs), from the
user's .jsonl/.csv files (``data.paths``) or a Hugging Face ``datasets`` dataset (``data.source``), split into
train/val/test, each with the place it came from for error messages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from genlab.data.hf_datasets import held_out_splits
from genlab.data.splits import random_splits
from genlab.data.text_corpora import read_records
from genlab.data.text_files import RECORD_SUFFIXES, expand_paths
from genlab.errors import ConfigError, DataError

SPLITS = ("train", "val", "test")
T = TypeVar("T")


def record_splits(
    paths: Sequence[str] | None,
    source: Any,
    read: Callable[[dict[str, Any], str], T],
    encoding: str,
    val_size: float,
    test_size: float,
    split_seed: int,
    what: str,
) -> dict[str, list[T]]:
    """What ``read(record, where)`` makes of each record (``where`` names it for errors: "data.paths: <file> record
    <n>"), every record read before any is split: those of ``paths`` split at random by ``split_seed``, those of
    ``source`` by its own splits (a missing val or test split drawn from its training split by
    ``hf_datasets.held_out_splits``, each record still named by its row there), keyed train/val/test."""
    if bool(paths) == (source is not None):
        raise ConfigError(f"data.paths or data.source: give one of them, the files or the dataset of the {what}")
    if source is None:
        found = [
            read(record, f"data.paths: {path} record {number}")
            for path in expand_paths(paths or [], suffixes=RECORD_SUFFIXES)
            for number, record in enumerate(read_records(path, encoding), 1)
        ]
        if not found:
            raise DataError(f"data.paths: no {what} in {', '.join(map(str, paths or []))}")
        index = random_splits(len(found), val_size, test_size, split_seed, f"the {what}")
        return {split: [found[i] for i in index[split]] for split in SPLITS}
    # the rows a missing val or test split takes are drawn as for every datasets data module (hf_datasets)
    splits, drawn = held_out_splits(source, val_size, test_size, split_seed, columns={})
    rows = {
        split: [read(dict(record), f"{source.describe()} {split} row {n}") for n, record in enumerate(dataset, 1)]
        for split, dataset in splits.items()
        if split not in drawn
    }
    if not rows.get("train"):
        raise DataError(f"{source.describe()}: no {what} in its training split")
    if drawn:
        train, taken = rows["train"], {int(i) for rows_of in drawn.values() for i in rows_of}
        rows.update({split: [train[i] for i in rows_of] for split, rows_of in drawn.items()})
        rows["train"] = [record for i, record in enumerate(train) if i not in taken]
    return rows
