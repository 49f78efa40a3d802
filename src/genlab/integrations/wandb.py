"""W&B details genlab relies on that no public API covers, and genlab's W&B logger.

- Lightning's WandbLogger always passes ``anonymous`` to ``wandb.init``, a setting wandb ≥ 0.23 no longer has
  and warns about on every run (wandb/wandb#10909); ``QuietWandbLogger`` leaves it out of the arguments Lightning
  keeps in its private ``_wandb_init``, and keeps W&B's own console output (start banner, run summary) to
  warnings: genlab says where the run is and how to upload it.

- Lightning's WandbLogger starts its W&B run lazily, on the first read of ``.experiment``: reading it to ask
  whether a run exists would start one. Lightning 2.5–2.6 offer no public "has it started" (only the private
  ``_experiment``), so this asks here, and only here.
- An offline run's records reach its ``.wandb`` transaction log in periodic flushes (every 15 s in wandb 0.31,
  the private setting ``x_transaction_log_flush_interval``; env ``WANDB__TRANSACTION_LOG_FLUSH_INTERVAL``). A run
  killed before the first one leaves a log of the file header alone, and ``wandb sync`` of the run's folder then
  fails as a whole ("Failed to read ...: EOF"), the later segments too. ``set_aside_empty_logs`` renames such logs
  so that the rest uploads; the header's length is the internal detail (tests/unit/test_integrations.py).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers import Logger, WandbLogger


class QuietWandbLogger(WandbLogger):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._wandb_init.pop("anonymous", None)
        self._wandb_init.setdefault("settings", {"silent": True})


def started_run(logger: Logger) -> Any | None:
    """The W&B run of a WandbLogger that has started one; None for any other logger or a run not started."""
    if isinstance(logger, WandbLogger):
        return logger._experiment
    return None


log = logging.getLogger(__name__)

# wandb's transaction log header (its magic and version); a log no longer than this holds no record
TRANSACTION_LOG_HEADER_BYTES = 7


def set_aside_empty_logs(wandb_dir: Path, run_id: str) -> list[Path]:
    """Renames the record-less logs of run ``run_id``'s offline segments to ``*.wandb.empty``; returns them."""
    empty = [
        path
        for path in sorted(wandb_dir.glob(f"offline-run-*-{run_id}/run-{run_id}.wandb"))
        if path.stat().st_size <= TRANSACTION_LOG_HEADER_BYTES
    ]
    for path in empty:
        path.rename(path.with_name(path.name + ".empty"))
        log.warning(
            f"W&B: {path.parent.name} holds no records (that start was killed before W&B first wrote its offline log, "
            f"which it does every 15 s); set aside as {path.name}.empty so that `wandb sync {wandb_dir}` uploads the "
            f"rest. Its steps are in the CSV log"
        )
    return empty


def finish_runs(loggers: list[Logger]) -> None:
    """Close started W&B runs, so the offline files are complete and a next run in this process starts anew."""
    for logger in loggers:
        run = started_run(logger)
        if run is not None:
            run.finish()
