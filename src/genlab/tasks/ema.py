from collections.abc import Iterator

import torch
from torch import nn


class ExponentialMovingAverage(nn.Module):
    """A running average of a net's trainable parameters, held as buffers: it lands in checkpoints (so resume and
    prediction see it) without counting as parameters or entering the optimizer. Frozen parameters (a LoRA base)
    never change, so they are not copied. The decay warms up as (1 + n) / (10 + n), as in diffusers' EMAModel,
    so the first steps do not drag the random initialization along."""

    def __init__(self, net: nn.Module, decay: float = 0.999):
        super().__init__()
        if not 0 < decay < 1:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        trainable = [(name, p) for name, p in net.named_parameters() if p.requires_grad]
        self.names = [name for name, _ in trainable]
        for name, p in trainable:
            self.register_buffer(_buffer_name(name), p.detach().clone())
        self.updates: torch.Tensor
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))

    def averages(self) -> Iterator[torch.Tensor]:
        return (getattr(self, _buffer_name(name)) for name in self.names)

    def current_decay(self) -> float:
        n = int(self.updates.item())
        return min(self.decay, (1 + n) / (10 + n))

    @torch.no_grad()
    def update(self, net: nn.Module) -> None:
        weight = 1 - self.current_decay()
        params = dict(net.named_parameters())
        for name, average in zip(self.names, self.averages()):
            average.lerp_(params[name].detach().to(average.dtype), weight)
        self.updates.add_(1)

    def as_parameters(self) -> dict[str, torch.Tensor]:
        """name → averaged tensor, for torch.func.functional_call(net, ...): the net runs on the averages
        without its own weights being swapped out and back."""
        return dict(zip(self.names, self.averages()))


def _buffer_name(parameter_name: str) -> str:
    return "avg__" + parameter_name.replace(".", "__")
