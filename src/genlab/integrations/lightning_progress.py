"""Lightning's Rich progress bar, showing the metrics of the epoch it shows.

Lightning computes an epoch's ``on_epoch`` training metrics (``train/loss``, ``train/acc``) after the
``on_train_epoch_end`` hooks, where the stock RichProgressBar last updates its numbers: its final render shows the
previous epoch's training metrics beside this epoch's validation (Lightning-AI/pytorch-lightning#11084, closed
as won't fix). This bar updates them once they exist, as the next epoch starts or training ends, through the
bar's private ``_update_metrics``. Where the output is no terminal (a log file, a cluster job's output) it draws
nothing: genlab.callbacks.epoch_lines writes a line per epoch there.
"""

from __future__ import annotations

import sys
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import RichProgressBar


class ProgressBar(RichProgressBar):
    """``plain``: draw nothing (None: when standard output is no terminal)."""

    def __init__(self, *args: Any, plain: bool | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if plain is None:
            plain = not sys.stdout.isatty()
        if plain:
            self.disable()
        self._epoch_shown = True  # whether the bar shows its epoch's training metrics

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any]:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)  # the logger's run id: nothing to read during training
        return metrics

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._show_finished_epoch(trainer, pl_module)
        self._epoch_shown = False
        super().on_train_epoch_start(trainer, pl_module)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        pass  # the epoch's training metrics are not computed yet: shown by _show_finished_epoch

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._show_finished_epoch(trainer, pl_module)
        super().on_train_end(trainer, pl_module)

    def _show_finished_epoch(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._epoch_shown and self.is_enabled:
            self._update_metrics(trainer, pl_module)
            self.refresh()
        self._epoch_shown = True
