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
from genlab.data.text_classification import TextClassificationDataModule
from genlab.errors import DataError
from genlab.integrations.hf_datasets import fingerprint_of

_COLUMNS = ("input_ids", "attention_mask", LABEL)


class HFLabelledTextDataModule(TextClassificationDataModule):
    """``text_column`` classified by ``label_column`` (a ClassLabel, integers, or names in sorted order),
    right-padded to ``max_length`` tokens by the model's tokenizer (a trained one learns from the first
    ``tokenizer_texts`` training texts)."""

    def __init__(
        self,
        source: HFDatasetSource,
        text_column: str = "text",
        label_column: str = "label",
        tokenizer_texts: int = 20000,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        no_streaming(source)
        self.source, self.text_column, self.label_column = source, text_column, label_column
        self.tokenizer_texts = tokenizer_texts
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
                fingerprint_of(data),
                self.tokenizer.backend_tokenizer.to_str(),
                self.text_column,
                self.label_column,
                self.max_length,
                self.class_names,
            )
            rows = encoded(data, encode, key, self.source, f"data: tokenizing the {split} split")
            self.splits[split] = ArrowRows(rows, _COLUMNS)  # type: ignore[assignment]

    def train_subset(self, indices: Sequence[int]) -> Any:
        return self.split_dataset("train").subset(indices)  # type: ignore[attr-defined]

    def train_token_lengths(self) -> Any:
        """Tokens per training text (up to data.max_length)."""
        return self.split_dataset("train").dataset["attention_mask"].sum(dim=1)  # type: ignore[attr-defined]
