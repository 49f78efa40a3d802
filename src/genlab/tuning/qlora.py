import logging
from collections.abc import Sequence
from typing import Literal

from torch import nn

from genlab.errors import ConfigError
from genlab.tuning.full import NetFactory
from genlab.tuning.lora import LoRA, rewrites_base
from genlab.tuning.quantize import (
    bnb_config,
    check_4bit_support,
    keep_training_layout,
    prepare_for_4bit_training,
    quantize_linears,
    torch_dtype,
)
from genlab.tuning.targets import head_names, is_pretrained

log = logging.getLogger("genlab")


class QLoRA(LoRA):
    """LoRA over a frozen 4-bit (bitsandbytes NF4) base. Hugging Face models load straight into 4-bit; genlab's
    own nets are built in full precision and their linear layers then swapped for 4-bit ones.

    ``upcast_to_fp32``: peft's ``prepare_model_for_kbit_training`` upcasts every non-quantized weight to fp32;
    off (the default) they stay in ``compute_dtype``, which is what makes QLoRA save memory on models with large
    embeddings. ``gradient_checkpointing`` applies to transformers models, which implement it.
    """

    def __init__(
        self,
        r: int = 16,
        alpha: int = 32,
        dropout: float = 0.05,
        target_modules: str | Sequence[str] = ("q_proj", "k_proj", "v_proj", "o_proj"),
        modules_to_save: Sequence[str] | None = None,
        bias: Literal["none", "all", "lora_only"] = "none",
        adapter: str | None = None,
        merge: bool = False,
        base_weights: str | None = None,
        quant_type: str = "nf4",
        double_quant: bool = True,
        compute_dtype: str = "bfloat16",
        upcast_to_fp32: bool = False,
        gradient_checkpointing: bool = True,
        use_dora: bool = False,
        use_rslora: bool = False,
        init_lora_weights: bool | str = True,
    ):
        super().__init__(
            r,
            alpha,
            dropout,
            target_modules,
            modules_to_save,
            bias,
            adapter,
            merge,
            base_weights,
            use_dora,
            use_rslora,
            init_lora_weights,
        )
        if rewrites_base(init_lora_weights):
            raise ConfigError(
                f"tuning.init_lora_weights={init_lora_weights}: it rewrites the base weights, which a 4-bit base "
                f"cannot hold exactly; use tuning=lora"
            )
        if quant_type not in ("nf4", "fp4"):
            raise ConfigError(f"tuning.quant_type={quant_type!r}: use nf4 or fp4")
        self.quant_type, self.double_quant = quant_type, double_quant
        self.dtype = torch_dtype(compute_dtype)
        self.upcast_to_fp32, self.gradient_checkpointing = upcast_to_fp32, gradient_checkpointing

    def build(self, make_net: NetFactory, loads_quantized: bool = False, accelerator: str = "auto") -> nn.Module:
        device = check_4bit_support(accelerator)
        if loads_quantized:
            # transformers keeps the output layer (tied or not) out of 4-bit by itself; the loaders add a new head
            config = bnb_config(self.quant_type, self.double_quant, self.dtype, self.modules_to_save or ())
            net = make_net(quantization_config=config)
        else:
            net = make_net()
            self.load_base(net)
            if device == "cuda":
                net = net.cuda()  # bitsandbytes quantizes where the weights are
            skip = self.modules_to_save if self.modules_to_save is not None else head_names(net)
            count = quantize_linears(net, skip, self.quant_type, self.double_quant, self.dtype)
            if count:
                log.info(f"qlora: {count} linear layers of {type(net).__name__} now {self.quant_type} 4-bit")
            else:
                log.warning(
                    f"qlora: {type(net).__name__} has no linear layer to quantize besides its head; this is LoRA"
                )
        keep_training_layout(net)
        prepare_for_4bit_training(net, self.gradient_checkpointing and is_pretrained(net), self.upcast_to_fp32)
        return self.apply(net)
