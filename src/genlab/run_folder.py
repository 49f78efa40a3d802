"""A finished run, read back from its folder alone (config_resolved.yaml and a checkpoint): for scripts that
evaluate or benchmark what a run trained."""

from pathlib import Path

import lightning as L
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from genlab.errors import ConfigError
from genlab.tuning.export import load_checkpoint_weights


def run_config(run_dir: Path) -> DictConfig:
    path = Path(run_dir) / "config_resolved.yaml"
    if not path.is_file():
        raise ConfigError(f"{run_dir}: no config_resolved.yaml, so this is not a genlab run folder")
    return OmegaConf.load(path)


def run_checkpoint(run_dir: Path, name: str = "last.ckpt") -> Path:
    path = Path(run_dir) / "checkpoints" / name
    if not path.is_file():
        raise ConfigError(f"{path}: no such checkpoint; train the run first (or pick one of {run_dir}/checkpoints/*.ckpt)")
    return path


def load_module(run_dir: Path, checkpoint: str = "last.ckpt", eval_mode: bool = True) -> L.LightningModule:
    """The run's task with its net, weights from the checkpoint. Fully tuned runs only: an adapter run's frozen
    base is not in its checkpoints (use tuning.adapter=<run>/adapter with genlab-train for those)."""
    cfg = run_config(run_dir)
    if cfg.tuning.get("_target_", "").rsplit(".", 1)[-1] != "FullTuning":
        raise ConfigError(f"{run_dir}: tuning={cfg.tuning._target_}; only fully tuned runs load from the folder alone")
    net = instantiate(cfg.model, _convert_="all")
    module = instantiate(cfg.task, net=net)
    load_checkpoint_weights(module, str(run_checkpoint(run_dir, checkpoint)))
    return module.eval() if eval_mode else module
