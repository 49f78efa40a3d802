from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MaxMetric, MeanMetric

from genlab.tasks.confusion import ConfusionCounts, accuracy, macro_f1
from genlab.tasks.optim import OptimizerFactory, SchedulerFactory
from genlab.tasks.staged import StagedTask

_STAGES = ("train", "val", "test")


class Classification(StagedTask):
    """Cross-entropy classification: loss and accuracy per epoch for train/val/test, and the best val accuracy."""

    def __init__(
        self,
        net: nn.Module,
        num_classes: int,
        optimizer: OptimizerFactory,
        scheduler: SchedulerFactory | None = None,
        scheduler_interval: str = "epoch",
        label_smoothing: float = 0.0,
    ):
        super().__init__()
        # The optimizer and scheduler factories stay out of hparams: checkpoints then hold only tensors and
        # plain values and load with torch.load(weights_only=True).
        self.save_hyperparameters(ignore=["net", "optimizer", "scheduler"], logger=False)
        self.net = net
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        for stage in _STAGES:
            setattr(self, f"{stage}_loss", MeanMetric())
            setattr(self, f"{stage}_confusion", ConfusionCounts(num_classes))
        self.val_acc_best = MaxMetric()
        self.val_confusion: ConfusionCounts  # set above, one per stage

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        return self._scored(batch, stage)[0]

    def _scored(self, batch: tuple[torch.Tensor, ...], stage: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(loss, logits, targets) of a batch, with the stage's metrics updated."""
        *inputs, y = batch
        logits = self(*inputs)
        smoothing = self.hparams["label_smoothing"] if stage == "train" else 0.0
        loss = F.cross_entropy(logits, y, label_smoothing=smoothing)
        getattr(self, f"{stage}_loss").update(loss.detach(), weight=len(y))
        getattr(self, f"{stage}_confusion").update(logits.detach(), y)
        return loss, logits, y

    def validation_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        loss, logits, y = self._scored(batch, "val")
        self.log_source_metrics(loss, dataloader_idx, len(y), acc=(logits.argmax(dim=-1) == y).float().mean())

    def _log_epoch(self, stage: str) -> None:
        loss, counts = getattr(self, f"{stage}_loss"), getattr(self, f"{stage}_confusion")
        confusion = counts.compute()
        self.log(f"{stage}/loss", loss.compute(), prog_bar=True)
        self.log(f"{stage}/acc", accuracy(confusion), prog_bar=True)
        self.log(f"{stage}/f1", macro_f1(confusion), prog_bar=True)
        loss.reset()
        counts.reset()

    def on_validation_epoch_end(self) -> None:
        self.val_acc_best(accuracy(self.val_confusion.compute()))
        self._log_epoch("val")
        self.log("val/acc_best", self.val_acc_best.compute())

    def on_train_start(self) -> None:
        # The sanity check must not count as the best validation accuracy.
        self.val_acc_best.reset()

    def example_losses(self, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """The loss of each example of a batch (what a curriculum's ReferenceLoss ranks by)."""
        *inputs, y = batch
        return F.cross_entropy(self(*inputs), y, reduction="none")

    def predict_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        inputs = batch[:-1] if isinstance(batch, (tuple, list)) else (batch,)
        return self(*inputs).argmax(dim=-1)


class SequenceClassification(Classification):
    """Classification of tokenized texts with a Hugging Face ``...ForSequenceClassification`` model."""

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:  # type: ignore[override]  # token ids and their mask, not one input tensor
        # Rows are right-padded to data.max_length; most batches need far fewer columns.
        length = max(1, int(attention_mask.sum(dim=1).max()))
        return self.net(input_ids=input_ids[:, :length], attention_mask=attention_mask[:, :length]).logits
