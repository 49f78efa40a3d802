import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanMetric, MeanSquaredError

from genlab.tasks.optim import OptimizerFactory, SchedulerFactory
from genlab.tasks.staged import StagedTask

_STAGES = ("train", "val", "test")


class Forecasting(StagedTask):
    """The next ``horizon`` steps of every feature from the ``context_length`` before them (data=sequence_forecast):
    the net's flat output [B, horizon × features] is read as [B, horizon, features] and trained by mean squared
    error. Each epoch logs MAE and RMSE (in the data's normalized units) and, beside them, those of the naive
    forecast that repeats the last seen step: a model is worth having where it beats it."""

    def __init__(
        self,
        net: nn.Module,
        optimizer: OptimizerFactory,
        scheduler: SchedulerFactory | None = None,
        scheduler_interval: str = "epoch",
    ):
        super().__init__()
        self.save_hyperparameters(ignore=["net", "optimizer", "scheduler"], logger=False)
        self.net = net
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        for stage in _STAGES:
            for name in ("loss", "mae", "naive_mae"):
                setattr(self, f"{stage}_{name}", MeanMetric())
            for name in ("rmse", "naive_rmse"):
                setattr(self, f"{stage}_{name}", MeanSquaredError(squared=False))

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        return self.net(context)

    def output_shape(self, input_shape: list[int], num_classes: int | None) -> tuple[int, ...] | None:
        return (num_classes,) if num_classes is not None else None

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> torch.Tensor:
        context, target = batch
        forecast = self(context).reshape(target.shape)
        naive = context[:, -1:].expand_as(target)
        loss = F.mse_loss(forecast, target)
        getattr(self, f"{stage}_loss").update(loss.detach(), weight=len(target))
        getattr(self, f"{stage}_mae").update((forecast.detach() - target).abs().mean(), weight=len(target))
        getattr(self, f"{stage}_naive_mae").update((naive - target).abs().mean(), weight=len(target))
        getattr(self, f"{stage}_rmse").update(forecast.detach().flatten(), target.flatten())
        getattr(self, f"{stage}_naive_rmse").update(naive.flatten(), target.flatten())
        return loss

    def _log_epoch(self, stage: str) -> None:
        for name in ("loss", "mae", "rmse", "naive_mae", "naive_rmse"):
            metric = getattr(self, f"{stage}_{name}")
            self.log(f"{stage}/{name}", metric.compute(), prog_bar=name in ("loss", "mae"))
            metric.reset()
