"""bf16-mixed that clips gradients with fused optimizers.

Lightning's ``MixedPrecision.clip_gradients`` refuses to clip when the optimizer "handles unscaling" itself
(``_optimizer_handles_unscaling``: fused Adam/AdamW), because with fp16 a GradScaler would have left the gradients
scaled. bf16-mixed has no scaler: its gradients are the true ones, and clipping them is what fp32 does. Lightning
still refuses (Lightning-AI/pytorch-lightning#21435, open), which would make every genlab recipe with
``trainer.gradient_clip_val`` fail under bf16 now that its optimizers are fused. Relies on the signature of
``Precision.clip_gradients``, which tests/unit/test_integrations.py checks.
"""

from typing import Any

from lightning.pytorch.plugins.precision import MixedPrecision, Precision
from lightning.pytorch.strategies import DDPStrategy, ModelParallelStrategy, SingleDeviceStrategy
from lightning.pytorch.utilities import GradClipAlgorithmType


class BF16MixedPrecision(MixedPrecision):
    """Lightning's bf16 autocast plugin, with gradient clipping allowed for every optimizer (there is no scaler)."""

    def __init__(self, device: str):
        super().__init__("bf16-mixed", device)

    def clip_gradients(
        self,
        optimizer: Any,
        clip_val: int | float = 0.0,
        gradient_clip_algorithm: GradClipAlgorithmType = GradClipAlgorithmType.NORM,
    ) -> None:
        Precision.clip_gradients(self, optimizer, clip_val, gradient_clip_algorithm)


# strategies whose precision is MixedPrecision in Lightning (FSDP1, DeepSpeed and XLA bring their own plugins)
_MIXED_PRECISION_STRATEGIES = (DDPStrategy, ModelParallelStrategy, SingleDeviceStrategy)


def bf16_plugin(device: str, strategy: str | type | None) -> BF16MixedPrecision | None:
    """The plugin for ``precision=bf16-mixed`` on ``device`` (cpu, cuda, mps) under ``strategy`` (a name, or the class
    a config's ``_target_`` names), or None where Lightning brings another precision plugin (XLA and other devices,
    FSDP1 or DeepSpeed strategies)."""
    if device not in ("cpu", "cuda", "mps"):
        return None
    if isinstance(strategy, str):
        if strategy != "auto" and not strategy.startswith("ddp"):
            return None
    elif strategy is not None and not issubclass(strategy, _MIXED_PRECISION_STRATEGIES):
        return None
    return BF16MixedPrecision(device)
