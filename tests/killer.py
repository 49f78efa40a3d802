"""Test-only callbacks that kill or signal their own process, like a preempted or crashed job."""

import os
import random
import signal
import threading
import time
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


class KillAtRandomMoment(L.Callback):
    """SIGKILLs its process at a moment drawn from the seed in $GENLAB_TEST_KILL_SEED (no seed: never): 1 to
    ``max_steps`` optimizer steps after the run (re)started, plus a delay of up to ``max_delay`` seconds, so that
    the kill lands anywhere, checkpoint writes included. Training goes on for at most 2 more steps while the kill
    is on its way (then it waits for it), so a start never gets further than ``max_steps + 2`` steps, however
    fast the machine. The seed comes from the environment so the command line, and with it the run folder that
    resume=true finds, stays the same from one start to the next."""

    def __init__(self, max_steps: int = 3, max_delay: float = 0.05):
        seed = os.environ.get("GENLAB_TEST_KILL_SEED")
        rng = random.Random(seed)
        self.armed = seed is not None
        self.after_steps, self.delay = rng.randint(1, max_steps), rng.uniform(0, max_delay)
        self.first_step: int | None = None
        self.fired_at: int | None = None

    def on_train_batch_start(self, trainer: L.Trainer, *args: object) -> None:
        if self.fired_at is not None and trainer.global_step - self.fired_at >= 2:
            while True:  # the kill is on its way
                time.sleep(1)

    def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
        if not self.armed:
            return
        if self.first_step is None:
            self.first_step = trainer.global_step
        if trainer.global_step - self.first_step == self.after_steps:
            self.armed, self.fired_at = False, trainer.global_step
            threading.Timer(self.delay, os.kill, (os.getpid(), signal.SIGKILL)).start()


class WaitAtEpoch(L.Callback):
    """At the start of ``epoch``, writes ``<release>.waiting`` and waits until the file ``release`` exists: a run
    held at a known point while a test does something beside it."""

    def __init__(self, epoch: int, release: str):
        self.epoch, self.release = epoch, Path(release)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch != self.epoch or self.release.exists():
            return
        self.release.with_suffix(".waiting").touch()
        while not self.release.exists():
            time.sleep(0.05)


class KillAtStep(L.Callback):
    """SIGKILLs its process (or sends it ``signal_name``) once at optimizer step ``step``: when the batch that
    makes the step starts (``at=batch_start``, the default), or after that step's checkpoints, before the epoch's
    validation and its end-of-epoch checkpoints (``at=validation_start``)."""

    def __init__(self, step: int, marker: str, at: str = "batch_start", signal_name: str = "SIGKILL"):
        self.step, self.marker, self.at, self.signum = step, Path(marker), at, getattr(signal, signal_name)

    def _kill_if_due(self, trainer: L.Trainer, hook: str) -> None:
        if hook == self.at and trainer.global_step == self.step and not self.marker.exists():
            self.marker.write_text(f"killed at {hook} of step {self.step}, epoch {trainer.current_epoch}")
            os.kill(os.getpid(), self.signum)

    def on_train_batch_start(self, trainer: L.Trainer, *args: object) -> None:
        self._kill_if_due(trainer, "batch_start")

    def on_validation_start(self, trainer: L.Trainer, *args: object) -> None:
        self._kill_if_due(trainer, "validation_start")


def wait_until(condition, what: str, patience_s: float = 120) -> None:
    """Polls ``condition`` until it holds; a RuntimeError naming ``what`` after ``patience_s`` (a hung test, not a
    verdict on timing: what is awaited happens within seconds)."""
    waited = 0.0
    while not condition():
        if waited > patience_s:
            raise RuntimeError(f"{what} did not happen within {patience_s} s")
        time.sleep(0.05)
        waited += 0.05


class _KillAtEpochStartOnceReady(L.Callback):
    """SIGKILLs its process once, at the start of ``epoch``, after :meth:`await_ready` returns (what it awaited)."""

    def __init__(self, epoch: int, marker: str):
        self.epoch, self.marker = epoch, Path(marker)

    def await_ready(self, trainer: L.Trainer) -> str:
        raise NotImplementedError

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch != self.epoch or self.marker.exists():
            return
        what = self.await_ready(trainer)
        self.marker.write_text(f"killed at epoch {self.epoch} after {what}")
        os.kill(os.getpid(), signal.SIGKILL)


class KillAfterWandbWrite(_KillAtEpochStartOnceReady):
    """SIGKILLs its process at the start of ``epoch``, once W&B has written its offline log again since then (so
    what was logged before is on disk, as it would be for a run killed long after its start)."""

    def await_ready(self, trainer: L.Trainer) -> str:
        from lightning.pytorch.loggers import WandbLogger

        run = next(logger.experiment for logger in trainer.loggers if isinstance(logger, WandbLogger))
        log_file = Path(run.dir).parent / f"run-{run.id}.wandb"
        size = log_file.stat().st_size
        wait_until(lambda: log_file.stat().st_size != size, f"W&B writing {log_file}")
        return f"W&B wrote {log_file}"


class KillWhenFileAppears(_KillAtEpochStartOnceReady):
    """SIGKILLs its process at the start of ``epoch`` once ``wait_for`` exists (another process's sign that
    something has happened, e.g. a server received the run's first validation)."""

    def __init__(self, epoch: int, marker: str, wait_for: str):
        super().__init__(epoch, marker)
        self.wait_for = Path(wait_for)

    def await_ready(self, trainer: L.Trainer) -> str:
        wait_until(self.wait_for.exists, f"{self.wait_for} appearing")
        return f"{self.wait_for} appeared"
