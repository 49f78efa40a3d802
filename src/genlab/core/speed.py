"""How fast a run computes: the numeric precision ``trainer.precision=auto`` picks, and ``compile=true``."""

import logging
import os
from pathlib import Path

import torch
from torch import nn

log = logging.getLogger("genlab")

AUTO = "auto"


def autocast_device(accelerator: str) -> str:
    """The device type a trainer's ``accelerator`` runs on: cuda, mps or cpu (``auto`` as Lightning resolves it),
    or the accelerator's own name for any other (xla, ...)."""
    if accelerator in ("gpu", "cuda") or (accelerator == AUTO and torch.cuda.is_available()):
        return "cuda"
    if accelerator == "mps" or (accelerator == AUTO and torch.backends.mps.is_available()):
        return "mps"
    return "cpu" if accelerator == AUTO else accelerator


def native_bf16(device: str) -> str | None:
    """What computes bf16 natively on ``device`` (e.g. "this CPU's AVX512-BF16"), or None."""
    if device == "cuda":
        return "this GPU" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else None
    if device != "cpu":
        return None  # mps, xla, ...: no claim either way
    capabilities = torch.cpu.get_capabilities()
    found = [name for key, name in (("amx_bf16", "AMX-BF16"), ("avx512_bf16", "AVX512-BF16")) if capabilities.get(key)]
    return f"this CPU's {'/'.join(found)}" if found else None


def check_bf16_kernels(net: nn.Module, precision: str | int | None, accelerator: str) -> None:
    """bf16 autocast asked for on a CPU without native bf16: its matrix products are emulated (a warning), and with
    an LSTM in the net an error: oneDNN has no bf16 LSTM there, and the first forward pass fails ("could not create a primitive descriptor for the LSTM forward
    propagation primitive"; intel/torch-xpu-ops#4066, fixed by pytorch/pytorch#187334 after torch 2.13). Said
    before training instead. GRU and plain RNN layers run."""
    if str(precision) not in ("bf16-mixed", "bf16") or autocast_device(accelerator) != "cpu" or native_bf16("cpu"):
        return
    # measured on a 2-core AMD EPYC without AVX-512 (scripts/readme_figures.py): 0.75 vs 130 GFLOP/s
    log.warning(
        f"trainer.precision={precision}: this CPU has no native bf16 (AVX512-BF16 or AMX), so bf16 matrix products "
        f"are emulated, far slower than fp32 (about 170x on a 2-core AMD EPYC); trainer.precision=auto picks "
        f"32-true here"
    )
    if any(isinstance(module, nn.LSTM) for module in net.modules()):
        from genlab.errors import ConfigError

        raise ConfigError(
            f"trainer.precision={precision}: this CPU has no native bf16 (AVX512-BF16 or AMX), and PyTorch has no "
            f"bf16 LSTM for it; use trainer.precision=auto or 32-true, or model.cell=gru"
        )


def resolve_precision(precision: str | int | None, accelerator: str) -> str | int | None:
    """``auto``: bf16 autocast (``bf16-mixed``) where the device computes bf16 natively, full fp32 elsewhere
    (where bf16 would be emulated, slower than fp32). Any other value is the user's and passes through."""
    if precision != AUTO:
        return precision
    device = autocast_device(str(accelerator))
    unit = native_bf16(device)
    if unit:
        log.info("trainer.precision=auto: bf16-mixed (bf16 is native on %s)", unit)
        return "bf16-mixed"
    log.info(
        "trainer.precision=auto: 32-true (no native bf16 on this %s)", {"cuda": "GPU", "cpu": "CPU"}.get(device, device)
    )
    return "32-true"


def compile_net(net: nn.Module, mode: str | None, cache_dir: str | Path) -> None:
    """``torch.compile`` the net in place: its state-dict keys stay those of the eager net, so checkpoints,
    adapters and resume work as without compiling. Inductor keeps its compiled kernels and graphs under
    ``cache_dir`` (unless TORCHINDUCTOR_CACHE_DIR says elsewhere), so the next run of the same net reuses them."""
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(Path(cache_dir) / "torch_compile"))
    net.compile(mode=mode)
