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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from genlab.core.checkpoints import newest_checkpoint
from genlab.core.processes import process_alive
from genlab.errors import ConfigError

if TYPE_CHECKING:
    from omegaconf import DictConfig

# Overrides that say how to start a run, not what the run is: they must not change its identity.
_NOT_IDENTITY = ("resume", "ckpt_path")
RESOLVED_CONFIG = "config_resolved.yaml"

log = logging.getLogger("genlab")


def overrides_hash(overrides: list[str]) -> str:
    """A short, order-independent fingerprint of a run's command-line overrides."""
    kept = sorted(o for o in overrides if o.split("=", 1)[0].lstrip("+~") not in _NOT_IDENTITY)
    return hashlib.sha1("\n".join(kept).encode()).hexdigest()[:8]


def run_dir(runs_dir: str, overrides: list[str], resume: bool, ckpt_path: str | None) -> str:
    """The folder of a single run: ``<timestamp>_<overrides hash>``.

    ``resume=true`` returns the newest folder of the same overrides that holds a checkpoint to resume, and a
    ``ckpt_path`` inside a run folder returns that folder: a resumed run keeps writing (checkpoints, CSV, the
    W&B run id) where it started.
    """
    fingerprint = overrides_hash(list(overrides))
    if ckpt_path:
        checkpoint = Path(ckpt_path).resolve()
        for folder in checkpoint.parents:
            if folder.name == "checkpoints" and (folder.parent / ".hydra").is_dir():
                return str(folder.parent)
    if resume:
        candidates = sorted({*Path(runs_dir).glob(f"*_{fingerprint}"), *Path(runs_dir).glob(f"*_{fingerprint}-*")})
        resumable = [c for c in candidates if newest_checkpoint(c) is not None]
        if resumable:
            return str(resumable[-1])
    return str(new_folder(Path(runs_dir) / f"{datetime.now():%Y-%m-%d_%H-%M-%S}_{fingerprint}"))


def new_folder(base: str | Path) -> Path:
    """``base``, or ``base-2``, ``base-3``, ...: the first that does not exist yet, created here, so that two runs
    (or sweeps) started in the same second never share a folder."""
    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    for n in itertools.count(1):
        folder = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
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


def wandb_run_id(run_folder: str | Path) -> str:
    """The W&B run id of a run folder, created on first use, so a resumed run continues the same W&B run."""
    path = Path(run_folder) / "wandb_id"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    run_id = uuid.uuid4().hex[:12]
    path.write_text(run_id)
    return run_id
