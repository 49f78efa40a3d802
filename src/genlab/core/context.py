"""What a run is made of once built, and what Hydra knows about it beyond its config."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import lightning as L
    from torch import nn

    from genlab.core.protocols import Tuning
    from genlab.generation.image_settings import ImageGenerationSettings
    from genlab.generation.settings import GenerationSettings


def process_rank() -> int:
    """This process's global rank: 0 alone or on the first DDP rank. Lightning sets it as an attribute of its
    rank_zero_only function when it starts the ranks."""
    from lightning.pytorch.utilities import rank_zero_only

    return int(rank_zero_only.rank)  # type: ignore[attr-defined]  # set on the function, not declared


@dataclass
class RunContext:
    """What Hydra knows about a run beyond its config: where it writes and how it was asked for."""

    output_dir: Path
    overrides: list[str] = field(default_factory=list)
    choices: dict[str, str] = field(default_factory=dict)
    group: str | None = None  # the W&B group of the multirun this run is a job of
    swept: dict[str, object] = field(default_factory=dict)  # the values the sweep chose for this job, by key

    @property
    def in_sweep(self) -> bool:
        return self.group is not None


@dataclass
class Experiment:
    datamodule: L.LightningDataModule
    module: L.LightningModule
    trainer: L.Trainer
    tuning: Tuning
    generation: GenerationSettings | ImageGenerationSettings | None = None
    make_net: Callable[..., nn.Module] | None = None  # model=... anew, in full precision (merging an adapter needs one)
