"""A run whose ``trainer.max_steps`` ends training before its first validation says so as it starts: it has no
``val/`` metrics, so no best checkpoint (test and predict use the last weights) and nothing for a sweep or early
stopping to go by."""

from __future__ import annotations

import logging

import lightning as L

log = logging.getLogger("genlab")


class WarnIfNeverValidated(L.Callback):
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        first = first_validation_batch(trainer)
        batches = trainer.max_steps * trainer.accumulate_grad_batches
        if first is None or trainer.max_steps < 0 or batches >= first:
            return
        log.warning(
            f"trainer.max_steps={trainer.max_steps} ends training after {batches} batches, before the first "
            f"validation (after batch {first}): no val/ metrics and no best checkpoint (last.ckpt is kept, and test "
            f"uses the last weights); raise trainer.max_steps, or validate sooner with "
            f"trainer.val_check_interval=<batches>"
        )


def first_validation_batch(trainer: L.Trainer) -> int | None:
    """How many training batches run before the first validation (None: this fit does not validate)."""
    if not trainer.enable_validation or trainer.val_check_batch is None:
        return None
    batch = int(trainer.val_check_batch)
    if trainer.check_val_every_n_epoch is not None and batch >= trainer.num_training_batches:
        batch = int(trainer.num_training_batches) * trainer.check_val_every_n_epoch  # validation at an epoch's end
    return batch
