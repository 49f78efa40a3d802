"""A test-only callback that kills its own process hard (SIGKILL), once, like a preempted or crashed job."""

import os
import signal
from pathlib import Path

import lightning as L


class KillAtEpoch(L.Callback):
    def __init__(self, epoch: int, marker: str):
        self.epoch, self.marker = epoch, Path(marker)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch == self.epoch and not self.marker.exists():
            self.marker.write_text("killed")
            os.kill(os.getpid(), signal.SIGKILL)
