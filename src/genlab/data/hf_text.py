"""Text from a ``datasets`` dataset (genlab.data.hf_datasets) for language modeling, at any size: tokenized by
``datasets.map`` into its Arrow cache, each split's token ids then kept in one memory-mapped ``.npy`` file, so memory
use does not grow with the corpus; or, with ``source.streaming``, read, tokenized and packed on the fly."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import DataLoader, Dataset

from genlab.data.hf_columns import encoded
from genlab.data.hf_datasets import SPLITS, HFDatasetSource, fingerprint, held_out_splits
from genlab.data.in_memory import InMemoryDataModule, resumable_loader, run_seed
from genlab.data.language_modeling import TokenizerFactory, encode_texts
from genlab.data.large_shuffle import LargeShuffleSampler
from genlab.data.token_blocks import (
    FiniteTokenBlocks,
    StreamedTokenBlocks,
    StreamLoader,
    TokenBlocks,
    packed_blocks,
    read_token_file,
    write_token_file,
)
from genlab.errors import ConfigError
from genlab.integrations.hf_datasets import fingerprint_of

log = logging.getLogger("genlab")
_BATCH = 1000  # texts tokenized and written at a time


def kept_rows(dataset: Any, column: str, excluded: np.ndarray) -> Iterator[list]:
    """A column's values a batch at a time, in order, without the rows of ``excluded`` (sorted row numbers)."""
    start = 0
    for batch in dataset.iter(batch_size=_BATCH):
        values = batch[column]
        low, high = np.searchsorted(excluded, [start, start + len(values)])
        if high > low:
            dropped = set((excluded[low:high] - start).tolist())
            values = [value for i, value in enumerate(values) if i not in dropped]
        start += len(batch[column])
        yield values


