"""bitsandbytes 4-bit weights: which backends have them, turning linear layers into 4-bit ones and back."""

import importlib.util
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from genlab.errors import ConfigError
from genlab.hf.loading import DTYPES

# bitsandbytes 0.50 ships 4-bit kernels for these torch device types.
_BACKENDS_WITH_4BIT = ("cpu", "cuda")


def torch_dtype(name: str) -> torch.dtype:
    if name not in DTYPES:
        raise ConfigError(f"tuning.compute_dtype={name!r}: use one of {', '.join(DTYPES)}")
    return DTYPES[name]


def target_device(accelerator: str) -> str:
    """The torch device type Lightning's ``trainer.accelerator`` will train on."""
    if accelerator in ("gpu", "cuda"):
        return "cuda"
    if accelerator == "auto":
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available() else "cpu"
    return accelerator


def check_4bit_support(accelerator: str) -> str:
    """Fails, before any weights load, where 4-bit training cannot run; returns the device type it will run on."""
    if importlib.util.find_spec("bitsandbytes") is None:
        raise ConfigError("tuning=qlora needs bitsandbytes: pip install 'bitsandbytes>=0.50' (or use tuning=lora)")
    device = target_device(accelerator)
    if device not in _BACKENDS_WITH_4BIT:
        raise ConfigError(
            f"tuning=qlora: bitsandbytes has no 4-bit backend for trainer.accelerator={accelerator} ({device}); "
            f"use tuning=lora there, or trainer=cpu or a CUDA GPU for 4-bit"
        )
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"tuning=qlora: trainer.accelerator={accelerator} asks for CUDA, and torch sees no CUDA GPU")
    return device


def bnb_config(quant_type: str, double_quant: bool, dtype: torch.dtype, skip_modules: Iterable[str] = ()) -> dict:
    """The arguments of transformers' BitsAndBytesConfig for loading a pretrained model straight into 4-bit (plain
    values: Hydra passes them on to the model's loader)."""
    return {
        "load_in_4bit": True,
        "bnb_4bit_quant_type": quant_type,
        "bnb_4bit_use_double_quant": double_quant,
        "bnb_4bit_compute_dtype": str(dtype).removeprefix("torch."),
        "llm_int8_skip_modules": list(skip_modules) or None,
    }


def quantize_linears(
    net: nn.Module, skip: Iterable[str], quant_type: str, double_quant: bool, dtype: torch.dtype
) -> int:
    """Replaces every ``nn.Linear`` of one of genlab's own nets (but those named in ``skip`` and those whose weight
    is shared with another module, as a tied LM head) by a frozen bitsandbytes ``Linear4bit``; returns how many."""
    import bitsandbytes as bnb

    skip = set(skip)
    counts: dict[int, int] = {}
    for _, p in net.named_parameters(remove_duplicate=False):
        counts[id(p)] = counts.get(id(p), 0) + 1
    replaced = 0
    for name, module in list(net.named_modules()):
        for child_name, child in list(module.named_children()):
            full = f"{name}.{child_name}" if name else child_name
            if type(child) is not nn.Linear or full in skip or child_name in skip or counts[id(child.weight)] > 1:
                continue
            q = bnb.nn.Linear4bit(
                child.in_features,
                child.out_features,
                bias=child.bias is not None,
                compute_dtype=dtype,
                compress_statistics=double_quant,
                quant_type=quant_type,
            )
            q.weight = bnb.nn.Params4bit(
                child.weight.data.clone(), requires_grad=False, compress_statistics=double_quant, quant_type=quant_type
            )
            if child.bias is not None:
                # in the compute dtype from the start: bitsandbytes casts it there at the first forward anyway
                q.bias = nn.Parameter(child.bias.data.to(dtype), requires_grad=False)
            setattr(module, child_name, q.to(child.weight.device))  # moving a Params4bit quantizes it
            replaced += 1
    return replaced


def dequantize_weight(layer: Any) -> torch.Tensor:
    """The full-precision weight a bitsandbytes 4-bit layer computes with (float32)."""
    from bitsandbytes.functional import dequantize_4bit

    return dequantize_4bit(layer.weight.data, layer.weight.quant_state).float()


def is_4bit(module: nn.Module) -> bool:
    """A bitsandbytes 4-bit linear layer (not peft's adapter wrapper around one, which shares its class name)."""
    return type(module).__name__ == "Linear4bit" and type(module).__module__.startswith("bitsandbytes")


def keep_training_layout(net: nn.Module) -> None:
    """bitsandbytes 0.50 repacks a CPU 4-bit layer's weights for an inference kernel at its first no-grad eval
    forward (a validation step) and keeps them so; training steps after it then fail in that kernel, and the
    repacked weights no longer dequantize. Off for every 4-bit layer of a net that trains."""
    for module in net.modules():
        if is_4bit(module):
            module.support_avx512bf16_for_cpu = False  # type: ignore[assignment]  # a bitsandbytes flag, not a submodule


def prepare_for_4bit_training(net: Any, gradient_checkpointing: bool, upcast_to_fp32: bool) -> None:
    """What peft's ``prepare_model_for_kbit_training`` does (freeze, let gradients reach the inputs of
    checkpointed blocks, gradient checkpointing on transformers models) with its fp32 upcast of every
    non-quantized weight made optional: on a model with a large vocabulary the upcast embeddings cost more memory
    than quantization saves (SmolLM2-135M: 28M embedding parameters of 135M; see BENCHMARKS.md)."""
    if upcast_to_fp32:
        from peft import prepare_model_for_kbit_training

        prepare_model_for_kbit_training(
            net, use_gradient_checkpointing=gradient_checkpointing and hasattr(net, "gradient_checkpointing_enable")
        )
        return
    net.requires_grad_(False)
    if gradient_checkpointing and hasattr(net, "gradient_checkpointing_enable"):
        net.enable_input_require_grads()
        net.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
        net.config.use_cache = False
