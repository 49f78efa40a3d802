"""Running genlab in-process (imports are slow: one pytest process pays them once) and through its CLI."""

import os
import subprocess
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from genlab.train import CONFIG_DIR

REPO = CONFIG_DIR.parent
FAST = ["trainer.fast_dev_run=true", "logger=none", "extras.print_config=false"]


def compose_config(overrides: list[str], output_dir: Path) -> tuple[DictConfig, dict[str, str]]:
    """The config genlab-train would build for these overrides, writing under output_dir, and the group choices."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
        cfg.paths.log_dir = str(output_dir.parent)
        # genlab-train's task function gets no hydra node either
        choices = {k: v for k, v in cfg.hydra.runtime.choices.items() if v is not None}
        del cfg.hydra
    return cfg, choices


def run_in_process(overrides: list[str], output_dir: Path) -> dict[str, float]:
    from genlab.build import RunContext
    from genlab.run import run

    cfg, choices = compose_config(overrides, output_dir)
    return run(cfg, RunContext(output_dir=output_dir, overrides=overrides, choices=choices))


def run_cli(args: list[str], cwd: Path, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """genlab-train as a user runs it, from cwd (outputs/ goes there)."""
    # WANDB_SERVICE: a W&B run started in this test process shares its wandb-core with children through it; a
    # user's genlab-train starts its own, and a killed child's run would otherwise stay registered in ours.
    inherited = {k: v for k, v in os.environ.items() if k != "WANDB_SERVICE"}
    full_env = {**inherited, "WANDB_MODE": "offline", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "genlab.train", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


def leet_inspect(run_folder: Path, *flags: str) -> str:
    """`wandb leet inspect --json` of the run folder's offline W&B run."""
    (segment,) = run_folder.glob("wandb/offline-run-*")
    wandb_cli = Path(sys.executable).with_name("wandb")
    out = subprocess.run([str(wandb_cli), "leet", "inspect", *flags, "--json", str(segment)], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "WANDB_MODE": "offline"})
    assert out.returncode == 0, out.stderr
    return out.stdout
