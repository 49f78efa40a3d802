"""How data and learning rate change over training: constant (one stage) here; curriculum joins later."""

from genlab.schedules.constant import ConstantSchedule

__all__ = ["ConstantSchedule"]
