"""Which layers of a net get LoRA adapters, and which train in full beside them (a classifier's new head)."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from torch import nn

from genlab.core.protocols import PretrainedModel
from genlab.errors import ConfigError

log = logging.getLogger("genlab")

_ADAPTABLE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
_RECURRENT = (nn.RNN, nn.LSTM, nn.GRU)
# The heads transformers' ...ForSequenceClassification models put on top of an encoder.
_HF_CLASSIFIER_HEADS = ("classifier", "score")


@dataclass
class Targets:
    """What peft's LoraConfig needs to know about a net."""

    modules: list[str]
    parameters: list[str] = field(default_factory=list)  # recurrent weights, which peft adapts as parameters
    head: list[str] = field(default_factory=list)  # modules_to_save: trained in full, saved with the adapter
    task_type: str | None = None


def is_pretrained(net: nn.Module) -> bool:
    """A transformers model (as opposed to one of genlab's own nets)."""
    return isinstance(net, PretrainedModel)


def task_type(net: nn.Module) -> str | None:
    name = type(net).__name__
    if name.endswith("ForCausalLM"):
        return "CAUSAL_LM"
    if name.endswith("ForSequenceClassification"):
        return "SEQ_CLS"
    return None


def head_names(net: nn.Module) -> list[str]:
    """The output layer that a classifier needs to train in full: genlab's ``head`` (unless it is tied to an
    embedding, as in a language model) or a transformers classification head."""
    if is_pretrained(net):
        return (
            [n for n in _HF_CLASSIFIER_HEADS if isinstance(getattr(net, n, None), nn.Module)]
            if task_type(net) == "SEQ_CLS"
            else []
        )
    head = getattr(net, "head", None)
    if not isinstance(head, nn.Linear):
        return []
    tied = any(p is head.weight for m in net.modules() if isinstance(m, nn.Embedding) for p in m.parameters())
    return [] if tied else ["head"]


def module_default(net: nn.Module, head: Sequence[str]) -> Targets:
    """A net's own default: peft's choice for a known transformers architecture (q_proj/v_proj on Llama, query/value
    on BERT); otherwise every linear and convolutional layer and every recurrent layer below the head."""
    if is_pretrained(net):
        from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as known

        names = known.get(getattr(net.config, "model_type", ""))
        if names:
            return Targets(list(names), head=list(head))
    return all_linear(net, head)


def all_linear(net: nn.Module, head: Sequence[str]) -> Targets:
    modules, parameters = [], []
    for name, module in net.named_modules():
        if not name or any(name == h or name.startswith(h + ".") for h in head):
            continue
        if isinstance(net, PretrainedModel) and module is net.get_output_embeddings():  # type: ignore[operator]
            continue
        if isinstance(module, _ADAPTABLE):
            modules.append(name)
        elif isinstance(module, _RECURRENT):
            parameters += [f"{name}.{p}" for p, _ in module.named_parameters() if p.startswith("weight_")]
    return Targets(modules, parameters, list(head))


def resolve_targets(
    net: nn.Module, target_modules: str | Sequence[str], modules_to_save: Sequence[str] | None
) -> Targets:
    """``target_modules``: module names (the last part of a dotted name is enough, as in peft), ``all-linear``,
    or ``default``. A list none of whose names exists in the net (the classic LLaMA choice q_proj/v_proj on an FFN, say) falls
    back to the net's default, with a warning; a list of which only some exist is a typo and an error."""
    head = list(modules_to_save) if modules_to_save is not None else head_names(net)
    if target_modules == "all-linear":
        targets = all_linear(net, head)
    elif target_modules == "default":
        targets = module_default(net, head)
    else:
        targets = named_targets(
            net, [target_modules] if isinstance(target_modules, str) else list(target_modules), head
        )
    if not targets.modules and not targets.parameters:
        raise ConfigError(
            f"tuning: {type(net).__name__} has no layer LoRA can adapt (linear, convolutional or recurrent)"
        )
    targets.task_type = task_type(net)
    return targets


def named_targets(net: nn.Module, names: list[str], head: list[str]) -> Targets:
    existing = {name for name, _ in net.named_modules()}
    existing |= {name.rsplit(".", 1)[-1] for name in existing}
    found = [n for n in names if n in existing]
    if found and len(found) < len(names):
        raise ConfigError(
            f"tuning.target_modules: {sorted(set(names) - set(found))} not in {type(net).__name__} (its layers: "
            f"{layer_names(net)}); fix the names, or use all-linear or default"
        )
    if found:
        return Targets(names, head=head)
    targets = module_default(net, head)
    log.warning(
        f"tuning.target_modules={names}: none of these layers is in {type(net).__name__}; "
        f"using its default: {targets.modules + targets.parameters}"
    )
    return targets


def layer_names(net: nn.Module, limit: int = 12) -> list[str]:
    """The distinct short names of a net's adaptable layers, for error messages."""
    names = sorted(
        {name.rsplit(".", 1)[-1] for name, m in net.named_modules() if isinstance(m, (*_ADAPTABLE, *_RECURRENT))}
    )
    return names[:limit]
