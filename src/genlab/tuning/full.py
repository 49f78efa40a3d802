from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from genlab.errors import ConfigError

NetFactory = Callable[..., nn.Module]


def count_parameters(net: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts; a 4-bit weight counts as the parameters it stands for."""
    trainable = total = 0
    for p in net.parameters():
        n = p.numel() * 2 if p.dtype == torch.uint8 and type(p).__name__ == "Params4bit" else p.numel()
        total += n
        trainable += n if p.requires_grad else 0
    return trainable, total


def load_net_weights(net: nn.Module, path: str | Path, key: str = "tuning.base_weights") -> None:
    """Weights for one of genlab's own nets: a genlab checkpoint (its ``net.*`` entries) or a .safetensors file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{key}={path}: no such file; give a genlab .ckpt or a .safetensors state dict")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(path)
    else:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        state = {k.removeprefix("net."): v for k, v in ckpt.get("state_dict", ckpt).items() if k.startswith("net.")}
    missing, unexpected = net.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ConfigError(
            f"{key}={path} does not fit {type(net).__name__}: missing {missing[:5]}, unexpected {unexpected[:5]}; "
            f"was it saved from the same model=... settings?"
        )


def save_net_weights(state: dict[str, torch.Tensor], path: Path) -> None:
    """A state dict as .safetensors, each tensor its own copy (safetensors refuses tied weights that share memory)."""
    from safetensors.torch import save_file

    save_file({k: v.detach().cpu().clone() for k, v in state.items()}, str(path))


class FullTuning:
    """Every parameter trains. ``base_weights`` starts one of genlab's own nets from a genlab checkpoint or a
    .safetensors file instead of a random init (pretrained Hugging Face models come with their own)."""

    adapters = False

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