class HFTextDataModule(InMemoryDataModule):
    """A ``datasets`` text column as a language-modeling corpus: each text followed by the end-of-sequence token,
    packed into ``block_size + 1`` token blocks. A trained tokenizer (data/tokenizer=bpe|char) learns from the
    first ``tokenizer_texts`` training texts. Streamed, an epoch is ``steps_per_epoch`` batches and the training
    texts are reshuffled each pass through a buffer of ``shuffle_buffer`` texts (0: in order)."""

    def __init__(
        self,
        source: HFDatasetSource,
        tokenizer: TokenizerFactory,
        text_column: str = "text",
        block_size: int = 128,
        batch_size: int = 32,
        val_size: float = 0.05,
        test_size: float = 0.05,
        split_seed: int = 0,
        tokenizer_texts: int = 20000,
        steps_per_epoch: int = 1000,
        shuffle_buffer: int = 10000,
        num_workers: int = 0,
    ):
        super().__init__()
        if source.streaming and num_workers:
            raise ConfigError(
                "data.num_workers: a streamed dataset is read in the training process (its position is what a "
                "checkpoint saves); set data.num_workers=0"
            )
        self.source, self.tokenizer_factory, self.text_column = source, tokenizer, text_column
        self.block_size, self.batch_size = block_size, batch_size
        self.val_size, self.test_size, self.split_seed = val_size, test_size, split_seed
        self.tokenizer_texts, self.steps_per_epoch, self.shuffle_buffer = (
            tokenizer_texts,
            steps_per_epoch,
            shuffle_buffer,
        )
        self.num_workers = num_workers
        self.tokenizer: Any = None  # a Hugging Face tokenizer once set up (or set by a curriculum)
        self.blocks: dict[str, Dataset] = {}
        self._split_rows: tuple[dict[str, Any], np.ndarray] | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.blocks:
            return
        self.prepare_tokenizer()
        splits, excluded = self._splits()
        if self.source.streaming:
            train = splits["train"]
            self.blocks["train"] = StreamedTokenBlocks(
                lambda n: self._stream_blocks(train, n), self.steps_per_epoch * self.batch_size
            )
            for split in ("val", "test"):
                held_out = splits[split]
                self.blocks[split] = FiniteTokenBlocks(functools.partial(self._stream_blocks, held_out, None))
            return
        for split in SPLITS:
            stream = read_token_file(self._token_file(splits[split], split, excluded if split == "train" else None))
            blocks = TokenBlocks(stream, self.block_size, f"the {split} split of {self.source.describe()}")
            log.info(f"data: {split} split {len(stream):,} tokens, {len(blocks):,} blocks")
            self.blocks[split] = blocks

    def prepare_tokenizer(self) -> Any:
        """The tokenizer, made (once) from the first training texts."""
        if self.tokenizer is None:  # a curriculum stage's own data gets the run's tokenizer beforehand
            splits, excluded = self._splits()
            self.tokenizer = self.tokenizer_factory(texts=self._first_texts(splits["train"], excluded))
        return self.tokenizer

    def _splits(self) -> tuple[dict[str, Any], np.ndarray]:
        """The splits, and the training split's rows drawn into val/test (sorted): the drawn held-out texts stay in
        the training split's dataset and are skipped as its tokens are written, so there is no list of the
        training rows, however many there are."""
        if self._split_rows is None:
            columns = {"text_column": self.text_column}
            splits, drawn = held_out_splits(self.source, self.val_size, self.test_size, self.split_seed, columns)
            excluded = np.sort(np.concatenate(list(drawn.values()))) if drawn else np.empty(0, dtype=np.int64)
            self._split_rows = (splits, excluded)
        return self._split_rows

    def _encode(self, texts: list[str]) -> list[list[int]]:
        return encode_texts(self.tokenizer, [str(t) for t in texts])

    def _first_texts(self, train: Any, excluded: np.ndarray) -> list[str]:
        texts: list[str] = []
        for batch in kept_rows(train, self.text_column, excluded):
            texts += [str(t) for t in batch if t and str(t).strip()]
            if len(texts) >= self.tokenizer_texts:
                break
        return texts[: self.tokenizer_texts]

    def _token_file(self, dataset: Any, split: str, excluded: np.ndarray | None = None) -> Path:
        """The split's token ids (but for the ``excluded`` rows) in a ``.npy`` file, made once per (data, rows,
        tokenizer) and then read from the cache."""
        excluded = np.empty(0, dtype=np.int64) if excluded is None else excluded
        key = fingerprint(
            fingerprint_of(dataset),
            self.tokenizer.backend_tokenizer.to_str(),
            self.text_column,
            self.tokenizer.eos_token_id,
        )
        path = self.source.cache_folder("token_streams") / f"{fingerprint(key, excluded.tobytes())}.npy"
        if path.is_file():
            return path

        def tokenize(batch: dict) -> dict:
            ids = self._encode(batch[self.text_column])
            return {"input_ids": ids, "length": [len(i) + 1 for i in ids]}

        tokenized = encoded(
            dataset, tokenize, key, self.source, f"data: tokenizing the {split} split", batch_size=_BATCH
        )
        import pyarrow as pa
        import pyarrow.compute as pc

        lengths = tokenized.data.column("length")
        total = int(pc.sum(lengths).as_py() or 0)
        if len(excluded):
            total -= int(pc.sum(lengths.take(pa.array(excluded))).as_py())
        batches = kept_rows(tokenized, "input_ids", excluded)
        write_token_file(path, total, batches, int(self.tokenizer.eos_token_id))
        return path

    def _stream_blocks(self, dataset: Any, pass_number: int | None) -> Iterator[np.ndarray]:
        """The blocks of one pass over a streamed split (training passes reshuffled by the run's seed and pass)."""
        if pass_number is not None and self.shuffle_buffer:
            dataset = dataset.shuffle(seed=run_seed() % 2**32 + pass_number, buffer_size=self.shuffle_buffer)
        texts = (batch[self.text_column] for batch in dataset.iter(batch_size=_BATCH))
        return packed_blocks(texts, self._encode, int(self.tokenizer.eos_token_id), self.block_size)

    def split_dataset(self, name: str) -> Any:
        return self.blocks[name]

    def train_items(self) -> int:
        if self.source.streaming:
            raise ConfigError(
                "schedule=curriculum orders a dataset's blocks, which a stream does not have; set data.source.streaming=false"
            )
        return len(self.blocks["train"])  # type: ignore[arg-type]

    def train_subset(self, indices: Sequence[int]) -> Any:
        train = self.blocks["train"]
        assert isinstance(train, TokenBlocks)
        return train.subset(indices)

    def train_loader(self, dataset: Any, num_samples: int | None = None) -> DataLoader:
        if isinstance(dataset, StreamedTokenBlocks):
            return StreamLoader(dataset, batch_size=self.batch_size)
        # an order without a permutation table: memory stays flat however many blocks the corpus makes
        sampler = LargeShuffleSampler(len(dataset), run_seed(), num_samples)
        return resumable_loader(dataset, self.batch_size, sampler, self.num_workers)

    def val_dataloader(self) -> DataLoader:
        return self._held_out_loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._held_out_loader("test")

    def _held_out_loader(self, split: str) -> DataLoader:
        if self.source.streaming:
            return DataLoader(self.blocks[split], batch_size=self.batch_size)
        return super().val_dataloader() if split == "val" else super().test_dataloader()
