"""Hydra finds sweepers only inside the ``hydra_plugins`` package: this is genlab's, kept light because Hydra
imports every plugin module when it starts. The work is in genlab.integrations.optuna_sweeper."""

from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


class ResumableOptunaSweeper(Sweeper):
    """hydra-optuna-sweeper's sweeper, made to resume an interrupted study and to survive failing trials
    (see genlab.integrations.optuna_sweeper.ResumableOptunaStudy). Takes the same settings, plus ``pruner``."""

    def __init__(self, pruner: Any = None, **settings: Any) -> None:
        from genlab.integrations.optuna_sweeper import ResumableOptunaStudy

        self.sweeper = ResumableOptunaStudy(pruner=pruner, **settings)

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.sweeper.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> None:
        return self.sweeper.sweep(arguments)
