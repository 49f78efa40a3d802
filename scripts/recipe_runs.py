"""Shared by the evaluation scripts: genlab-train as a user runs it, and a recipe's run trained once."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def genlab_train(*args: str) -> None:
    command = [sys.executable, "-m", "genlab.train", *args, "extras.print_config=false"]
    print("+", " ".join(command), flush=True)
    subprocess.run(command, cwd=REPO, check=True)


def ensure_trained(experiment: str, run_dir: Path) -> None:
    """Train ``experiment`` into ``run_dir`` unless a finished run is there already."""
    if not (run_dir / "checkpoints" / "last.ckpt").is_file():
        genlab_train(f"experiment={experiment}", f"hydra.run.dir={run_dir}", "logger=[csv,wandb]")
