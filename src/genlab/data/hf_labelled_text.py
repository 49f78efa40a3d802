"""Labelled texts from a ``datasets`` dataset (genlab.data.hf_datasets) for sequence classification, tokenized by
``datasets.map`` into its Arrow cache and read from there a batch at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genlab.data.hf_columns import (
    LABEL,
    ArrowRows,
    class_names,
    encoded,
    is_class_label,
    label_encoder,
    no_streaming,
)
from genlab.data.hf_datasets import SPLITS, HFDatasetSource, fingerprint, split_datasets
from genlab.data.in_memory import InMemoryDataModule
from genlab.data.language_modeling import TokenizerFactory
from genlab.errors import DataError

_COLUMNS = ("input_ids", "attention_mask", LABEL)


class HFLabelledTextDataModule(InMemoryDataModule):
    """``text_column`` classified by ``label_column`` (a ClassLabel, integers, or names in sorted order),
    right-padded to ``max_length`` tokens by the model's tokenizer."""

    def __init__(
        self,
        source: HFDatasetSource,
        tokenizer: TokenizerFactory,
        text_column: str = "text",
        label_column: str = "label",
        num_classes: int = 2,
        max_length: int = 128,
        batch_size: int = 8,
        val_size: float = 0.1,
        test_size: float = 0.1,
        split_seed: int = 0,
        tokenizer_texts: int = 20000,
        num_workers: int = 0,
    ):
        super().__init__()
        no_streaming(source)
        self.source, self.tokenizer_factory = source, tokenizer
        self.text_column, self.label_column = text_column, label_column
        self.num_classes, self.max_length, self.batch_size = num_classes, max_length, batch_size
        self.val_size, self.test_size, self.split_seed = val_size, test_size, split_seed
        self.tokenizer_texts, self.num_workers = tokenizer_texts, num_workers
        self.tokenizer: Any = None
        self.class_names: tuple[str, ...] = ()

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        columns = {"text_column": self.text_column, "label_column": self.label_column}
        splits = split_datasets(self.source, self.val_size, self.test_size, self.split_seed, columns)
        train = splits["train"]
        self.class_names = class_names(self.source, self.label_column)
        if len(self.class_names) != self.num_classes:
            raise DataError(
                f"data.num_classes={self.num_classes} but {self.source.describe()} has {len(self.class_names)} "
                f"classes in data.label_column={self.label_column!r}"
            )
        if self.tokenizer is None:
            texts = train.select(range(min(len(train), self.tokenizer_texts)))[self.text_column]
            self.tokenizer = self.tokenizer_factory(texts=[str(t) for t in texts])
        labels = label_encoder(self.class_names, is_class_label(train, self.label_column))

        def encode(batch: dict) -> dict:
            tokens = self.tokenizer(
                [str(t) for t in batch[self.text_column]],
                padding="max_length",
                truncation=True,
                max_length=self.max_length,
            )
            return {
                "input_ids": tokens["input_ids"],
                "attention_mask": tokens["attention_mask"],
                LABEL: labels(batch[self.label_column]),
            }

        for split in SPLITS:
            data = splits[split]
            key = fingerprint(
                data._fingerprint,
                self.tokenizer.backend_tokenizer.to_str(),
                self.text_column,
                self.label_column,
                self.max_length,
                self.class_names,
            )
            rows = encoded(data, encode, key, self.source.cache_dir, f"data: tokenizing the {split} split")
            self.splits[split] = ArrowRows(rows, _COLUMNS)  # type: ignore[assignment]

    def train_subset(self, indices: Sequence[int]) -> Any:
        return self.split_dataset("train").subset(indices)  # type: ignore[attr-defined]

    def train_token_lengths(self) -> Any:
        """Tokens per training text (up to data.max_length)."""
        return self.split_dataset("train").dataset["attention_mask"].sum(dim=1)  # type: ignore[attr-defined]
