"""Lightning's Rich progress bar, showing the metrics of the epoch it shows.

Lightning computes an epoch's ``on_epoch`` training metrics (``train/loss``, ``train/acc``) after the
``on_train_epoch_end`` hooks, where the stock RichProgressBar last updates its numbers: its final render shows the
previous epoch's training metrics beside this epoch's validation (Lightning-AI/pytorch-lightning#11084, closed
as won't fix). This bar updates them once they exist, as the next epoch starts or training ends, through the
bar's private ``_update_metrics``. Each finished epoch is also a log line (the run's log file keeps them); where
the output is no terminal (a log file, a cluster job's output) that line is all: no bar is drawn.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import RichProgressBar

log = logging.getLogger("genlab")


class ProgressBar(RichProgressBar):
    """``plain``: no bar, only the log line of each epoch (None: when standard output is no terminal)."""

    def __init__(self, *args: Any, plain: bool | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.plain = not sys.stdout.isatty() if plain is None else plain
        if self.plain:
            self.disable()
        self._epoch: int | None = None  # the epoch whose metrics are still to be shown
        self._started = 0.0

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any]:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)  # the logger's run id: nothing to read during training
        return metrics

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._show_finished_epoch(trainer, pl_module)
        self._epoch, self._started = trainer.current_epoch, time.monotonic()
        super().on_train_epoch_start(trainer, pl_module)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        pass  # the epoch's training metrics are not computed yet: shown by _show_finished_epoch

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._show_finished_epoch(trainer, pl_module)
        super().on_train_end(trainer, pl_module)

    def _show_finished_epoch(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._epoch is None:
            return
        if not self.plain:
            self._update_metrics(trainer, pl_module)
            self.refresh()
        metrics = self.get_metrics(trainer, pl_module)
        shown = sorted((k for k in metrics if not k.endswith("_step")), key=lambda k: (not k.startswith("train"), k))
        numbers = ", ".join(
            f"{k} {metrics[k]:.4g}" if isinstance(metrics[k], float) else f"{k} {metrics[k]}" for k in shown
        )
        # with a bar too: it shows one epoch at a time, the log keeps each (also in the run's log file)
        log.info(f"epoch {self._epoch}: {numbers} ({time.monotonic() - self._started:.0f} s)")
        self._epoch = None
