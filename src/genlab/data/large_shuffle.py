"""Random orders of data too large to hold a permutation table for: each position's index is computed on its own
by a keyed bijection (a Feistel network with cycle walking), so an epoch over a billion blocks costs no more
memory than one over a thousand."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from genlab.data.in_memory import EpochSampler

_ROUNDS = 4
_CHUNK = 1 << 16  # indices computed at a time


class KeyedPermutation:
    """A pseudo-random permutation of ``range(length)`` given by ``keys``: ``self(positions)`` is the index at each
    position. The Feistel network permutes the smallest even-bit range covering ``length`` (at most four times
    it); an index beyond ``length`` is encrypted again until it falls inside (cycle walking), which keeps the
    mapping a bijection of ``range(length)``."""

    def __init__(self, length: int, keys: list[int]):
        bits = max(2, (length - 1).bit_length())
        self.half = (bits + 1) // 2
        self.mask = np.uint64((1 << self.half) - 1)
        self.length, self.keys = length, [np.uint64(k) for k in keys]

    def __call__(self, positions: np.ndarray) -> np.ndarray:
        out = self._encrypt(positions.astype(np.uint64))
        outside = out >= self.length
        while outside.any():
            out[outside] = self._encrypt(out[outside])
            outside = out >= self.length
        return out.astype(np.int64)

    def _encrypt(self, x: np.ndarray) -> np.ndarray:
        shift = np.uint64(self.half)
        left, right = x >> shift, x & self.mask
        for key in self.keys:
            left, right = right, left ^ (_mix(right ^ key) & self.mask)
        return (left << shift) | right


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: every input bit changes about half the output bits (uint64 arithmetic wraps)."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


class LargeShuffleSampler(EpochSampler):
    """``EpochShuffleSampler``'s contract (an order that is a function of seed and epoch; ``num_samples`` beyond the
    length goes on through further orders) without a permutation table: memory stays flat at any length."""

    def __init__(self, length: int, seed: int, num_samples: int | None = None):
        super().__init__(seed, num_samples or length)
        self.length = length

    def __iter__(self) -> Iterator[int]:
        generator = self.generator()
        for start in range(0, self.num_samples, self.length):  # one fresh order per pass over the data
            keys = torch.randint(0, 2**62, (_ROUNDS,), generator=generator).tolist()
            order = KeyedPermutation(self.length, keys)
            stop = min(self.num_samples - start, self.length)
            for chunk in range(0, stop, _CHUNK):
                yield from order(np.arange(chunk, min(chunk + _CHUNK, stop))).tolist()
