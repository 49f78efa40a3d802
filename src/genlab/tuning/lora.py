import logging
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, cast

from torch import nn

from genlab.core.checkpoints import load_net_weights, save_net_weights
from genlab.errors import ConfigError
from genlab.tuning.full import FullTuning
from genlab.tuning.targets import is_pretrained, resolve_targets

log = logging.getLogger("genlab")

# Beside the peft files in an adapter folder, for genlab's own nets: the frozen weights the adapter was trained on
# (a pretrained model's come from its name_or_path instead).
BASE_WEIGHTS = "base_model.safetensors"

# peft's initialisations that need nothing but the weights; PiSSA and OLoRA start the adapter from the weights'
# decomposition and leave the rest in the base, so their adapter is saved converted to a plain LoRA one
INITS = (True, False, "gaussian", "orthogonal", "pissa", "olora")
_MUTATING_INITS = re.compile(r"^(pissa(_niter_\d+)?|olora)$")


def rewrites_base(init_lora_weights: bool | str) -> bool:
    """Whether an initialisation leaves part of the weights' decomposition in the base (PiSSA, OLoRA)."""
    return bool(_MUTATING_INITS.match(str(init_lora_weights)))


class LoRA(FullTuning):
    """Low-rank adapters (peft) on the ``target_modules`` of any net; everything else is frozen but the head a
    classifier needs (``modules_to_save``, found by itself when null).

    ``adapter`` loads a saved adapter folder (to predict with it, test it, merge it or train on); ``merge`` writes
    ``merged/`` after the run: the adapter folded into a standalone copy of the model, checked against the adapter
    model's logits. ``use_dora`` (weight-decomposed LoRA), ``use_rslora`` (alpha/sqrt(r) scaling) and
    ``init_lora_weights`` (true, gaussian, orthogonal, pissa, pissa_niter_<n>, olora) are peft's.
    """

    adapters = True

    def __init__(
        self,
        r: int = 8,
        alpha: int = 16,
        dropout: float = 0.05,
        target_modules: str | Sequence[str] = ("q_proj", "v_proj"),
        modules_to_save: Sequence[str] | None = None,
        bias: Literal["none", "all", "lora_only"] = "none",
        adapter: str | None = None,
        merge: bool = False,
        base_weights: str | None = None,
        use_dora: bool = False,
        use_rslora: bool = False,
        init_lora_weights: bool | str = True,
    ):
        super().__init__(base_weights)
        if init_lora_weights not in INITS and not rewrites_base(init_lora_weights):
            raise ConfigError(
                f"tuning.init_lora_weights={init_lora_weights}: use true, false, gaussian, orthogonal, pissa, "
                f"pissa_niter_<n> or olora"
            )
        self.use_dora, self.use_rslora, self.init_lora_weights = use_dora, use_rslora, init_lora_weights
        self.initial_adapter: Path | None = None  # PiSSA/OLoRA: the adapter as initialised, to convert from
        if r < 1:
            raise ConfigError(f"tuning.r={r}: the adapter rank must be at least 1")
        if bias not in ("none", "all", "lora_only"):
            raise ConfigError(f"tuning.bias={bias!r}: use none, all or lora_only")
        self.r, self.alpha, self.dropout, self.bias = r, alpha, dropout, bias
        self.target_modules = target_modules if isinstance(target_modules, str) else list(target_modules)
        self.modules_to_save = None if modules_to_save is None else list(modules_to_save)
        self.adapter = Path(adapter).expanduser() if adapter else None
        self.merge = merge
        self.base_state: dict | None = None
        if self.adapter and not (self.adapter / "adapter_config.json").is_file():
            raise ConfigError(
                f"tuning.adapter={adapter}: no adapter_config.json there; point it at a run's adapter/ folder"
            )

    def load_base(self, net: nn.Module) -> None:
        """Own nets: the saved adapter's base weights, or ``base_weights``; kept (on CPU) for the adapter folder."""
        if is_pretrained(net):
            return
        if self.adapter and (self.adapter / BASE_WEIGHTS).is_file():
            load_net_weights(net, self.adapter / BASE_WEIGHTS, "tuning.adapter")
        else:
            super().load_base(net)
        self.base_state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}

    def apply(self, net: nn.Module) -> nn.Module:
        from peft import LoraConfig, PeftModel, get_peft_model

        if self.adapter:
            log.info(f"adapter: {self.adapter} (its own r, alpha and target modules)")
            return PeftModel.from_pretrained(net, str(self.adapter), is_trainable=True)
        targets = resolve_targets(net, self.target_modules, self.modules_to_save)
        dropout = self.dropout
        if targets.parameters and dropout:
            log.info(
                f"tuning.dropout={dropout} → 0: peft adapts recurrent weights ({targets.parameters[0]}…) without dropout"
            )
            dropout = 0.0
        config = LoraConfig(
            r=self.r,
            lora_alpha=self.alpha,
            lora_dropout=dropout,
            target_modules=targets.modules or None,
            target_parameters=targets.parameters or None,
            modules_to_save=targets.head or None,
            bias=self.bias,
            task_type=targets.task_type,
            use_dora=self.use_dora,
            use_rslora=self.use_rslora,
            init_lora_weights=cast(Any, self.init_lora_weights),  # pissa_niter_<n> is outside peft's Literal
        )
        adapted = get_peft_model(net, config)
        if rewrites_base(self.init_lora_weights):
            self.initial_adapter = _save_initial_adapter(adapted)
        return adapted

    def save_adapter(self, net: Any, folder: Path, tokenizer: Any = None) -> Path:
        """peft's adapter files (safetensors), the tokenizer, and for an own net the base weights it adapts."""
        folder.mkdir(parents=True, exist_ok=True)
        # genlab never resizes the base model's embeddings, so they are the published ones: peft's "auto" would
        # look for the base model's config.json to find out (a GGUF file has none: a warning on every save)
        kept = {"save_embedding_layers": False}
        if self.initial_adapter is not None:
            # PiSSA/OLoRA changed the base: what is saved is the change since initialisation, as a plain LoRA
            # adapter (twice the rank) that applies to the base model as it is published
            net.save_pretrained(str(folder), path_initial_model_for_weight_conversion=str(self.initial_adapter), **kept)
        else:
            net.save_pretrained(str(folder), **kept)
        if self.base_state is not None:
            save_net_weights(self.base_state, folder / BASE_WEIGHTS)
        if tokenizer is not None and hasattr(tokenizer, "save_pretrained"):
            tokenizer.save_pretrained(str(folder))
        return folder


def _save_initial_adapter(net: Any) -> Path:
    """The adapter as PiSSA/OLoRA initialised it, marked as a plain LoRA one (peft's conversion needs both)."""
    config = net.peft_config["default"]
    init, config.init_lora_weights = config.init_lora_weights, True
    folder = Path(tempfile.mkdtemp(prefix="genlab-initial-adapter-")) / "initial"
    try:
        net.save_pretrained(str(folder))
    finally:
        config.init_lora_weights = init
    return folder
