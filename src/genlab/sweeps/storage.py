"""Where a study lives: ``hydra.sweeper.storage``.

- ``auto`` (the default): the study file already in the sweep folder if there is one; otherwise Optuna's journal
  file when trials run in parallel (a launcher other than Hydra's basic one, or ``n_jobs`` > 1) and SQLite when
  they run one at a time. SQLite must not be written by several processes at once (Optuna's and SQLite's own
  advice; on NFS its locks do not hold at all); the journal file is an append-only log with its own lock, made for
  that;
- ``sqlite`` / ``journal``: that kind, in the sweep folder (``optuna.db`` / ``optuna.journal``);
- a path ending in ``.journal``: a journal file elsewhere;
- any other value: an SQLAlchemy URL (``postgresql://user@host/db``, ``sqlite:///path``) for Optuna's RDB storage.

The sweeper records the study's name and resolved storage in the sweep folder (``study.yaml``); its jobs, which
know their sweep folder, read them there and open the storage the sweeper chose.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from genlab.errors import ConfigError

log = logging.getLogger(__name__)

SQLITE_FILE = "optuna.db"
JOURNAL_FILE = "optuna.journal"
STUDY_FILE = "study.yaml"


def record_study(sweep_dir: Path, study_name: str, storage: str) -> None:
    """Writes where the sweep's study is, for its jobs (:func:`recorded_study`)."""
    import yaml

    (sweep_dir / STUDY_FILE).write_text(yaml.safe_dump({"study_name": study_name, "storage": storage}))


def recorded_study(sweep_dir: str | Path) -> tuple[str, str]:
    """The study name and storage the sweeper recorded in ``sweep_dir``."""
    import yaml

    path = Path(sweep_dir) / STUDY_FILE
    try:
        recorded = yaml.safe_load(path.read_text())
        return str(recorded["study_name"]), str(recorded["storage"])
    except (OSError, yaml.YAMLError, KeyError, TypeError) as e:
        raise ConfigError(
            f"{path}: the sweep's study record is missing or damaged ({type(e).__name__}); callbacks.optuna_pruning "
            f"runs only in the trials of hparams_search=optuna"
        ) from None


def resolve_storage(setting: str | None, sweep_dir: Path, parallel: bool) -> str:
    """The storage ``setting`` names for a sweep in ``sweep_dir``, as a journal file path or an SQLAlchemy URL."""
    setting = str(setting or "auto")
    sqlite, journal = f"sqlite:///{sweep_dir.absolute() / SQLITE_FILE}", str(sweep_dir.absolute() / JOURNAL_FILE)
    if setting == "auto":
        if (sweep_dir / SQLITE_FILE).exists():
            return sqlite
        return journal if parallel or (sweep_dir / JOURNAL_FILE).exists() else sqlite
    if setting == "sqlite":
        return sqlite
    if setting == "journal":
        return journal
    if setting.endswith(".journal") or "://" in setting:
        return setting
    raise ConfigError(
        f"hydra.sweeper.storage={setting}: not a storage; use auto, sqlite, journal, a path ending in .journal or an "
        f"SQLAlchemy URL such as postgresql://user@host/db"
    )


def open_storage(storage: str) -> Any:
    """The Optuna storage for a value of :func:`resolve_storage`; an SQLite study file written by an older Optuna
    is upgraded in place, after a copy of it is kept next to it."""
    import optuna

    if storage.endswith(".journal"):
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        Path(storage).parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(storage))
    try:
        return optuna.storages.RDBStorage(storage)
    except RuntimeError as e:
        if "optuna storage upgrade" not in str(e):
            raise
    _upgrade(storage)
    return optuna.storages.RDBStorage(storage)


def _upgrade(url: str) -> None:
    import optuna

    old = optuna.storages.RDBStorage(url, skip_compatibility_check=True)
    written_by = old.get_current_version()
    file = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
    if file is None or not file.is_file():
        raise ConfigError(
            f"hydra.sweeper.storage={url}: the study was stored by an older Optuna (schema {written_by}); back it up "
            f"and upgrade it with: optuna storage upgrade --storage {url}"
        )
    backup = file.with_name(f"{file.name}.schema-{written_by}.bak")
    shutil.copy2(file, backup)
    old.upgrade()
    log.info(f"upgraded the study file {file} from Optuna schema {written_by} (the old file is kept as {backup.name})")
