from collections.abc import Iterator

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset, Sampler


class InMemoryDataset(Dataset):
    """Aligned tensors (inputs ..., targets) held in memory, fetched a whole batch per index list
    (``__getitems__``) instead of item by item: collating 64 small tensors one by one costs more than an ffn's
    training step."""

    def __init__(self, *tensors: torch.Tensor):
        if len({len(t) for t in tensors}) != 1:
            raise ValueError(f"tensors of different lengths: {[len(t) for t in tensors]}")
        self.tensors = tensors

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        index = torch.as_tensor(indices)
        return tuple(t[index] for t in self.tensors)


def keep_batch(batch):
    """collate_fn for InMemoryDataset: the batch is already stacked."""
    return batch


def in_memory_loader(dataset: InMemoryDataset, batch_size: int, shuffle: bool, num_workers: int = 0) -> DataLoader:
    """A loader whose order is a function of (run seed, epoch) alone.

    torch.initial_seed() is the run's seed (seed_everything runs before data modules are built). The loader's own
    generator keeps DataLoader iterators from drawing on the global RNG, which then serves the model alone
    (dropout) and is restored exactly on resume.
    """
    seed = torch.initial_seed() % 2**62
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=EpochShuffleSampler(len(dataset), seed) if shuffle else None,
        num_workers=num_workers,
        collate_fn=keep_batch,
        persistent_workers=num_workers > 0,
        generator=torch.Generator().manual_seed(seed),
    )


class EpochShuffleSampler(Sampler[int]):
    """A random order that is a pure function of (seed, epoch), like DistributedSampler on one process.

    Lightning calls ``set_epoch`` at each epoch start, so a resumed run sees the same order in every epoch as an
    uninterrupted one, whatever else drew from the global RNG in between.
    """

    def __init__(self, length: int, seed: int):
        self.length, self.seed, self.epoch = length, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(torch.randperm(self.length, generator=generator).tolist())


class InMemoryDataModule(L.LightningDataModule):
    """The loaders of a data module whose splits are InMemoryDatasets: subclasses fill ``self.splits`` in
    ``setup`` (or override ``split_dataset``) and set ``batch_size`` and ``num_workers``."""

    batch_size: int
    num_workers: int

    def __init__(self):
        super().__init__()
        self.splits: dict[str, InMemoryDataset] = {}

    def split_dataset(self, name: str) -> InMemoryDataset:
        return self.splits[name]

    def train_dataloader(self) -> DataLoader:
        return in_memory_loader(self.split_dataset("train"), self.batch_size, True, self.num_workers)

    def val_dataloader(self) -> DataLoader:
        return in_memory_loader(self.split_dataset("val"), self.batch_size, False, self.num_workers)

    def test_dataloader(self) -> DataLoader:
        return in_memory_loader(self.split_dataset("test"), self.batch_size, False, self.num_workers)
