"""An Optuna study run by Hydra's multirun that resumes where it was stopped and records failures instead of
dying of them.

hydra-optuna-sweeper asks its trials anew on every start (an interrupted study repeats trial numbers, job folders
and budget), raises on the first failing job unless ``max_failure_rate`` says otherwise, and cannot prune. This
keeps its search-space parsing and samplers and changes the loop:

- the study lives in SQLite in the sweep folder (genlab/conf/hparams_search/optuna.yaml), and job folders are named by
  trial number, so a rerun of the same command continues the study: finished trials are never run again, the
  ``n_trials`` budget counts them, and a trial that was running when the sweep was killed runs again in its own
  folder, where genlab continues it from its last checkpoint;
- a trial that raises, returns no number or returns a non-finite one is told to Optuna as FAIL, with the reason
  kept in its ``failure`` attribute and in trials.csv, and the sweep goes on; it stops only when more than
  ``max_failure_rate`` of ``n_trials`` have failed;
- ``optuna.TrialPruned`` raised by a trial (genlab.callbacks.OptunaPruning) marks it PRUNED, with ``pruner``.

It subclasses hydra-optuna-sweeper 1.3's private ``_impl.OptunaSweeperImpl`` and calls its
``_process_searchspace_config``, ``_parse_sweeper_params_config``, ``_configure_trials``, ``_get_directions``
and ``_to_grid_sampler_choices`` (its 1.4 release candidates change three of them), and reseeds optuna 2.10's
samplers through their private ``_rng``. tests/unit/test_integrations.py checks each is still there.
"""

import csv
import functools
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from hydra.core.utils import JobReturn
from omegaconf import OmegaConf
from optuna.trial import Trial, TrialState

from genlab.config.overrides import quoted
from genlab.errors import GenlabError
from genlab.integrations.optuna_trials import trial_of
from hydra_plugins.hydra_optuna_sweeper._impl import OptunaSweeperImpl, create_params_from_overrides

log = logging.getLogger(__name__)

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


class SweepFailed(GenlabError):
    """More trials failed than the sweep allows."""


