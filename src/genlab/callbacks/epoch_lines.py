"""One log line per finished training epoch with that epoch's metrics (those the task shows in the progress bar):
the console's record of a run where a progress bar shows one epoch at a time or is not drawn (a log file, a
cluster job's output), and the run's log file's record of its epochs.

An epoch's ``on_epoch`` training metrics are computed after its ``on_train_epoch_end`` hooks, so its line is
written when they exist: as the next epoch starts, or training ends."""

from __future__ import annotations

import logging
import time

import lightning as L

log = logging.getLogger("genlab")


class EpochLines(L.Callback):
    def __init__(self) -> None:
        self._epoch: int | None = None  # the epoch whose line is still to be written
        self._started = 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._write(trainer)
        self._epoch, self._started = trainer.current_epoch, time.monotonic()

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._write(trainer)

    def _write(self, trainer: L.Trainer) -> None:
        if self._epoch is None or not trainer.is_global_zero:
            return
        metrics = {k: float(v) for k, v in trainer.progress_bar_metrics.items() if not k.endswith("_step")}
        shown = sorted(metrics, key=lambda k: (not k.startswith("train"), k))
        numbers = ", ".join(f"{k} {metrics[k]:.4g}" for k in shown)
        log.info(f"epoch {self._epoch}: {numbers} ({time.monotonic() - self._started:.0f} s)")
        self._epoch = None
