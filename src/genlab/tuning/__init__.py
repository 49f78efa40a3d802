"""What of a network is trained: all of it (full) here; LoRA and QLoRA join this axis later."""

from genlab.tuning.full import FullTuning

__all__ = ["FullTuning"]