class ResumableOptunaStudy(OptunaSweeperImpl):
    def __init__(self, pruner: optuna.pruners.BasePruner | None = None, **settings: Any) -> None:
        super().__init__(**settings)
        self.pruner = pruner

    def sweep(self, arguments: list[str]) -> None:
        self._process_searchspace_config()
        distributions, fixed_params = create_params_from_overrides([*self._parse_sweeper_params_config(), *arguments])
        if self.search_space_distributions:
            distributions = {**self.search_space_distributions, **distributions}
        for name in fixed_params:
            distributions.pop(name, None)
        self._use_grid_sampler(distributions)

        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        # Jobs compose their configs anew from their overrides: these pin them to this sweep's folder and study.
        self.pinned = (f"hydra.sweep.dir={quoted(sweep_dir)}", f"hydra.sweeper.study_name={quoted(self.study_name)}")
        directions = self._get_directions()
        study = optuna.create_study(
            study_name=self.study_name,
            storage=self.storage,
            sampler=self.sampler,
            pruner=self.pruner,
            directions=directions,
            load_if_exists=True,
        )
        trials = study.get_trials(deepcopy=False)
        finished = [t for t in trials if t.state in _FINISHED]
        interrupted = [t for t in trials if t.state == TrialState.RUNNING]
        if trials:
            self._reseed_sampler(len(trials))
            log.info(
                f"study {self.study_name} resumes in {sweep_dir}: {len(finished)} of {self.n_trials} trial(s) finished, "
                f"{len(interrupted)} interrupted (they continue from their checkpoints)"
            )
        failures = sum(t.state == TrialState.FAIL for t in finished)
        allowed_failures = math.floor(self.max_failure_rate * self.n_trials)
        to_go = self.n_trials - len(finished)
        while to_go > 0:
            if interrupted:
                frozen = interrupted.pop(0)
                batch = [trial_of(study, frozen)]
                overrides = [self._trial_overrides(frozen.params, fixed_params)]
            else:
                batch = [study.ask() for _ in range(min(to_go, self.n_jobs))]
                overrides = [(*o, *self.pinned) for o in self._configure_trials(batch, distributions, fixed_params)]
            returns = self._launch(batch, overrides)
            for trial, job_return in zip(batch, returns):
                failures += not self._record(study, trial, job_return, len(directions))
            to_go -= len(batch)
            if failures > allowed_failures:
                self._save_results(study, sweep_dir)
                raise SweepFailed(
                    f"{failures} trial(s) failed, more than hydra.sweeper.max_failure_rate={self.max_failure_rate} of "
                    f"n_trials={self.n_trials} allows; the reasons are in {sweep_dir / 'trials.csv'}"
                )
        self._save_results(study, sweep_dir)

    def _use_grid_sampler(self, distributions: dict) -> None:
        """hydra.sweeper.sampler=grid: the grid is the search space, and its size caps n_trials."""
        if isinstance(self.sampler, functools.partial) and self.sampler.func == optuna.samplers.GridSampler:
            grid = {name: self._to_grid_sampler_choices(d) for name, d in distributions.items()}
            self.sampler = self.sampler(grid)
            self.n_trials = min(self.n_trials, math.prod(len(v) for v in grid.values()))

    def _reseed_sampler(self, n_asked: int) -> None:
        """A seeded sampler restarted on a resumed study would draw its first trials' values again: continue from
        a seed of its own instead (seed + trials asked so far), still the same on every run."""
        seed = self.config.hydra.sweeper.sampler.get("seed")
        if seed is None:
            return
        # optuna 2.10 (pinned by hydra-optuna-sweeper) keeps its samplers' generators in _rng
        for sampler in (self.sampler, getattr(self.sampler, "_random_sampler", None)):
            if sampler is not None and hasattr(sampler, "_rng"):
                sampler._rng = np.random.RandomState(seed + n_asked)

    def _trial_overrides(self, params: dict[str, Any], fixed_params: dict[str, Any]) -> tuple[str, ...]:
        """The overrides of a trial asked before (same format as OptunaSweeperImpl._configure_trials)."""
        return (*(f"{name}={value}" for name, value in {**params, **fixed_params}.items()), *self.pinned)

    def _launch(self, batch: Sequence[Trial], overrides: list[Sequence[str]]) -> list[JobReturn]:
        """Each job's folder is its trial's number, so a resumed study never reuses a folder of another trial."""
        numbers = [t.number for t in batch]
        if numbers == list(range(numbers[0], numbers[0] + len(numbers))):
            return list(self.launcher.launch(overrides, initial_job_idx=numbers[0]))
        return [r for n, o in zip(numbers, overrides) for r in self.launcher.launch([o], initial_job_idx=n)]

    def _record(self, study: optuna.Study, trial: Trial, job_return: JobReturn, n_objectives: int) -> bool:
        """Tell Optuna how the trial ended; False when it failed."""
        try:
            result = job_return.return_value  # raises what the job raised
        except optuna.TrialPruned as e:
            _tell(study, trial, state=TrialState.PRUNED)
            log.info(f"trial {trial.number} pruned: {e}")
            return True
        except Exception as e:
            return _fail(study, trial, f"{type(e).__name__}: {e}")
        results = list(result) if n_objectives > 1 and isinstance(result, Sequence) else [result]
        try:
            values = [float(v) for v in results]
        except (TypeError, ValueError):
            return _fail(
                study, trial, f"returned {result!r}, not a number: is optimized_metric among the run's metrics?"
            )
        if len(values) != n_objectives or not all(math.isfinite(v) for v in values):
            return _fail(
                study, trial, f"returned {result!r}: a failed metric (a NaN loss?) or not one value per direction"
            )
        _tell(study, trial, values=values)
        return True

    def _save_results(self, study: optuna.Study, sweep_dir: Path) -> None:
        trials = study.get_trials(deepcopy=False)
        names = sorted({name for t in trials for name in t.params})
        with open(sweep_dir / "trials.csv", "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["number", "state", "value", *names, "failure"])
            for t in trials:
                value = "" if t.values is None else ";".join(f"{v:.6g}" for v in t.values)
                writer.writerow(
                    [
                        t.number,
                        t.state.name,
                        value,
                        *(t.params.get(n, "") for n in names),
                        t.user_attrs.get("failure", ""),
                    ]
                )
        counts = {state.name.lower(): sum(t.state == state for t in trials) for state in _FINISHED}
        summary = ", ".join(f"{n} {state}" for state, n in counts.items())
        completed = [t for t in trials if t.state == TrialState.COMPLETE]
        if not completed:
            log.warning(f"study {study.study_name}: {summary}; no trial completed")
            return
        results: dict[str, Any]
        if len(study.directions) == 1:
            best = study.best_trial
            results = {
                "name": "optuna",
                "best_trial": best.number,
                "best_params": best.params,
                "best_value": best.value,
            }
            log.info(
                f"study {study.study_name}: {summary}; best trial {best.number}: {best.value:.6g} with {best.params}"
            )
        else:
            results = {
                "name": "optuna",
                "solutions": [{"params": t.params, "values": t.values} for t in study.best_trials],
            }
            log.info(f"study {study.study_name}: {summary}; {len(study.best_trials)} Pareto-optimal trial(s)")
        OmegaConf.save(OmegaConf.create(results), sweep_dir / "optimization_results.yaml")


def _fail(study: optuna.Study, trial: Trial, reason: str) -> bool:
    trial.set_user_attr("failure", reason[:1000])
    _tell(study, trial, state=TrialState.FAIL)
    log.warning(f"trial {trial.number} failed: {reason}")
    return False


def _tell(study: optuna.Study, trial: Trial, **result: Any) -> None:
    try:
        study.tell(trial, **result)
    except RuntimeError as e:
        # GridSampler ends a study whose grid is done with Study.stop, which refuses outside Study.optimize; the
        # trial's state is stored before that, and n_trials is capped at the grid's size anyway
        if "Study.stop" not in str(e):
            raise
