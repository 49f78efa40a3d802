"""A run's folder: its name, finding the folder a resumed run continues in, and what the folder keeps about the
run (its resolved config, its W&B run id)."""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import socket
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from genlab.core.checkpoints import file_sha256, newest_checkpoint
from genlab.core.processes import process_alive
from genlab.errors import ConfigError

if TYPE_CHECKING:
    from omegaconf import DictConfig

# Overrides that say how to start a run, not what the run is: they must not change its identity.
_NOT_IDENTITY = ("resume", "ckpt_path")
RESOLVED_CONFIG = "config_resolved.yaml"

log = logging.getLogger("genlab")


def override_key(override: str) -> str:
    """The config key a command-line override sets (``+``/``~`` prefixes dropped)."""
    return override.split("=", 1)[0].lstrip("+~")


def identity_overrides(overrides: list[str]) -> list[str]:
    """The overrides that say what a run is, without those that say how to start it (``resume``, ``ckpt_path``)."""
    return [o for o in overrides if override_key(o) not in _NOT_IDENTITY]


def overrides_hash(overrides: list[str]) -> str:
    """A short, order-independent fingerprint of a run's command-line overrides."""
    return hashlib.sha1("\n".join(sorted(identity_overrides(overrides))).encode()).hexdigest()[:8]


def run_dir(runs_dir: str, overrides: list[str], resume: bool, ckpt_path: str | None, train: bool = True) -> str:
    """The folder of a single run: ``<timestamp>_<overrides hash>``.

    ``resume=true`` returns the newest folder of the same overrides that holds a checkpoint to resume, and training
    from a ``ckpt_path`` inside a run folder returns that folder: a resumed run keeps writing (checkpoints, CSV,
    the W&B run id) where it started. Testing or generating from another run's checkpoint (``train=false``) only
    reads that run: it gets a new folder of its own.
    """
    fingerprint = overrides_hash(list(overrides))
    if ckpt_path and train:
        owner = run_folder_of(ckpt_path)
        if owner is not None:
            return str(owner)
    if resume:
        candidates = sorted({*Path(runs_dir).glob(f"*_{fingerprint}"), *Path(runs_dir).glob(f"*_{fingerprint}-*")})
        resumable = [c for c in candidates if newest_checkpoint(c) is not None]
        if resumable:
            return str(resumable[-1])
    return str(new_folder(Path(runs_dir) / f"{datetime.now():%Y-%m-%d_%H-%M-%S}_{fingerprint}"))


def run_folder_of(checkpoint: str | Path) -> Path | None:
    """The run folder a checkpoint was saved in (``<run>/checkpoints/...`` beside the run's resolved config), or
    None for a file of no run."""
    for folder in Path(checkpoint).resolve().parents:
        if folder.name == "checkpoints" and (folder.parent / RESOLVED_CONFIG).is_file():
            return folder.parent
    return None


def sweep_dir(experiment_dir: str, study_name: str | None) -> str:
    """A multirun's folder under ``experiment_dir``: ``optuna/<study_name>`` for an Optuna study (named after its
    command, so that the same command continues it), else a new ``multiruns/<time>``, created here with a suffix if
    taken, so that identical sweeps started together get folders of their own.

    One resolver rather than an Optuna config overriding the default folder: Hydra resolves a value it merges
    another over, which created an empty multiruns folder each time a config was composed."""
    if study_name:
        return str(Path(experiment_dir) / "optuna" / study_name)
    base = Path(experiment_dir) / "multiruns" / f"{datetime.now():%Y-%m-%d_%H-%M-%S}"
    # Hydra composes a multirun's config more than once in its process (1.4 even for each job): the first folder
    # made for this second serves them all
    if base not in _SWEEP_FOLDERS:
        _SWEEP_FOLDERS[base] = new_folder(base)
    return str(_SWEEP_FOLDERS[base])


_SWEEP_FOLDERS: dict[Path, Path] = {}


def new_folder(base: str | Path) -> Path:
    """``base``, or ``base-2``, ``base-3``, ...: the first that does not exist yet, created here, so that two runs
    (or sweeps) started in the same second never share a folder."""
    base = Path(base)
    for n in itertools.count(1):
        folder = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as e:
            raise ConfigError(
                f"paths.log_dir: cannot create the run folder {folder} ({e.strerror}); "
                f"set paths.log_dir=<a folder you can write to>"
            ) from None
        return folder
    raise AssertionError("unreachable")


LOCK = ".genlab.lock"


