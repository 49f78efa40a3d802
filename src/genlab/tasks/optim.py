from collections.abc import Callable

import torch
from lightning.pytorch.utilities.types import OptimizerLRScheduler
from torch import nn

# Hydra partials, called with keywords: optimizer(params=...), scheduler(optimizer=...)
OptimizerFactory = Callable[..., torch.optim.Optimizer]
SchedulerFactory = Callable[..., torch.optim.lr_scheduler.LRScheduler]


def configure_optimizers(
    net: nn.Module,
    optimizer: OptimizerFactory,
    scheduler: SchedulerFactory | None,
    interval: str = "epoch",
    monitor: str = "val/loss",
) -> OptimizerLRScheduler:
    """Lightning's optimizer dict for the trainable parameters only (frozen ones stay out of optimizer state)."""
    opt = optimizer(params=[p for p in net.parameters() if p.requires_grad])
    if scheduler is None:
        return {"optimizer": opt}
    return {
        "optimizer": opt,
        "lr_scheduler": {"scheduler": scheduler(optimizer=opt), "interval": interval, "monitor": monitor},
    }
