"""Runs read back from their folders alone: config, overrides, CSV metrics, generated files, a sweep's trials."""

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from genlab.core.run_folder import read_labels
from genlab.errors import ConfigError

_IMAGES = ("grid.png", "spectrograms.png")


@dataclass
class RunRecord:
    folder: Path
    name: str  # the folder, relative to what the report covers
    overrides: list[str]
    monitor: str
    monitor_mode: str
    finished: bool  # metrics.json is written when a run ends
    final: dict[str, float] = field(default_factory=dict)  # each CSV column's last value
    curves: dict[str, dict[int, float]] = field(default_factory=dict)  # column -> step -> value
    trial_state: str | None = None  # an Optuna sweep's verdict: COMPLETE, PRUNED, FAIL, RUNNING
    failure: str = ""
    images: list[Path] = field(default_factory=list)
    audio: list[Path] = field(default_factory=list)
    texts: list[dict] = field(default_factory=list)
    class_names: tuple[str, ...] = ()  # what the model's outputs stand for, from the run's labels.json
    group: str = ""  # the task and the data: runs are compared (best run, curves) within a group only

    @property
    def status(self) -> str:
        if self.trial_state and self.trial_state != "COMPLETE":
            return self.trial_state.lower()
        return "finished" if self.finished else "unfinished"


def find_runs(folder: Path, max_samples: int = 3) -> list[RunRecord]:
    """Every run under folder (a run folder, a sweep folder, or a folder of runs), in folder order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such folder; pass a run folder or a sweep folder (outputs/<task>/...)")
    run_folders = [folder] if _is_run(folder) else []
    run_folders = run_folders or sorted(
        {p.parent for p in folder.rglob(_RESOLVED)} | {p.parent.parent for p in folder.rglob(_STARTED)},
        key=lambda p: _natural(p.relative_to(folder)),
    )
    if not run_folders:
        raise ConfigError(f"{folder}: no genlab runs in it (no {_RESOLVED} below it)")
    trials = _trials(folder)
    runs = [read_run(f, folder, max_samples) for f in run_folders]
    for run in runs:
        trial = trials.get(run.folder.name) if run.folder.parent == folder else None
        if trial:
            run.trial_state, run.failure = trial["state"], trial.get("failure", "")
    return runs


# A run writes its resolved config once its settings passed the checks; Hydra writes .hydra/ when it starts the
# job, so a job that failed those checks (a sweep's bad trial) is found by that.
_RESOLVED, _STARTED = "config_resolved.yaml", ".hydra/config.yaml"


def _is_run(folder: Path) -> bool:
    return (folder / _RESOLVED).is_file() or (folder / _STARTED).is_file()


def read_run(folder: Path, root: Path, max_samples: int = 3) -> RunRecord:
    config_file = folder / _RESOLVED if (folder / _RESOLVED).is_file() else folder / _STARTED
    config = yaml.safe_load(config_file.read_text()) or {}
    overrides_file = folder / ".hydra" / "overrides.yaml"
    overrides = yaml.safe_load(overrides_file.read_text()) if overrides_file.is_file() else []
    name = str(folder.relative_to(root)) if folder != root else folder.name
    run = RunRecord(
        folder=folder,
        name=name,
        overrides=list(overrides or []),
        monitor=config.get("monitor", "val/loss"),
        monitor_mode=config.get("monitor_mode", "min"),
        finished=(folder / "metrics.json").is_file(),
        group=task_and_data(config),
    )
    csv_file = folder / "csv" / "metrics.csv"
    if csv_file.is_file():
        run.curves, run.final = read_metrics_csv(csv_file)
    elif run.finished:
        run.final = {k: float(v) for k, v in json.loads((folder / "metrics.json").read_text()).items()}
    run.images = [folder / n for n in _IMAGES if (folder / n).is_file()] + sorted((folder / "samples").glob("*.png"))[
        -1:
    ]
    run.class_names = read_labels(folder) or ()
    run.audio = sorted((folder / "audio").glob("*.wav"))[:max_samples]
    for name in ("generations.jsonl", "samples.jsonl"):
        if (folder / name).is_file() and not run.texts:
            lines = (folder / name).read_text().splitlines()
            run.texts = [json.loads(line) for line in lines[-max_samples:] if line.strip()]
    return run


def task_and_data(config: dict) -> str:
    """What a run learns and from what, e.g. ``Classification on ImageFolder (~/photos)``: the task's class and
    the data's, with the files or dataset it read (the settings that make it other data, not its batch size)."""
    task = config.get("task") or {}
    data = config.get("data") or {}
    name = str(data.get("_target_", "unknown data")).rsplit(".", 1)[-1].removesuffix("DataModule")
    source = data.get("source")
    where = data.get("root") or data.get("paths") or (source.get("path") if isinstance(source, dict) else None)
    return f"{str(task.get('_target_', 'unknown task')).rsplit('.', 1)[-1]} on {name}" + (
        f" ({where})" if where else ""
    )


def read_metrics_csv(path: Path) -> tuple[dict[str, dict[int, float]], dict[str, float]]:
    """Lightning's metrics.csv as curves (column -> step -> value) and final values (each column's last value).

    A run killed and resumed logs the steps between its last checkpoint and the kill twice: the later row wins.
    """
    curves: dict[str, dict[int, float]] = {}
    final: dict[str, float] = {}
    with open(path, newline="") as file:
        for row in csv.DictReader(file):
            step = int(float(row.get("step") or 0))
            for column, value in row.items():
                if column in ("epoch", "step") or value in ("", None):
                    continue
                curves.setdefault(column, {})[step] = final[column] = float(value)
    return curves, final


def _trials(folder: Path) -> dict[str, dict]:
    """An Optuna sweep's trials.csv (genlab.sweeps), by job folder name (the trial number)."""
    path = folder / "trials.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as file:
        return {row["number"]: row for row in csv.DictReader(file)}


def _natural(path: Path) -> tuple:
    """Job folders 0, 1, …, 10 in numeric order."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in path.parts)
