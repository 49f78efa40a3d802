import lightning as L
import torch

from genlab.tasks.optim import configure_optimizers


class StagedTask(L.LightningModule):
    """The train/val/test plumbing shared by genlab's tasks.

    A task implements ``_step(batch, stage) -> loss`` (accumulating its metrics in torchmetrics objects) and
    ``_log_epoch(stage)``; metrics are logged once per epoch because each ``self.log`` call costs about a
    millisecond of bookkeeping, more than a small net's whole training step. It keeps the net in ``self.net``
    and its optimizer and scheduler factories in ``self.optimizer_factory`` and ``self.scheduler_factory``.
    """

    monitor_for_scheduler = "val/loss"

    def _step(self, batch, stage: str) -> torch.Tensor:
        raise NotImplementedError

    def _log_epoch(self, stage: str) -> None:
        raise NotImplementedError

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        loss = self._step(batch, "train")
        if batch_idx % self.trainer.log_every_n_steps == 0:
            self.log("train/loss_step", loss.detach(), on_step=True, on_epoch=False, prog_bar=True)
        return loss

    def on_train_epoch_end(self) -> None:
        self._log_epoch("train")

    def validation_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "val")

    def on_validation_epoch_end(self) -> None:
        self._log_epoch("val")

    def test_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "test")

    def on_test_epoch_end(self) -> None:
        self._log_epoch("test")

    def configure_optimizers(self) -> dict:
        return configure_optimizers(
            self.net, self.optimizer_factory, self.scheduler_factory, self.hparams.scheduler_interval, self.monitor_for_scheduler
        )
