from collections.abc import Callable

from torch import nn

from genlab.core.checkpoints import load_net_weights

NetFactory = Callable[..., nn.Module]


class FullTuning:
    """Every parameter trains. ``base_weights`` starts one of genlab's own nets from a genlab checkpoint or a
    .safetensors file instead of a random init (pretrained Hugging Face models come with their own)."""

    adapters = False
    merge = False

    def __init__(self, base_weights: str | None = None):
        self.base_weights = base_weights

    def build(self, make_net: NetFactory, loads_quantized: bool = False, accelerator: str = "auto") -> nn.Module:
        """The net as it will train. ``make_net(**kwargs)`` instantiates model=...; ``loads_quantized`` says
        whether it takes a ``quantization_config`` (the Hugging Face loaders do); ``accelerator`` is the trainer's."""
        net = make_net()
        self.load_base(net)
        return self.apply(net)

    def load_base(self, net: nn.Module) -> None:
        if self.base_weights:
            load_net_weights(net, self.base_weights)

    def apply(self, net: nn.Module) -> nn.Module:
        net.requires_grad_(True)
        return net
