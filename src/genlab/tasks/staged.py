from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities.types import OptimizerLRScheduler
from torch import nn

from genlab.core.checkpoints import check_frozen_weights, drop_frozen_weights, save_class_names
from genlab.core.protocols import MixedData
from genlab.tasks.optim import OptimizerFactory, SchedulerFactory, configure_optimizers


class StagedTask(L.LightningModule):
    """The train/val/test plumbing shared by genlab's tasks.

    A task implements ``_step(batch, stage) -> loss`` (accumulating its metrics in torchmetrics objects) and
    ``_log_epoch(stage)``; metrics are logged once per epoch because each ``self.log`` call costs about a
    millisecond of bookkeeping, more than a small net's whole training step. It keeps the net in ``self.net``
    and its optimizer and scheduler factories in ``self.optimizer_factory`` and ``self.scheduler_factory``.

    Frozen parameters (a LoRA run's base model) stay out of checkpoints: they cannot change in training and come
    back from the model's source when the run is rebuilt, so a SmolLM2 LoRA checkpoint is megabytes, not the
    1.6 GB of a full one. A fingerprint of them goes in instead, and loading checks it, so a checkpoint never
    lands on a different base (another seed, another model) unnoticed.
    """

    monitor_for_scheduler = "val/loss"
    net: nn.Module
    optimizer_factory: OptimizerFactory
    scheduler_factory: SchedulerFactory | None

    def _step(self, batch: Any, stage: str) -> torch.Tensor:
        raise NotImplementedError

    def _log_epoch(self, stage: str) -> None:
        raise NotImplementedError

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        loss = self._step(batch, "train")
        # Trainer sets log_every_n_steps in __init__ without declaring it
        if batch_idx % self.trainer.log_every_n_steps == 0:  # type: ignore[attr-defined]
            self.log("train/loss_step", loss.detach(), on_step=True, on_epoch=False, prog_bar=True)
        return loss

    def on_train_epoch_end(self) -> None:
        self._log_epoch("train")

    def validation_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        loss = self._step(batch, "val")
        self.log_source_metrics(loss, dataloader_idx)

    def log_source_metrics(
        self, loss: torch.Tensor, dataloader_idx: int, batch_size: int | None = None, **more: torch.Tensor
    ) -> None:
        """With mixed data (data=mixture), each validation loader is a source: its loss (and ``more`` batch means,
        e.g. ``acc``) as ``val/<source>/<name>`` beside the overall metrics, averaged over the source's examples."""
        datamodule = self.trainer.datamodule if self._trainer is not None else None  # type: ignore[attr-defined]
        if isinstance(datamodule, MixedData):
            source = datamodule.source_names[dataloader_idx]
            for name, value in {"loss": loss, **more}.items():
                self.log(
                    f"val/{source}/{name}",
                    value.detach(),
                    on_step=False,
                    on_epoch=True,
                    add_dataloader_idx=False,
                    batch_size=batch_size,
                )

    def on_validation_epoch_end(self) -> None:
        self._log_epoch("val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "test")

    def on_test_epoch_end(self) -> None:
        self._log_epoch("test")

    def configure_optimizers(self) -> OptimizerLRScheduler:
        return configure_optimizers(
            self.net,
            self.optimizer_factory,
            self.scheduler_factory,
            self.hparams["scheduler_interval"],
            self.monitor_for_scheduler,
        )

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        drop_frozen_weights(self, checkpoint)
        save_class_names(self, checkpoint)

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.strict_loading = check_frozen_weights(self, checkpoint)
