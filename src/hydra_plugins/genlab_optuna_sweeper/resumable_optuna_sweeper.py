"""Hydra finds sweepers only inside the ``hydra_plugins`` package: this is genlab's, kept light because Hydra
imports every plugin module when it starts. The work is in genlab.sweeps.study."""

from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


class ResumableOptunaSweeper(Sweeper):
    """An Optuna study that resumes an interrupted sweep and survives failing trials
    (genlab.sweeps.study.ResumableOptunaStudy); its settings are conf/hydra/sweeper/resumable_optuna.yaml.
    ``pruner`` is read by the trials themselves (genlab.callbacks.OptunaPruning): Optuna stores no pruner."""

    def __init__(self, pruner: Any = None, **settings: Any) -> None:
        from genlab.sweeps.study import ResumableOptunaStudy

        self.sweeper = ResumableOptunaStudy(**settings)

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.sweeper.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> None:
        return self.sweeper.sweep(arguments)
