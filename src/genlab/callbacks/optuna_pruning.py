"""Optuna pruning for trials that run as separate jobs (Hydra multirun): the job finds its study through its sweep
folder (genlab.sweeps.storage.recorded_study) and its trial there by number, so it needs no handle from the
sweeper."""

from typing import Any

import lightning as L


class OptunaPruning(L.Callback):
    """After each validation, reports ``monitor`` to the trial (step = epoch, comparable across batch sizes) and
    raises ``optuna.TrialPruned`` when the study's pruner gives up on it; the sweeper records the trial as PRUNED.

    ``pruner`` must be the sweeper's: Optuna keeps no pruner in the storage.
    """

    def __init__(self, study_folder: str, trial_number: int, monitor: str, pruner: Any = None):
        self.study_folder, self.trial_number = study_folder, int(trial_number)
        self.monitor, self.pruner = monitor, pruner
        self._trial = None

    def _find_trial(self):
        from genlab.integrations.optuna_trials import running_trial
        from genlab.sweeps.storage import recorded_study

        study_name, storage = recorded_study(self.study_folder)
        return running_trial(storage, study_name, self.trial_number, self.pruner)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        value = trainer.callback_metrics.get(self.monitor)
        if trainer.sanity_checking or value is None:
            return
        prune = False
        if trainer.is_global_zero:
            self._trial = self._trial or self._find_trial()
            self._trial.report(float(value), step=trainer.current_epoch)
            prune = self._trial.should_prune()
        # every rank stops together, or the others would wait for the pruned one forever
        if trainer.strategy.broadcast(prune):
            import optuna

            raise optuna.TrialPruned(f"{self.monitor}={float(value):.4g} at epoch {trainer.current_epoch}")
