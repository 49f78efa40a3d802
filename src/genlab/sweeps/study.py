"""An Optuna study run by Hydra's multirun that resumes where it was stopped and records failures instead of
dying of them.

- The study lives in the sweep folder (genlab.sweeps.storage: SQLite, or a journal file when trials run in
  parallel), and job folders are named by trial number, so a rerun of the same command continues the study:
  finished trials are never run again, the ``n_trials`` budget counts them, and a trial that was running when the
  sweep was killed runs again in its own folder, where genlab continues it from its last checkpoint;
- a trial that raises, returns no number or returns a non-finite one is told to Optuna as FAIL, with the reason
  kept in its ``failure`` attribute and in trials.csv, and the sweep goes on; it stops only when more than
  ``max_failure_rate`` of ``n_trials`` have failed;
- ``optuna.TrialPruned`` raised by a trial (genlab.callbacks.OptunaPruning) marks it PRUNED.

It uses Optuna's public API only (``Study.ask`` with the search space, ``Study.tell``); the search space comes from
genlab.sweeps.search_space, and the sampler is built from its config here, so a resumed study gets a freshly seeded
one instead of a restarted generator.
"""

import csv
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import optuna
from hydra.core.utils import JobReturn
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf
from optuna.trial import Trial, TrialState

from genlab.config.overrides import quoted
from genlab.errors import GenlabError
from genlab.integrations.optuna_trials import trial_of
from genlab.sweeps.search_space import distributions_from_overrides, grid_choices
from genlab.sweeps.storage import open_storage, record_study, resolve_storage

log = logging.getLogger(__name__)

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


class SweepFailed(GenlabError):
    """More trials failed than the sweep allows."""


class ResumableOptunaStudy:
    """Runs the trials of ``hydra.sweeper`` (conf/hydra/sweeper/resumable_optuna.yaml): ``sampler`` is its config,
    built here; ``storage`` a value genlab.sweeps.storage understands; ``direction`` one or a list of
    minimize/maximize; ``params`` the search space in Hydra's sweep syntax; ``n_jobs`` trials are launched at once."""

    def __init__(
        self,
        sampler: DictConfig,
        direction: str | Sequence[str],
        storage: str | None,
        study_name: str,
        n_trials: int,
        n_jobs: int,
        max_failure_rate: float,
        params: DictConfig | None,
    ) -> None:
        self.sampler_config, self.storage, self.study_name = sampler, storage, study_name
        self.directions = [direction] if isinstance(direction, str) else list(direction)
        self.n_trials, self.n_jobs, self.max_failure_rate = int(n_trials), int(n_jobs), float(max_failure_rate)
        self.params = dict(params or {})

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            config=config, hydra_context=hydra_context, task_function=task_function
        )

    def sweep(self, arguments: list[str]) -> None:
        distributions, fixed_params = distributions_from_overrides(
            [*(f"{key}={value}" for key, value in self.params.items()), *arguments]
        )
        for name in fixed_params:
            distributions.pop(name, None)
        grid = self._grid(distributions)

        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        storage = resolve_storage(self.storage, sweep_dir, parallel=self._parallel())
        # Jobs compose their configs anew from their overrides: this pins them to this sweep's folder, where they
        # find the study (Hydra 1.4 refuses jobs that override hydra.sweeper itself)
        self.pinned = (f"hydra.sweep.dir={quoted(sweep_dir)}",)
        record_study(sweep_dir, self.study_name, storage)
        study = optuna.create_study(
            study_name=self.study_name,
            storage=open_storage(storage),
            sampler=self._sampler(grid, seed_offset=0),
            directions=self.directions,
            load_if_exists=True,
        )
        trials = study.get_trials(deepcopy=False)
        finished = [t for t in trials if t.state in _FINISHED]
        interrupted = [t for t in trials if t.state == TrialState.RUNNING]
        log.info(f"study {self.study_name} in {storage}")
        if trials:
            # a seeded sampler built anew would draw the first trials' values again: seed it past them
            study.sampler = self._sampler(grid, seed_offset=len(trials))
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
                batch = [study.ask(distributions) for _ in range(min(to_go, self.n_jobs))]
                for trial in batch:
                    for name, value in fixed_params.items():
                        trial.set_user_attr(name, value)
                overrides = [self._trial_overrides(trial.params, fixed_params) for trial in batch]
            returns = self._launch(batch, overrides)
            for trial, job_return in zip(batch, returns):
                failures += not self._record(study, trial, job_return, len(self.directions))
            to_go -= len(batch)
            if failures > allowed_failures:
                self._save_results(study, sweep_dir)
                raise SweepFailed(
                    f"{failures} trial(s) failed, more than hydra.sweeper.max_failure_rate={self.max_failure_rate} of "
                    f"n_trials={self.n_trials} allows; the reasons are in {sweep_dir / 'trials.csv'}"
                )
        self._save_results(study, sweep_dir)

    def _parallel(self) -> bool:
        """Whether trials may run at the same time (then SQLite is no place for the study)."""
        launcher = str(self.config.hydra.launcher.get("_target_", ""))
        return self.n_jobs > 1 or not launcher.endswith(".BasicLauncher")

    def _grid(self, distributions: dict[str, Any]) -> dict[str, list[Any]] | None:
        """hydra/sweeper/sampler=grid: the grid is the search space, and its size caps n_trials."""
        from hydra.utils import get_class

        if not issubclass(get_class(self.sampler_config._target_), optuna.samplers.GridSampler):
            return None
        grid = {name: grid_choices(name, d) for name, d in distributions.items()}
        self.n_trials = min(self.n_trials, math.prod(len(v) for v in grid.values()))
        return grid

    def _sampler(self, grid: dict[str, list[Any]] | None, seed_offset: int) -> optuna.samplers.BaseSampler:
        """The sampler of ``hydra.sweeper.sampler``; a seeded one gets seed + ``seed_offset``, still the same on
        every run of the command."""
        from hydra.utils import instantiate

        settings: dict[str, Any] = {} if grid is None else {"search_space": grid}
        seed = self.sampler_config.get("seed")
        if seed is not None:
            settings["seed"] = int(seed) + seed_offset
        return instantiate(self.sampler_config, **settings)

    def _trial_overrides(self, params: dict[str, Any], fixed_params: dict[str, Any]) -> tuple[str, ...]:
        """A trial's overrides: its parameters, the values fixed on the command line and the sweep folder."""
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
