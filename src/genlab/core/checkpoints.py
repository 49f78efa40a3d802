"""Everything about checkpoints and weights: finding the newest checkpoint of a run folder, loading weights with
their checks, genlab nets' weights as safetensors, keeping frozen weights out of checkpoints (with a fingerprint
that loading checks), and parameter counts.

torch is imported inside the functions: run folders are looked up while Hydra composes, before anything heavy.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from genlab.errors import ConfigError

if TYPE_CHECKING:
    import lightning as L
    import torch
    from torch import nn

FINGERPRINT_KEY = "frozen_weights_fingerprint"


def newest_checkpoint(run_folder: str | Path) -> Path | None:
    """What a resumed run continues from: the newest of ``checkpoints/last.ckpt`` (every epoch), the step
    checkpoints in ``checkpoints/steps/`` (callbacks=[default,step_checkpoints]) and the ``hpc_ckpt_*.ckpt`` that
    Lightning saves in the run folder when SLURM signals a requeue, or None."""
    folder = Path(run_folder) / "checkpoints"
    saved = (folder / "last.ckpt", *folder.glob("steps/*.ckpt"), *Path(run_folder).glob("hpc_ckpt_*.ckpt"))
    candidates = [p for p in saved if p.is_file()]
    return max(candidates, key=lambda p: p.stat().st_mtime_ns, default=None)


def run_checkpoint(run_dir: str | Path, name: str = "last.ckpt") -> Path:
    """A named checkpoint of a finished run, or a one-line error saying which ones there are."""
    path = Path(run_dir) / "checkpoints" / name
    if not path.is_file():
        raise ConfigError(
            f"{path}: no such checkpoint; train the run first (or pick one of {run_dir}/checkpoints/*.ckpt)"
        )
    return path


def load_checkpoint_weights(module: L.LightningModule, ckpt_path: str | Path | None) -> None:
    """A checkpoint's weights into the module in hand, through the same checks as Lightning's own loading
    (the module's ``on_load_checkpoint`` checks the frozen-weights fingerprint)."""
    import torch

    if not ckpt_path:
        return
    checkpoint = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    module.on_load_checkpoint(checkpoint)
    module.load_state_dict(checkpoint["state_dict"], strict=module.strict_loading)


def load_net_weights(net: nn.Module, path: str | Path, key: str = "tuning.base_weights") -> None:
    """Weights for one of genlab's own nets: a genlab checkpoint (its ``net.*`` entries) or a .safetensors file."""
    import torch

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


def count_parameters(net: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts; a 4-bit weight counts as the parameters it stands for."""
    import torch

    trainable = total = 0
    for p in net.parameters():
        n = p.numel() * 2 if p.dtype == torch.uint8 and type(p).__name__ == "Params4bit" else p.numel()
        total += n
        trainable += n if p.requires_grad else 0
    return trainable, total


def frozen_parameters(module: nn.Module) -> dict[str, torch.Tensor]:
    return {name: p for name, p in module.named_parameters() if not p.requires_grad}


def is_frozen(key: str, frozen: dict[str, torch.Tensor]) -> bool:
    """A state-dict entry of a frozen parameter, including the extra entries of a 4-bit one (``weight.absmax``…)."""
    parts = key.split(".")
    return any(".".join(parts[:i]) in frozen for i in range(len(parts), 0, -1))


def fingerprint(frozen: dict[str, torch.Tensor]) -> torch.Tensor:
    """Per frozen tensor, float64 sums of all its values and of every seventh (no copy of the weights is made)."""
    import torch

    sums = [
        torch.stack([p.detach().sum(dtype=torch.float64), p.detach().flatten()[::7].sum(dtype=torch.float64)])
        for p in frozen.values()
    ]
    return torch.cat(sums).cpu() if sums else torch.zeros(0, dtype=torch.float64)


def drop_frozen_weights(module: nn.Module, checkpoint: dict) -> None:
    """Before saving: frozen parameters (a LoRA run's base model) leave the checkpoint, their fingerprint goes in.

    They cannot change in training and come back from the model's source when the run is rebuilt, so a SmolLM2
    LoRA checkpoint is megabytes, not the 1.6 GB of a full one.
    """
    frozen = frozen_parameters(module)
    if frozen:
        checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if not is_frozen(k, frozen)}
        checkpoint[FINGERPRINT_KEY] = fingerprint(frozen)


def check_frozen_weights(module: nn.Module, checkpoint: dict) -> bool:
    """Before loading a checkpoint saved by ``drop_frozen_weights``: its trained weights are all there and the
    module's frozen weights are those it was trained on. Returns whether loading may be strict (no weights were
    left out of the checkpoint)."""
    import torch

    if FINGERPRINT_KEY not in checkpoint:
        return True
    frozen = frozen_parameters(module)
    missing = sorted(k for k in module.state_dict() if not is_frozen(k, frozen) and k not in checkpoint["state_dict"])
    saved = checkpoint[FINGERPRINT_KEY]
    if missing or saved.shape != (2 * len(frozen),) or not torch.allclose(saved, fingerprint(frozen), rtol=1e-6):
        detail = f"it lacks {missing[:3]}" if missing else "its frozen base weights differ from this run's"
        raise ConfigError(
            f"checkpoint does not fit this model: {detail}; build the run as it was trained (same model, "
            f"tuning and seed; <run>/config_resolved.yaml has them)"
        )
    return False  # the frozen weights are already in place
