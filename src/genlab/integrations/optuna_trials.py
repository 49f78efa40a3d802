"""A trial of an Optuna study as an object that can report and be pruned, from another process than the one that
asked for it (a Hydra job reports to the sweeper's study). Optuna (5.1 here; so since 2.x) has no public way to get a ``Trial`` for a trial number or a ``FrozenTrial``: both need the
storage's trial id, ``Study._storage`` / ``FrozenTrial._trial_id``."""

from __future__ import annotations

from typing import Any

import optuna


def trial_of(study: optuna.Study, frozen: optuna.trial.FrozenTrial) -> optuna.trial.Trial:
    """A live Trial for a trial the study already holds (to run it again after an interrupted sweep)."""
    return optuna.trial.Trial(study, frozen._trial_id)


def running_trial(storage: str, study_name: str, number: int, pruner: Any = None) -> optuna.trial.Trial:
    """The study's trial ``number`` as a live Trial; ``storage`` as genlab.sweeps.storage resolves it; ``pruner``
    must be the sweeper's (Optuna stores none)."""
    from genlab.sweeps.storage import open_storage

    study = optuna.load_study(study_name=study_name, storage=open_storage(storage), pruner=pruner)
    trial_id = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
    return optuna.trial.Trial(study, trial_id)
