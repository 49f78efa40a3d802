"""Start-up cost of genlab's default job against the same job as plain scripts (issue 24).

Three launchers run interleaved, round after round, each to its first training step (where a probe writes the
time and ends the process): ``genlab-train`` (the default job as `make train` runs it), a plain Lightning script
and a plain PyTorch loop on the same data and net (scripts/startup/). Measured per launch: seconds from launch to
the first step, and the process's peak resident memory (``wait4``'s ``ru_maxrss``). ``genlab-train --help`` is
timed against a minimal Hydra app's ``--help``. Prints min and median of each and the ratios to the plain
Lightning script (and to the minimal Hydra app), with the load average seen before each round.

    python scripts/startup_time.py --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STARTUP = REPO / "scripts" / "startup"
GOALS = {"first step": 1.3, "peak memory": 1.3, "--help": 1.2}


def launchers(folder: Path) -> dict[str, list[str]]:
    genlab = [
        sys.executable,
        "-m",
        "genlab.train",
        "+callbacks.first_step._target_=first_step_callback.ExitAtFirstStep",
    ]
    lightning = [sys.executable, str(STARTUP / "plain_lightning.py")]
    return {
        "genlab (default job: W&B offline + CSV)": [*genlab, f"hydra.run.dir={folder}/genlab"],
        "plain Lightning + W&B offline": [*lightning, "--wandb"],
        "genlab logger=csv": [*genlab, "logger=csv", f"hydra.run.dir={folder}/genlab-csv"],
        "plain Lightning (its default logger)": lightning,
        "plain PyTorch": [sys.executable, str(STARTUP / "plain_pytorch.py")],
    }


def helps() -> dict[str, list[str]]:
    return {
        "genlab --help": [sys.executable, "-m", "genlab.train", "--help"],
        "minimal Hydra --help": [sys.executable, str(STARTUP / "minimal_hydra.py"), "--help"],
    }


def launch(command: list[str], cwd: Path, probe: Path | None) -> tuple[float, float]:
    """(seconds to the first step, or to exit without a probe; peak RSS in GiB) of one launch."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(STARTUP), os.environ.get("PYTHONPATH", "")])}
    env["WANDB_MODE"] = env.get("WANDB_MODE", "offline")
    if probe is not None:
        env["STARTUP_FIRST_STEP_FILE"] = str(probe)
        probe.unlink(missing_ok=True)
    start = time.time()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    end = time.time()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 or (probe is not None and not probe.is_file()):
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr.decode()[-3000:]}")
    reached = float(probe.read_text()) if probe is not None else end
    return reached - start, usage.ru_maxrss / 2**20  # ru_maxrss is in KiB on Linux


def summary(values: list[float]) -> tuple[float, float]:
    return min(values), statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    seconds: dict[str, list[float]] = {}
    memory: dict[str, list[float]] = {}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for round_number in range(args.rounds):
            loads.append(os.getloadavg()[0])
            for name, command in {**launchers(folder), **helps()}.items():
                probe = None if name.endswith("--help") else folder / "first_step"
                took, peak = launch(command, folder, probe)
                seconds.setdefault(name, []).append(took)
                memory.setdefault(name, []).append(peak)
            print(
                f"round {round_number + 1}/{args.rounds}: "
                + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in seconds.items())
            )
    print(f"\nload average (1 min) before each round: {', '.join(f'{x:.2f}' for x in loads)}; {os.cpu_count()} CPUs")
    print("\n| launcher | to first step, min / median (s) | peak memory, min / median (GiB) |")
    print("|---|---:|---:|")
    for name in seconds:
        (s_min, s_med), (m_min, m_med) = summary(seconds[name]), summary(memory[name])
        print(f"| {name} | {s_min:.2f} / {s_med:.2f} | {m_min:.2f} / {m_med:.2f} |")
    ratios = {
        "first step, default job ÷ plain Lightning + W&B": (
            "first step",
            "genlab (default job: W&B offline + CSV)",
            "plain Lightning + W&B offline",
            seconds,
        ),
        "first step, logger=csv ÷ plain Lightning": (
            "first step",
            "genlab logger=csv",
            "plain Lightning (its default logger)",
            seconds,
        ),
        "first step, default job ÷ plain Lightning": (
            "first step",
            "genlab (default job: W&B offline + CSV)",
            "plain Lightning (its default logger)",
            seconds,
        ),
        "peak memory, default job ÷ plain Lightning": (
            "peak memory",
            "genlab (default job: W&B offline + CSV)",
            "plain Lightning (its default logger)",
            memory,
        ),
        "--help ÷ minimal Hydra app": ("--help", "genlab --help", "minimal Hydra --help", seconds),
    }
    print("\n| genlab ÷ baseline | min | median | goal |")
    print("|---|---:|---:|---:|")
    for name, (goal, ours, theirs, values) in ratios.items():
        (o_min, o_med), (t_min, t_med) = summary(values[ours]), summary(values[theirs])
        print(f"| {name} | {o_min / t_min:.2f} | {o_med / t_med:.2f} | ≤ {GOALS[goal]} |")


if __name__ == "__main__":
    main()
