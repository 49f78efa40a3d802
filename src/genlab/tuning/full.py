from torch import nn


def count_parameters(net: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    total = sum(p.numel() for p in net.parameters())
    trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
    return trainable, total


class FullTuning:
    """Every parameter trains."""

    def apply(self, net: nn.Module) -> nn.Module:
        net.requires_grad_(True)
        return net
