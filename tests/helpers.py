"""Running genlab through its CLI (in-process runs go through genlab.api: imports are slow, one pytest process pays them once)."""

import os
import subprocess
import sys
from pathlib import Path

import torch

import genlab.conf

REPO = Path(__file__).resolve().parents[1]
# killer.py and recorder.py: callbacks that tests name as _target_ in the runs they start
TESTS = Path(__file__).resolve().parent


def env_with_test_modules() -> dict[str, str]:
    """The environment a started run needs to import the tests' own callbacks (killer, recorder)."""
    return {"PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}


CONF = Path(genlab.conf.__file__).parent
FAST = ["trainer.fast_dev_run=true", "logger=none", "extras.print_config=false"]


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
    out = subprocess.run(
        [str(wandb_cli), "leet", "inspect", *flags, "--json", str(segment)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "WANDB_MODE": "offline"},
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def only_run(outputs: Path, task: str) -> Path:
    (folder,) = (outputs / task / "runs").iterdir()
    return folder


def load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def straight_then_killed_and_resumed(
    common: list[str], kill: list[str], resumed_from: str, tmp_path: Path
) -> tuple[dict[str, Path], dict, dict]:
    """Runs ``common`` once straight through, once killed by ``killer.KillAtStep`` (``kill``: its settings) and
    resumed, checking that the resume started from ``resumed_from`` (a step checkpoint's name). Returns the two
    run folders and the last checkpoints of the straight and the resumed run."""
    env = env_with_test_modules()
    straight = run_cli([*common, "experiment_name=straight"], cwd=tmp_path, env=env)
    assert straight.returncode == 0, straight.stderr[-3000:]
    marker = tmp_path / "killed.marker"
    killed_args = [
        *common,
        "experiment_name=killed",
        "+callbacks.kill._target_=killer.KillAtStep",
        *kill,
        f"+callbacks.kill.marker={marker}",
    ]
    killed = run_cli(killed_args, cwd=tmp_path, env=env)
    assert killed.returncode == -9 and marker.exists(), killed.stderr[-3000:]
    resumed = run_cli([*killed_args, "resume=true"], cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert resumed_from in resumed.stdout + resumed.stderr
    folders = {name: only_run(tmp_path / "outputs", name) for name in ("straight", "killed")}
    expected, got = (load(folders[name] / "checkpoints" / "last.ckpt") for name in ("straight", "killed"))
    return folders, expected, got
