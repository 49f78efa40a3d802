"""A test-only callback that kills its own process hard (SIGKILL), once, like a preempted or crashed job."""

import os
import signal
from pathlib import Path

import lightning as L


class KillAtEpoch(L.Callback):
    """run_dir_name: only in the run whose folder has this name (a sweep's job number)."""

    def __init__(self, epoch: int, marker: str, run_dir_name: str | None = None):
        self.epoch, self.marker, self.run_dir_name = epoch, Path(marker), run_dir_name

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.run_dir_name is not None and Path(trainer.default_root_dir).name != str(self.run_dir_name):
            return
        if trainer.current_epoch == self.epoch and not self.marker.exists():
            self.marker.write_text("killed")
            os.kill(os.getpid(), signal.SIGKILL)


class SignalAtEpoch(L.Callback):
    """Sends its own process a signal once, at the start of an epoch: SIGUSR2 is how SLURM (and submitit's local
    executor) tell a job it is about to be preempted or timed out."""

    def __init__(self, epoch: int, marker: str, signal_name: str = "SIGUSR2"):
        self.epoch, self.marker, self.signum = epoch, Path(marker), getattr(signal, signal_name)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch == self.epoch and not self.marker.exists():
            self.marker.write_text(f"signalled at epoch {self.epoch}")
            os.kill(os.getpid(), self.signum)
