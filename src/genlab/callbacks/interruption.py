"""A run stopped by SIGTERM (a scheduler, ``kill``) or SIGINT (Ctrl+C) stops at the next batch boundary, saves a
checkpoint where it is safe to resume from, and says how to resume: genlab.core.run turns ``RunStopped`` into one
line and a non-zero exit (130 for SIGINT, 143 for SIGTERM, as shells report them)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import lightning as L

log = logging.getLogger("genlab")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class RunStopped(BaseException):
    """Raised at a batch boundary after a stop signal. A BaseException, as KeyboardInterrupt is: it ends the run
    through Lightning's interruption path (callbacks' ``on_exception``, loggers finalized) and is no failure of the
    run's own making. ``checkpoint``: the one saved on the way out (None: none was safe to save there)."""

    def __init__(self, signum: int, checkpoint: Path | None, where: str):
        super().__init__(f"stopped by {signal.Signals(signum).name} {where}")
        self.signum, self.checkpoint, self.where = signum, checkpoint, where
        self.advice = ""  # how to continue, filled in by the run that knows its command line

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class StopOnSignal(L.Callback):
    """On SIGTERM or SIGINT, finish the batch in hand, then stop. Mid-epoch in training it saves
    ``checkpoints/steps/interrupted-step=<n>.ckpt`` first (what ``resume=true`` continues from, like a step
    checkpoint); from an epoch's last batch or its validation it lets the epoch finish (validation,
    ``last.ckpt``) and stops as the next one starts; in test or prediction it stops at once (a resumed run
    continues from the newest checkpoint). A second Ctrl+C stops at once, without a checkpoint.

    Not on several processes (DDP): a checkpoint there needs every rank at the same step, which Lightning's own
    SIGTERM handling (all ranks stop before the same batch) sees to."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def _take_signals(self, trainer: L.Trainer) -> None:
        # in place of Lightning's SIGTERM handler, set up just before this hook, while the trainer runs (Lightning
        # restores what it replaced): it would stop at an epoch's last batch before its validation and checkpoint.
        # Under SLURM, SIGTERM stays Lightning's: it holds the job while Lightning requeues it.
        if trainer.world_size > 1 or self._previous or threading.current_thread() is not threading.main_thread():
            return  # (Python lets only the main thread set signal handlers)
        for signum in STOP_SIGNALS:
            if signum == signal.SIGTERM and "SLURM_JOB_ID" in os.environ:
                continue
            self._previous[signum] = signal.getsignal(signum)
            signal.signal(signum, self._on_signal)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._take_signals(trainer)

    def on_test_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._take_signals(trainer)
        self._stop_here("after training")

    def on_predict_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._take_signals(trainer)
        self._stop_here("before prediction")

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        # after an exception Lightning calls no teardown hook, but its signal connector puts back every handler
        # it found when the trainer started (tests/e2e/test_stop_signals.py checks it)
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.received == signal.SIGINT and signum == signal.SIGINT:
            raise KeyboardInterrupt  # Ctrl+C twice: now
        if self.received is None:
            self.received = signum
            log.warning(f"{signal.Signals(signum).name} received: stopping after this batch (Ctrl+C again: at once)")

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        if self.received is None or trainer.fit_loop.epoch_loop.batch_progress.is_last_batch:
            return
        path = Path(trainer.default_root_dir) / "checkpoints" / "steps" / f"interrupted-step={trainer.global_step}.ckpt"
        trainer.save_checkpoint(path)
        raise RunStopped(self.received, path, f"at step {trainer.global_step} (epoch {trainer.current_epoch})")

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._stop_here(f"after epoch {trainer.current_epoch - 1}")

    def on_test_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        self._stop_here("during test")

    def on_predict_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        self._stop_here("during prediction")

    def _stop_here(self, where: str) -> None:
        if self.received is not None:
            raise RunStopped(self.received, None, where)
