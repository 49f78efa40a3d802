"""Hyperparameter sweeps: a resumable, failure-tolerant Optuna study driven by Hydra's multirun."""

import os
from pathlib import Path

from omegaconf import DictConfig

# Names the sweep folder for the DDP ranks that genlab.integrations.lightning_launch starts for a sweep's job: they run as single
# runs, and need it to act as the job does (continue from its checkpoint, join its W&B group).
SWEEP_ENV = "GENLAB_SWEEP"


def sweep_name(hydra_cfg: DictConfig) -> str | None:
    """The name of the sweep folder a job belongs to (also for the DDP ranks started for it); None for a run alone."""
    from hydra.types import RunMode

    if hydra_cfg.mode == RunMode.MULTIRUN:
        return Path(str(hydra_cfg.sweep.dir)).name
    return os.environ.get(SWEEP_ENV)
