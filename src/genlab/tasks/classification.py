import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MaxMetric
from torchmetrics.classification import MulticlassAccuracy

from genlab.tasks.optim import OptimizerFactory, SchedulerFactory, configure_optimizers


class Classification(L.LightningModule):
    """Cross-entropy classification with accuracy for train/val/test and the best validation accuracy so far."""

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
        self.metrics = nn.ModuleDict(
            {stage: MulticlassAccuracy(num_classes, average="micro") for stage in ("train_acc", "val_acc", "test_acc")}
        )
        self.val_acc_best = MaxMetric()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> torch.Tensor:
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y, label_smoothing=self.hparams.label_smoothing if stage == "train" else 0.0)
        accuracy = self.metrics[f"{stage}_acc"]
        accuracy(logits, y)
        on_step = stage == "train"
        self.log(f"{stage}/loss", loss, on_step=on_step, on_epoch=True, prog_bar=True, batch_size=len(y))
        self.log(f"{stage}/acc", accuracy, on_step=False, on_epoch=True, prog_bar=True)
        return loss

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "val")

    def on_validation_epoch_end(self) -> None:
        self.val_acc_best(self.metrics["val_acc"].compute())
        self.log("val/acc_best", self.val_acc_best.compute(), sync_dist=True)

    def on_train_start(self) -> None:
        # The sanity check must not count as the best validation accuracy.
        self.val_acc_best.reset()

    def test_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "test")

    def predict_step(self, batch, batch_idx: int) -> torch.Tensor:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        return self(x).argmax(dim=-1)

    def configure_optimizers(self) -> dict:
        return configure_optimizers(self.net, self.optimizer_factory, self.scheduler_factory, self.hparams.scheduler_interval)
