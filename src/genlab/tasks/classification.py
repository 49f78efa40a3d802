import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MaxMetric, MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from genlab.tasks.optim import OptimizerFactory, SchedulerFactory, configure_optimizers

_STAGES = ("train", "val", "test")


class Classification(L.LightningModule):
    """Cross-entropy classification: loss and accuracy per epoch for train/val/test, and the best val accuracy.

    Metrics accumulate in torchmetrics objects during the epoch and are logged once at its end: each
    ``self.log`` call costs about a millisecond of bookkeeping, more than a small net's whole training step.
    """

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
            setattr(self, f"{stage}_acc", MulticlassAccuracy(num_classes, average="micro"))
        self.val_acc_best = MaxMetric()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> torch.Tensor:
        x, y = batch
        logits = self(x)
        smoothing = self.hparams.label_smoothing if stage == "train" else 0.0
        loss = F.cross_entropy(logits, y, label_smoothing=smoothing)
        getattr(self, f"{stage}_loss").update(loss.detach(), weight=len(y))
        getattr(self, f"{stage}_acc").update(logits.detach(), y)
        return loss

    def _log_epoch(self, stage: str) -> None:
        for name in ("loss", "acc"):
            metric = getattr(self, f"{stage}_{name}")
            self.log(f"{stage}/{name}", metric.compute(), prog_bar=True)
            metric.reset()

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
        self.val_acc_best(self.val_acc.compute())
        self._log_epoch("val")
        self.log("val/acc_best", self.val_acc_best.compute())

    def on_train_start(self) -> None:
        # The sanity check must not count as the best validation accuracy.
        self.val_acc_best.reset()

    def test_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "test")

    def on_test_epoch_end(self) -> None:
        self._log_epoch("test")

    def predict_step(self, batch, batch_idx: int) -> torch.Tensor:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        return self(x).argmax(dim=-1)

    def configure_optimizers(self) -> dict:
        return configure_optimizers(self.net, self.optimizer_factory, self.scheduler_factory, self.hparams.scheduler_interval)
