from collections.abc import Callable, Iterable

import torch
from torch import nn

OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]
SchedulerFactory = Callable[[torch.optim.Optimizer], torch.optim.lr_scheduler.LRScheduler]


def configure_optimizers(
    net: nn.Module,
    optimizer: OptimizerFactory,
    scheduler: SchedulerFactory | None,
    interval: str = "epoch",
    monitor: str = "val/loss",
) -> dict:
    """Lightning's optimizer dict for the trainable parameters only (frozen ones stay out of optimizer state)."""
    opt = optimizer(params=[p for p in net.parameters() if p.requires_grad])
    if scheduler is None:
        return {"optimizer": opt}
    return {"optimizer": opt, "lr_scheduler": {"scheduler": scheduler(optimizer=opt), "interval": interval, "monitor": monitor}}
