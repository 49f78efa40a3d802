"""Stops a diverged run at once with a clear error, instead of training on NaNs until the last epoch."""

from collections.abc import Mapping

import lightning as L
import torch

from genlab.errors import GenlabError


class TrainingDiverged(GenlabError):
    """The training loss became NaN or infinite."""


class FiniteLoss(L.Callback):
    """Raises TrainingDiverged when a training step's loss is not finite (a sweep then records the trial as
    failed and goes on). Costs one device sync per step."""

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs, batch, batch_idx: int
    ) -> None:
        loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
        if not isinstance(loss, torch.Tensor):
            return
        diverged = not bool(torch.isfinite(loss.detach()).all())
        # all ranks decide together: one rank raising alone would leave the others waiting in a collective
        if trainer.world_size > 1:
            diverged = trainer.strategy.reduce_boolean_decision(diverged, all=False)
        if diverged:
            raise TrainingDiverged(
                f"the training loss became {loss.detach().float().mean().item()} at step {trainer.global_step} "
                f"(epoch {trainer.current_epoch}): lower task.optimizer.lr, set trainer.gradient_clip_val, or check the data"
            )
