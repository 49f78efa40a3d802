"""Curriculum vs the same budget without it, on the fortunes recipe: validation loss vs optimizer step.

    python scripts/compare_curriculum.py [--seeds 42 7] [extra overrides ...]

For each seed, runs ``experiment=curriculum_fortunes`` twice with the same stage lengths and learning rates; the
baseline gives every stage all the data (max_difficulty 1.0), so the order of the data is the only difference.
Prints validation perplexity at equal steps and the test perplexity of each run's best checkpoint, and draws
validation loss vs step for both into docs/figures/curriculum_fortunes.png. Runs already in --workdir (same
seed) are read again rather than re-run; --rerun runs them anew.
"""

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ARMS = {
    "curriculum": [],
    "no curriculum": [
        "schedule.stages.0.max_difficulty=1.0",
        "schedule.stages.1.max_difficulty=1.0",
        "schedule.require_increasing=false",
    ],
}


def run(experiment_name: str, overrides: list[str], workdir: Path, rerun: bool) -> Path:
    runs = workdir / "outputs" / experiment_name / "runs"
    done = sorted(runs.glob("*/metrics.json")) if runs.is_dir() else []
    if done and not rerun:
        return done[-1].parent
    shutil.rmtree(runs, ignore_errors=True)
    args = [
        "experiment=curriculum_fortunes",
        f"experiment_name={experiment_name}",
        "logger=csv",
        "extras.print_config=false",
        *overrides,
    ]
    start = time.perf_counter()
    env = {**os.environ, "WANDB_MODE": "offline"}
    result = subprocess.run(
        [sys.executable, "-m", "genlab.train", *args], cwd=workdir, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"{experiment_name} failed:\n{result.stderr[-3000:]}")
    (folder,) = runs.iterdir()
    print(f"{experiment_name}: {time.perf_counter() - start:.0f} s, {folder}", flush=True)
    return folder


def val_curve(folder: Path) -> dict[int, float]:
    """Validation loss by the number of optimizer steps taken, from the run's CSV log."""
    (metrics,) = folder.glob("csv/**/metrics.csv")
    with metrics.open() as f:
        # Lightning logs validation under the index of the step just taken (0-based): step 99 = after 100 steps.
        return {int(row["step"]) + 1: float(row["val/loss"]) for row in csv.DictReader(f) if row.get("val/loss")}


def stage_boundaries(folder: Path) -> list[int]:
    """The optimizer steps at which the run's stages ended (all but the last)."""
    ends = [json.loads(p.read_text())["step"] for p in folder.glob("stages/*/metrics.json")]
    return sorted(ends)[:-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--workdir", type=Path, default=REPO / "outputs" / "compare_curriculum")
    parser.add_argument("--figure", type=Path, default=REPO / "docs" / "figures" / "curriculum_fortunes.png")
    parser.add_argument("--rerun", action="store_true", help="run again even where the workdir has the runs")
    parser.add_argument("overrides", nargs="*", help="extra overrides for every run")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    summary = []
    for n, seed in enumerate(args.seeds):
        folders = {
            arm: run(
                f"{'baseline' if extra else 'curriculum'}_s{seed}",
                [f"seed={seed}", *extra, *args.overrides],
                args.workdir,
                args.rerun,
            )
            for arm, extra in ARMS.items()
        }
        curves = {arm: val_curve(folder) for arm, folder in folders.items()}
        tests = {arm: json.loads((folder / "metrics.json").read_text())["test/ppl"] for arm, folder in folders.items()}
        print(f"\nseed {seed}\n{'step':>6}{'curriculum ppl':>16}{'no curriculum ppl':>19}{'ratio':>8}")
        for step in sorted(set(curves["curriculum"]) & set(curves["no curriculum"])):
            a, b = (math.exp(curves[arm][step]) for arm in ARMS)
            print(f"{step:>6}{a:>16.1f}{b:>19.1f}{a / b:>8.3f}")
        a, b = tests["curriculum"], tests["no curriculum"]
        print(f"{'test':>6}{a:>16.1f}{b:>19.1f}{a / b:>8.3f}")
        summary.append((seed, a, b))
        for arm, color in zip(ARMS, ("tab:blue", "tab:orange")):
            curve = curves[arm]
            ax.plot(
                list(curve),
                list(curve.values()),
                color=color,
                marker="o",
                markersize=3,
                linestyle=("-", "--", ":", "-.")[n % 4],
                label=f"{arm}, seed {seed}",
            )
    for boundary in stage_boundaries(folders["curriculum"]):
        ax.axvline(boundary, color="grey", linestyle=":", linewidth=1)
    if len(summary) > 1:
        ratios = [a / b for _, a, b in summary]
        print(f"\ntest ppl ratio curriculum / no curriculum per seed: {', '.join(f'{r:.3f}' for r in ratios)}")
    ax.set_xlabel("optimizer steps (stage ends dotted)")
    ax.set_ylabel("validation loss (nats/token)")
    ax.set_title("fortunes LM: short→medium→all vs all data, same steps and lr", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    args.figure.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.figure, dpi=120)
    print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
