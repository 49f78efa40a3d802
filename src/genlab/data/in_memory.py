import math
from collections.abc import Callable, Iterator, Sequence

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from genlab.core.protocols import BatchedRows


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


def in_memory_loader(
    dataset: BatchedRows, batch_size: int, shuffle: bool, num_workers: int = 0, num_samples: int | None = None
) -> DataLoader:
    """A loader whose order is a function of (run seed, epoch) alone, and that resumes mid-epoch.

    torch.initial_seed() is the run's seed (seed_everything runs before data modules are built). The loader's own
    generator keeps DataLoader iterators from drawing on the global RNG, which then serves the model alone
    (dropout) and is restored exactly on resume. ``num_samples`` (shuffled loaders only) makes an epoch that many
    samples long, cycling through fresh orders of the dataset: a fixed number of steps over data of any size.
    """
    seed = run_seed()
    sampler = EpochShuffleSampler(len(dataset), seed, num_samples) if shuffle else None
    return resumable_loader(dataset, batch_size, sampler, num_workers)


def run_seed() -> int:
    """The run's seed (seed_everything runs before data modules are built), for orders that are its function."""
    return torch.initial_seed() % 2**62


def resumable_loader(
    dataset: BatchedRows, batch_size: int, sampler: Sampler[int] | None, num_workers: int = 0
) -> DataLoader:
    """``in_memory_loader`` with a sampler of the caller's (one whose order is a function of seed and epoch), for
    any dataset that fetches a whole batch per index list (``__getitems__``)."""
    return ResumableDataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        collate_fn=keep_batch,
        persistent_workers=num_workers > 0,
        generator=torch.Generator().manual_seed(run_seed()),
    )


class ResumableDataLoader(DataLoader):
    """A DataLoader that tells Lightning how far into an epoch it is, so a run resumed from a mid-epoch checkpoint
    (``every_n_train_steps``) trains on exactly the batches the interrupted one had still to see.

    Lightning saves ``state_dict()`` in the checkpoint and hands it back to the new loader before its first
    iteration; the batches already trained on are then drawn and dropped (the order itself is the sampler's pure
    function of seed and epoch). Loaders with a length are not prefetched ahead by Lightning, so the count of
    batches handed out is the count trained on when a checkpoint is written. The skip applies only to the epoch
    it was saved in: a checkpoint written after an epoch's last batch must not shorten the next epoch.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.batches_done = 0
        self._resume_at: tuple[int | None, int] | None = None  # (epoch, batches already trained on)

    def _epoch(self) -> int | None:
        return self.sampler.epoch if isinstance(self.sampler, EpochSampler) else None

    def __iter__(self) -> Iterator:  # type: ignore[override]  # a generator, not DataLoader's iterator class
        # A generator: this runs at the first batch, after Lightning has set the sampler's epoch.
        resume_at, self._resume_at = self._resume_at, None
        skip = resume_at[1] if resume_at is not None and resume_at[0] == self._epoch() else 0
        self.batches_done = 0
        for batch in super().__iter__():
            self.batches_done += 1
            if self.batches_done > skip:
                yield batch

    def state_dict(self) -> dict:
        return {"batches_done": self.batches_done, "epoch": self._epoch()}

    def load_state_dict(self, state: dict) -> None:
        self._resume_at = (state.get("epoch"), int(state["batches_done"]))


class EpochSampler(Sampler[int]):
    """An order of ``num_samples`` indices that is a pure function of (seed, epoch): Lightning calls ``set_epoch``
    at each epoch start, so a resumed run sees the same order as an uninterrupted one. Subclasses draw it from
    ``generator()``."""

    def __init__(self, seed: int, num_samples: int):
        self.seed, self.num_samples, self.epoch = seed, num_samples, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_samples

    def generator(self) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed + self.epoch)


def cycled_orders(length: int, count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` indices of ``range(length)``: fresh random orders of it, one after another, cut at ``count``."""
    orders = [torch.randperm(length, generator=generator) for _ in range(math.ceil(count / length))]
    return torch.cat(orders)[:count] if orders else torch.empty(0, dtype=torch.long)


class EpochShuffleSampler(EpochSampler):
    """A random order that is a pure function of (seed, epoch), like DistributedSampler on one process.

    Lightning calls ``set_epoch`` at each epoch start, so a resumed run sees the same order in every epoch as an
    uninterrupted one, whatever else drew from the global RNG in between. With ``num_samples`` beyond the length,
    the epoch goes on through further orders drawn from the same generator.
    """

    def __init__(self, length: int, seed: int, num_samples: int | None = None):
        super().__init__(seed, num_samples or length)
        self.length = length

    def __iter__(self) -> Iterator[int]:
        return iter(cycled_orders(self.length, self.num_samples, self.generator()).tolist())


class InMemoryDataModule(L.LightningDataModule):
    """The loaders of a data module whose splits are InMemoryDatasets: subclasses fill ``self.splits`` in
    ``setup`` (or override ``split_dataset``) and set ``batch_size`` and ``num_workers``.

    Its training items (``train_items``, ``train_subset``) are what a curriculum orders and selects: here the rows
    of the train split; a language-modeling corpus's items are its texts.
    """

    batch_size: int
    num_workers: int

    def __init__(self):
        super().__init__()
        self.splits: dict[str, InMemoryDataset] = {}
        # Set by a schedule that changes the training data during the fit (schedule=curriculum).
        self.train_loader_source: Callable[[], DataLoader] | None = None

    def split_dataset(self, name: str) -> InMemoryDataset:
        return self.splits[name]

    def train_items(self) -> int:
        return len(self.split_dataset("train"))

    def train_subset(self, indices: Sequence[int]) -> InMemoryDataset:
        """A training set of the given training items only."""
        index = torch.as_tensor(indices, dtype=torch.long)
        return InMemoryDataset(*(t[index] for t in self.split_dataset("train").tensors))

    def train_loader(self, dataset: InMemoryDataset, num_samples: int | None = None) -> DataLoader:
        return in_memory_loader(dataset, self.batch_size, True, self.num_workers, num_samples)

    def train_dataloader(self) -> DataLoader:
        if self.train_loader_source is not None:
            return self.train_loader_source()
        return self.train_loader(self.split_dataset("train"))

    def val_dataloader(self) -> DataLoader:
        return in_memory_loader(self.split_dataset("val"), self.batch_size, False, self.num_workers)

    def test_dataloader(self) -> DataLoader:
        return in_memory_loader(self.split_dataset("test"), self.batch_size, False, self.num_workers)


class BatchedSplitsDataModule(L.LightningDataModule):
    """The loaders of a data module whose ``setup`` fills ``self.datasets`` (train/val/test) with datasets that
    fetch a batch at a time (``__getitems__``; tokenized conversations, preference pairs), through the project's
    resumable loader. Subclasses set ``batch_size`` and ``num_workers``."""

    batch_size: int
    num_workers: int

    def __init__(self) -> None:
        super().__init__()
        self.datasets: dict[str, BatchedRows] = {}

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        return in_memory_loader(self.datasets[split], self.batch_size, shuffle, self.num_workers)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)
