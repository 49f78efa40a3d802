"""How data and learning rate change over training: constant (one stage) or a curriculum of stages."""

from genlab.schedules.constant import ConstantSchedule
from genlab.schedules.curriculum import Curriculum

__all__ = ["ConstantSchedule", "Curriculum"]