@contextmanager
def exclusive_run_folder(folder: str | Path) -> Iterator[None]:
    """Hold ``<folder>/.genlab.lock`` while a run writes into the folder. A lock whose process is gone (killed,
    crashed) is taken over; one whose process is alive is a one-line error naming it."""
    path = Path(folder) / LOCK
    mine = json.dumps({"pid": os.getpid(), "host": socket.gethostname()})
    while True:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            _take_over_if_stale(path)
            continue
        with os.fdopen(fd, "w") as file:
            file.write(mine)
        break
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def _take_over_if_stale(path: Path) -> None:
    try:
        holder = json.loads(path.read_text())
        pid, host = int(holder["pid"]), str(holder["host"])
    except FileNotFoundError:
        return  # released meanwhile: try again
    except (OSError, ValueError, KeyError, TypeError):
        pid, host = -1, ""  # torn by a kill while it was written: nobody holds it
    if pid > 0 and host == socket.gethostname() and process_alive(pid):
        raise ConfigError(
            f"{path.parent} is in use by another run (PID {pid}); wait for it to finish or stop it, "
            f"then resume=true continues from its last checkpoint"
        )
    if host and host != socket.gethostname():
        log.warning(f"{path}: held by PID {pid} on {host}, which cannot be checked from here; taking it over")
    else:
        log.info(f"{path}: the run that held it (PID {pid}) is gone; taking it over")
    path.unlink(missing_ok=True)


def run_config_path(run_folder: str | Path) -> Path:
    """Where a run keeps its config with every interpolation resolved."""
    return Path(run_folder) / RESOLVED_CONFIG


def read_run_config(run_folder: str | Path) -> DictConfig:
    """The resolved config of a finished run (a DictConfig), or a one-line error if the folder is not a run's."""
    from omegaconf import DictConfig, OmegaConf

    path = run_config_path(run_folder)
    if not path.is_file():
        raise ConfigError(f"{run_folder}: no {RESOLVED_CONFIG}, so this is not a genlab run folder")
    config = OmegaConf.load(path)
    if not isinstance(config, DictConfig):
        raise ConfigError(f"{path}: not a mapping of config groups, so this is not a genlab run folder")
    return config


WEIGHTS_SOURCE = "weights_source.json"


LABELS = "labels.json"
# What a run folder keeps that its weights need to be used again without the data they were trained on: the
# tokenizer they read text with, and the names of the classes their outputs stand for.
CARRIED_WITH_WEIGHTS = ("tokenizer", LABELS)


def save_labels(run_folder: str | Path, names: Sequence[str]) -> None:
    """The class names of a run's outputs and their indices, in ``labels.json`` (the keys of Hugging Face's model
    configs: ``id2label``, ``label2id``)."""
    record = {
        "num_classes": len(names),
        "id2label": {str(i): str(name) for i, name in enumerate(names)},
        "label2id": {str(name): i for i, name in enumerate(names)},
    }
    (Path(run_folder) / LABELS).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")


def read_labels(run_folder: str | Path) -> tuple[str, ...] | None:
    """The class names a run saved (``save_labels``), in index order, or None when it saved none (unlabelled data,
    or a run from before labels.json). A damaged file is a one-line error naming it."""
    path = Path(run_folder) / LABELS
    if not path.is_file():
        return None
    try:
        id2label = json.loads(path.read_text(encoding="utf-8"))["id2label"]
        return tuple(str(id2label[str(i)]) for i in range(len(id2label)))
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(
            f"{path}: not a labels file genlab wrote ({type(e).__name__}: {e}); restore it from the run's copy, or "
            f"delete it to take the names from the checkpoint"
        ) from None


def take_weights_from(run_folder: str | Path, ckpt_path: str | Path) -> None:
    """Set up a run that does not train (``train=false ckpt_path=...``) in its own folder: copy what the weights
    need from the run that saved them (its tokenizer) and record where they came from (the checkpoint's absolute
    path, its run folder, its content hash) in ``weights_source.json``. The other run is only read."""
    import shutil

    checkpoint, source_run = Path(ckpt_path).resolve(), run_folder_of(ckpt_path)
    if source_run is not None:
        for name in CARRIED_WITH_WEIGHTS:
            if (source_run / name).is_dir() and not (Path(run_folder) / name).exists():
                shutil.copytree(source_run / name, Path(run_folder) / name)
    record = {
        "ckpt_path": str(checkpoint),
        "run": None if source_run is None else str(source_run),
        "sha256": file_sha256(checkpoint),
    }
    (Path(run_folder) / WEIGHTS_SOURCE).write_text(json.dumps(record, indent=2) + "\n")


def wandb_run_id(run_folder: str | Path) -> str:
    """The W&B run id of a run folder, created on first use, so a resumed run continues the same W&B run."""
    path = Path(run_folder) / "wandb_id"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    run_id = uuid.uuid4().hex[:12]
    path.write_text(run_id)
    return run_id
