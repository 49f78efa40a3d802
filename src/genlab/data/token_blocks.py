"""Token streams as language-modeling blocks without holding them in memory: a split's token ids in one ``.npy``
file read through a memory map (``TokenBlocks``), or packed on the fly from a streamed dataset
(``StreamedTokenBlocks``). Either gives (inputs, targets) pairs of ``block_size`` tokens, consecutive blocks
overlapping by one token so that every token but the first is a target exactly once."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset

from genlab.errors import DataError


def write_token_file(path: Path, total: int, batches: Iterable[list[list[int]]], eos: int) -> None:
    """Writes ``total`` token ids (each sequence of each batch followed by ``eos``) to a ``.npy`` file, through a
    temporary file renamed at the end: a killed run leaves no half-written stream to be read as whole."""
    dtype = np.uint16 if eos < 2**16 else np.uint32
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npy")
    out = np.lib.format.open_memmap(partial, mode="w+", dtype=dtype, shape=(total,))
    at = 0
    for batch in batches:
        for ids in batch:
            out[at : at + len(ids)] = ids
            out[at + len(ids)] = eos
            at += len(ids) + 1
    if at != total:
        raise RuntimeError(f"token stream {path}: wrote {at} tokens, expected {total}")
    out.flush()
    del out
    os.replace(partial, path)


def read_token_file(path: Path) -> np.ndarray:
    """The token ids of a ``write_token_file`` file, memory-mapped (pages are read as blocks are fetched)."""
    return np.load(path, mmap_mode="r", allow_pickle=False)


class TokenBlocks(Dataset):
    """Blocks of ``block_size + 1`` tokens cut from a (memory-mapped) token stream, fetched a batch at a time."""

    def __init__(self, stream: np.ndarray, block_size: int, what: str, chosen: np.ndarray | None = None):
        self.stream, self.block_size, self.what = stream, block_size, what
        self.count = (len(stream) - 1) // block_size
        self.chosen = chosen  # a selection of the blocks (a curriculum's), in this order
        if self.count < 1:
            raise DataError(
                f"{what} has {len(stream)} tokens, fewer than data.block_size+1={block_size + 1}; lower "
                f"data.block_size or give it more text"
            )

    def __len__(self) -> int:
        return self.count if self.chosen is None else len(self.chosen)

    def subset(self, indices: Sequence[int]) -> TokenBlocks:
        chosen = np.asarray(indices, dtype=np.int64)
        return TokenBlocks(
            self.stream, self.block_size, self.what, chosen if self.chosen is None else self.chosen[chosen]
        )

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        inputs, targets = self.__getitems__([index])
        return inputs[0], targets[0]

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        blocks_chosen = np.asarray(indices, dtype=np.int64)
        if self.chosen is not None:
            blocks_chosen = self.chosen[blocks_chosen]
        starts = blocks_chosen * self.block_size
        blocks = torch.from_numpy(self.stream[starts[:, None] + np.arange(self.block_size + 1)].astype(np.int64))
        return blocks[:, :-1], blocks[:, 1:]


def packed_blocks(
    texts: Iterable[list[str]], encode: Callable[[list[str]], list[list[int]]], eos: int, block_size: int
) -> Iterator[np.ndarray]:
    """Blocks of ``block_size + 1`` tokens packed from batches of texts, each text followed by ``eos``."""
    buffer: list[int] = []
    for batch in texts:
        for ids in encode(batch):
            buffer += ids
            buffer.append(eos)
        while len(buffer) > block_size:
            yield np.asarray(buffer[: block_size + 1], dtype=np.int64)
            del buffer[:block_size]


class StreamedTokenBlocks(IterableDataset):
    """Blocks packed from a stream of texts, ``length`` of them an epoch.

    The stream is read in passes (``passes(n)`` gives the blocks of pass n, e.g. reshuffled by it); an epoch takes
    the next ``length`` blocks wherever the last one stopped, so epochs have a fixed length whatever the stream's.
    Its position (pass, blocks into it, blocks into the epoch) is what a checkpoint saves: a resumed run reads
    the pass again up to there and goes on with exactly the blocks the interrupted one had still to see.
    """

    def __init__(self, passes: Callable[[int], Iterator[np.ndarray]], length: int):
        self.passes, self.length = passes, length
        self.pass_number, self.offset, self.in_epoch = 0, 0, 0
        self._blocks: Iterator[np.ndarray] | None = None

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if self.in_epoch >= self.length:
            self.in_epoch = 0
        while self.in_epoch < self.length:
            block = torch.from_numpy(self._next_block())
            self.in_epoch += 1
            yield block[:-1], block[1:]

    def _next_block(self) -> np.ndarray:
        for _ in range(2):  # the rest of this pass, else the next pass
            if self._blocks is None:
                self._blocks = self.passes(self.pass_number)
                for _ in range(self.offset):  # a resumed position: the blocks already trained on
                    next(self._blocks)
            block = next(self._blocks, None)
            if block is not None:
                self.offset += 1
                return block
            self.pass_number, self.offset, self._blocks = self.pass_number + 1, 0, None
        raise DataError("data: the training stream gives no block of data.block_size+1 tokens; give it more text")

    def state_dict(self) -> dict[str, int]:
        return {"pass": self.pass_number, "offset": self.offset, "in_epoch": self.in_epoch}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.pass_number, self.offset, self.in_epoch = int(state["pass"]), int(state["offset"]), int(state["in_epoch"])
        self._blocks = None


class FiniteTokenBlocks(IterableDataset):
    """The blocks of one pass over a (held-out) stream, in order."""

    def __init__(self, blocks: Callable[[], Iterator[np.ndarray]]):
        self.blocks = blocks

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for block in self.blocks():
            tensor = torch.from_numpy(block)
            yield tensor[:-1], tensor[1:]


class StreamLoader(DataLoader):
    """A loader of ``StreamedTokenBlocks`` that Lightning saves and restores through the stream's position (its
    length is known, so Lightning fetches no batch ahead: the position is that of the batches trained on)."""

    dataset: StreamedTokenBlocks

    def state_dict(self) -> dict[str, int]:
        return self.dataset.state_dict()

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.dataset.load_state_dict(state)
