from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import torch
from torch.utils.data import DataLoader

from genlab.core.protocols import ClassifiedData, LabelledData
from genlab.data.in_memory import (
    EpochSampler,
    InMemoryDataModule,
    InMemoryDataset,
    cycled_orders,
    resumable_loader,
    run_seed,
)
from genlab.errors import ConfigError, DataError

TOO_FEW_SOURCES = "data=mixture needs two or more sources: add each with +data@data.sources.<name>=<data config>"


def first_source_setting(sources: object, key: str) -> object:
    """data=mixture's ``input_shape`` and ``num_classes``, read from its first source's config."""
    from omegaconf import DictConfig, OmegaConf

    if not isinstance(sources, DictConfig) or not sources:
        raise ConfigError(TOO_FEW_SOURCES)
    value = sources[next(iter(sources))][key]
    return OmegaConf.to_container(value) if OmegaConf.is_config(value) else value


class MixtureSampler(EpochSampler):
    """Indices into the concatenated training sets of several sources: each sample's source drawn with the given
    weights, then the source's next item in a fresh order of it (cycling). A pure function of (seed, epoch), like
    EpochShuffleSampler, so a resumed run draws exactly what an uninterrupted one would."""

    def __init__(self, lengths: Sequence[int], weights: Sequence[float], num_samples: int, seed: int):
        super().__init__(seed, num_samples)
        self.lengths = list(lengths)
        self.weights = torch.tensor(weights, dtype=torch.float64)
        self.offsets = torch.tensor([0, *lengths[:-1]]).cumsum(0).tolist()

    def __iter__(self) -> Iterator[int]:
        generator = self.generator()
        sources = torch.multinomial(self.weights, self.num_samples, replacement=True, generator=generator)
        indices = torch.empty(self.num_samples, dtype=torch.long)
        for source, (length, offset) in enumerate(zip(self.lengths, self.offsets)):
            where = (sources == source).nonzero().flatten()
            indices[where] = cycled_orders(length, len(where), generator) + offset
        return iter(indices.tolist())


class MixtureDataModule(InMemoryDataModule):
    """Several in-memory data sets (``sources``, by name) trained as one: ``num_samples`` training samples an
    epoch (default: all their training examples), each drawn from a source with probability ``weights[name]``
    (default: in proportion to its size). Validation has a loader per source, in ``source_names`` order (tasks log
    each source's loss beside the overall metrics); testing runs on all test sets together.

    The sources must give examples of one shape and count their classes alike; the first one's class names are
    the mixture's.
    """

    def __init__(
        self,
        sources: Mapping[str, Any],
        input_shape: Sequence[int],
        num_classes: int,
        weights: Mapping[str, float] | None = None,
        num_samples: int | None = None,
        batch_size: int = 64,
        num_workers: int = 0,
    ):
        super().__init__()
        if len(sources) < 2:
            raise ConfigError(TOO_FEW_SOURCES)
        for name, source in sources.items():
            if not isinstance(source, InMemoryDataModule):
                raise ConfigError(
                    f"data.sources.{name}: {type(source).__name__} cannot be mixed (only in-memory data sets can)"
                )
            if isinstance(source, ClassifiedData) and source.num_classes != num_classes:
                raise ConfigError(
                    f"data.sources.{name} has {source.num_classes} classes, the first source {num_classes}; "
                    f"mix sources that label alike"
                )
        unknown = sorted(set(weights or {}) - set(sources))
        if unknown or (weights is not None and any(w < 0 for w in weights.values())):
            raise ConfigError(
                f"data.weights={dict(weights or {})}: give each of {', '.join(sources)} a weight >= 0 "
                f"(unknown: {', '.join(unknown) or 'none'})"
            )
        self.sources = dict(sources)
        self.source_names = tuple(self.sources)
        self.input_shape, self.num_classes = tuple(input_shape), num_classes
        self.weights, self.num_samples = weights, num_samples
        self.batch_size, self.num_workers = batch_size, num_workers
        first = next(iter(self.sources.values()))
        self.class_names: tuple[str, ...] = tuple(first.class_names) if isinstance(first, LabelledData) else ()

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        for source in self.sources.values():
            source.setup(stage)
        layouts = {
            name: [tuple(t.shape[1:]) for t in source.split_dataset("train").tensors]
            for name, source in self.sources.items()
        }
        first = next(iter(layouts))
        for name, layout in layouts.items():
            if layout != layouts[first]:
                raise DataError(
                    f"data.sources.{name} gives examples shaped {layout}, data.sources.{first} {layouts[first]}; "
                    f"mix sources whose examples have one shape"
                )
        self.splits = {
            split: _concatenated([source.split_dataset(split) for source in self.sources.values()])
            for split in ("train", "test")
        }

    def train_dataloader(self) -> DataLoader:
        if self.train_loader_source is not None:  # a curriculum's own selection
            return self.train_loader_source()
        return self.train_loader(self.splits["train"])

    def train_loader(self, dataset: InMemoryDataset, num_samples: int | None = None) -> DataLoader:
        """The weighted draw over the sources for their whole training sets (also as a curriculum stage's data);
        a subset of them (a curriculum's difficulty window) is shuffled as it is."""
        if dataset is not self.splits["train"]:
            return super().train_loader(dataset, num_samples)
        lengths = [len(source.split_dataset("train")) for source in self.sources.values()]
        weights = [
            float((self.weights or {}).get(name, 0.0 if self.weights else n))
            for name, n in zip(self.source_names, lengths)
        ]
        if sum(weights) <= 0:
            raise ConfigError(f"data.weights={dict(self.weights or {})}: at least one source needs a weight above 0")
        sampler = MixtureSampler(lengths, weights, num_samples or self.num_samples or sum(lengths), run_seed())
        return resumable_loader(self.splits["train"], self.batch_size, sampler, self.num_workers)

    def val_dataloader(self) -> list[DataLoader]:  # type: ignore[override]  # one loader per source
        return [
            resumable_loader(source.split_dataset("val"), self.batch_size, None, self.num_workers)
            for source in self.sources.values()
        ]


def _concatenated(datasets: list[InMemoryDataset]) -> InMemoryDataset:
    return InMemoryDataset(*(torch.cat(parts) for parts in zip(*(d.tensors for d in datasets))))
