"""What the tasks need from a ``datasets`` dataset's columns: class labels (names and indices), and rows fetched a
batch at a time straight from the Arrow files."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.utils.data import Dataset

from genlab.data.hf_datasets import HFDatasetSource, check_columns, source_of
from genlab.errors import ConfigError, DataError

LABEL = "label"  # the column of class indices genlab's encodings write


def class_names(source: HFDatasetSource, label_column: str | None) -> tuple[str, ...]:
    """The classes of ``label_column`` over all of the dataset's splits: a ``ClassLabel``'s names; integer labels
    0..max as their numbers; other values (strings) in sorted order. No label column: one class, the dataset's."""
    no_streaming(source)
    if label_column is None:
        return (source.path.rstrip("/").split("/")[-1],)
    splits = source.load()
    first = splits["train"]
    check_columns(first, {"label_column": label_column}, source)
    if is_class_label(first, label_column):
        return tuple(str(n) for n in first.features[label_column].names)
    values = sorted({v for split in splits.values() for v in split.unique(label_column)}, key=str)
    if any(v is None for v in values):
        raise DataError(f"data.label_column={label_column!r}: {source.describe()} has rows without a label")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        if min(values) < 0:
            raise DataError(f"data.label_column={label_column!r}: labels must be 0 or more, found {min(values)}")
        return tuple(str(i) for i in range(max(values) + 1))
    return tuple(sorted(str(v) for v in values))


def is_class_label(dataset: Any, column: str) -> bool:
    """Whether the column is a ``ClassLabel`` (class indices with names), as hub datasets' label columns are."""
    from datasets import ClassLabel

    return bool(dataset.features) and isinstance(dataset.features[column], ClassLabel)


def class_count(node: Any, label_column: str | None) -> int:
    """``data.num_classes`` of the hf_* data configs (a resolver: it gets the source's config node)."""
    return len(class_names(source_of(node), label_column))


def label_encoder(names: Sequence[str], is_class_label: bool) -> Callable[[list], list[int]]:
    """Turns a batch of a label column's values into class indices (``class_names`` order)."""
    if is_class_label or names == tuple(str(i) for i in range(len(names))):
        return lambda values: [int(v) for v in values]
    index = {name: i for i, name in enumerate(names)}
    return lambda values: [index[str(v)] for v in values]


def no_streaming(source: HFDatasetSource) -> None:
    if source.streaming:
        raise ConfigError(
            "data.source.streaming=true: only data=hf_text streams; labelled data (data=hf_labelled_text|hf_images|"
            "hf_audio) is read whole, memory-mapped; set data.source.streaming=false"
        )


class ArrowRows(Dataset):
    """Rows of an Arrow-backed dataset fetched a batch per index list, as tensors of ``columns`` (then
    ``transform``ed): nothing is copied into memory beyond the batch."""

    def __init__(
        self,
        dataset: Any,
        columns: Sequence[str],
        transform: Callable[[tuple[torch.Tensor, ...]], tuple[torch.Tensor, ...]] | None = None,
    ):
        self.dataset = dataset.with_format("torch", columns=list(columns))
        self.columns, self.transform = tuple(columns), transform

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        return tuple(t[0] for t in self.__getitems__([index]))

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        rows = self.dataset[indices]
        batch = tuple(rows[c] for c in self.columns)
        return self.transform(batch) if self.transform is not None else batch

    def subset(self, indices: Sequence[int]) -> ArrowRows:
        return ArrowRows(self.dataset.select(list(indices)), self.columns, self.transform)


def encoded(
    dataset: Any, encode: Callable[[dict], dict], key: str, source: HFDatasetSource, what: str, **options: Any
) -> Any:
    """``dataset.map(encode)`` in batches, its columns replaced by what ``encode`` returns, written to (and next time
    read from) an Arrow file of the source's cache folder named by ``key`` (which must change with anything that
    changes the result), so that nothing is written beside the user's data."""
    return dataset.map(
        encode,
        batched=True,
        remove_columns=dataset.column_names,
        new_fingerprint=key,
        cache_file_name=str(source.cache_folder("hf_map") / f"{key}.arrow"),
        desc=what,
        **options,
    )
