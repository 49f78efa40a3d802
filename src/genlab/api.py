"""genlab from Python: compose a run's config from overrides, run it in this process, load a finished run.

    from genlab import api
    metrics = api.run(["experiment=digits_ffn", "trainer.max_epochs=1"], output_dir=Path("outputs/mine"))
    module = api.load_run("outputs/mine")          # the trained task with its net, in eval mode

What genlab-train does, without the command line: scripts and tests use this instead of Hydra's own API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from genlab.config import CONFIG_MODULE
from genlab.config.compat import VERSION_BASE
from genlab.config.trusted import check_trusted
from genlab.core.checkpoints import run_checkpoint
from genlab.core.context import RunContext
from genlab.core.run_folder import read_run_config, run_config_path
from genlab.errors import ConfigError

if TYPE_CHECKING:
    import lightning as L
    from omegaconf import DictConfig

    from genlab.core.context import Experiment

__all__ = ["ComposedRun", "build", "compose", "load_run", "load_run_data", "read_run_config", "run", "run_checkpoint"]


@dataclass
class ComposedRun:
    """A run's config as genlab-train would compose it, and its context (output folder, overrides, choices)."""

    config: DictConfig
    context: RunContext


def compose(
    overrides: Sequence[str] = (), output_dir: str | Path = "outputs/api", config_dir: str | Path | None = None
) -> ComposedRun:
    """The config genlab-train builds for ``overrides``, writing into ``output_dir``.

    ``config_dir`` adds a folder of the user's own config groups on top of genlab's, as ``--config-dir`` does.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    from genlab.config.resolvers import register_resolvers
    from genlab.config.schema import register_schema
    from genlab.core.trained_run import adopt_trained_sizes
    from genlab.integrations.third_party_output import quiet_third_parties

    quiet_third_parties()
    register_schema()
    register_resolvers()
    output_dir = Path(output_dir)
    overrides = list(overrides)
    search = [f"hydra.searchpath=[file://{Path(config_dir).resolve()}]"] if config_dir is not None else []
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module=CONFIG_MODULE, **VERSION_BASE):
        cfg = hydra_compose("train", overrides=[*overrides, *search], return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
        cfg.paths.log_dir = str(output_dir.parent)
        choices = {k: v for k, v in cfg.hydra.runtime.choices.items() if v is not None}
        # genlab-train's task function gets no hydra node either
        del cfg.hydra
    adopt_trained_sizes(cfg, overrides)  # as genlab.core.run does for genlab-train
    return ComposedRun(cfg, RunContext(output_dir=output_dir, overrides=overrides, choices=choices))


def build(composed: ComposedRun) -> Experiment:
    """The data module, task, trainer and the rest of a composed run, without running it."""
    from genlab.core.build import build as build_experiment

    return build_experiment(composed.config, composed.context)


def run(
    overrides: Sequence[str] = (), output_dir: str | Path = "outputs/api", config_dir: str | Path | None = None
) -> dict[str, float]:
    """Compose and run as genlab-train does (train, test, predict as the config says); returns the final metrics."""
    from genlab.core.run import run as run_composed

    composed = compose(overrides, output_dir, config_dir)
    return run_composed(composed.config, composed.context)


def load_run(run_dir: str | Path, checkpoint: str = "last.ckpt", eval_mode: bool = True) -> L.LightningModule:
    """A finished run's task with its net, weights from ``checkpoints/<checkpoint>``, from the folder alone.

    Fully tuned runs only: an adapter run's frozen base is not in its checkpoints (use
    ``tuning.adapter=<run>/adapter`` with genlab-train for those).
    """
    from hydra.utils import instantiate

    from genlab.core.checkpoints import load_checkpoint_weights

    cfg = read_run_config(run_dir)
    if cfg.tuning.get("_target_", "").rsplit(".", 1)[-1] != "FullTuning":
        raise ConfigError(f"{run_dir}: tuning={cfg.tuning._target_}; only fully tuned runs load from the folder alone")
    source = str(run_config_path(run_dir))
    check_trusted(cfg.model, "model", source)
    check_trusted(cfg.task, "task", source)
    net = instantiate(cfg.model, _convert_="all")
    module = instantiate(cfg.task, net=net)
    load_checkpoint_weights(module, run_checkpoint(run_dir, checkpoint))
    return module.eval() if eval_mode else module


def load_run_data(run_dir: str | Path) -> L.LightningDataModule:
    """A finished run's data module, built from its folder's config (not set up yet)."""
    from hydra.utils import instantiate

    cfg = read_run_config(run_dir)
    check_trusted(cfg.data, "data", str(run_config_path(run_dir)))
    return instantiate(cfg.data)
