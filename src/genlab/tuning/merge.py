"""Folding a trained LoRA adapter into a standalone model, checked against the adapter model it came from."""

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from genlab.core.checkpoints import save_net_weights
from genlab.errors import GenlabError
from genlab.tuning.quantize import dequantize_weight, is_4bit
from genlab.tuning.targets import is_pretrained

log = logging.getLogger("genlab")


def dequantized_base(adapter_net: Any, make_net: Callable[[], nn.Module], base_state: dict | None) -> nn.Module:
    """The base model in full precision, holding exactly the weights the adapter was trained on: a 4-bit layer's
    weights are dequantized into it (merging into the original weights, or re-quantizing after the merge as
    peft does for a 4-bit base, gives a model that differs from the one trained)."""
    base = make_net()
    if base_state is not None:
        base.load_state_dict(base_state)
    for name, module in adapter_net.get_base_model().named_modules():
        if is_4bit(module):
            target: Any = base.get_submodule(name.replace(".base_layer", ""))
            target.weight.data = dequantize_weight(module).to(target.weight.dtype).to(target.weight.device)
    return base


def merge_adapter(adapter_net: Any, make_net: Callable[[], nn.Module], base_state: dict | None) -> nn.Module:
    from peft import get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict

    base = dequantized_base(adapter_net, make_net, base_state)
    config = adapter_net.peft_config["default"]
    merged = get_peft_model(base, config)
    set_peft_model_state_dict(merged, get_peft_model_state_dict(adapter_net))
    return merged.merge_and_unload()


def logits_difference(adapter_logits: torch.Tensor, merged_logits: torch.Tensor) -> float:
    """Largest absolute difference, relative to the largest absolute logit."""
    a, b = adapter_logits.float(), merged_logits.float()
    return float((a - b).abs().max() / a.abs().max().clamp(min=1e-12))


def tolerance(adapter_net: nn.Module) -> float:
    """What rounding alone explains: fp32 arithmetic agrees to ~1e-6; a 4-bit layer computes in its compute dtype
    (bf16 keeps 8 bits of mantissa), and its rounding errors add up over the layers."""
    dtypes: set[torch.dtype] = {cast(torch.dtype, m.compute_dtype) for m in adapter_net.modules() if is_4bit(m)}
    dtypes |= {p.dtype for p in adapter_net.parameters() if p.is_floating_point()}
    return 5e-2 if dtypes & {torch.bfloat16, torch.float16} else 1e-4


def save_merged(merged: Any, folder: Path, tokenizer: Any, report: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if is_pretrained(merged):
        merged.save_pretrained(str(folder))
    else:
        save_net_weights(merged.state_dict(), folder / "model.safetensors")
    if tokenizer is not None and hasattr(tokenizer, "save_pretrained"):
        tokenizer.save_pretrained(str(folder))
    (folder / "merge_check.json").write_text(json.dumps(report, indent=2))


def check_merge(difference: float, limit: float) -> None:
    if difference > limit:
        raise GenlabError(
            f"merged model's logits differ from the adapter model's by {difference:.2e} (relative), more than "
            f"rounding explains ({limit:.0e}); the merged folder was kept for inspection"
        )
    log.info(f"merged model matches the adapter model: logits differ by {difference:.2e} (relative; limit {limit:.0e})")
