"""What of a network is trained: all of it (full), low-rank adapters (lora), or adapters over a 4-bit base (qlora)."""

from genlab.tuning.full import FullTuning
from genlab.tuning.lora import LoRA
from genlab.tuning.qlora import QLoRA

__all__ = ["FullTuning", "LoRA", "QLoRA"]
