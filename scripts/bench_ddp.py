"""Training throughput of one process against DDP over two, measured in the same run of this script.

    python scripts/bench_ddp.py [--models ffn cnn] [--batches 150] [--epochs 2] [--accelerator cpu|gpu]

Each configuration is a real `genlab-train` run on Fashion-MNIST (validation and test off) with the Throughput
callback; samples/s are those of the last epoch (the first one also pays for start-up), summed over ranks
(each rank logs its own rate over the same number of steps). Three configurations:

- 1 process, batch B (on CPU it gets every core's threads);
- 2 processes, batch B each: the usual way to scale (global batch 2B);
- 2 processes, batch B/2 each: the same global batch, so the same optimization as 1 process.

Wall time is the whole command, start-up included. Prints a table and the ratios against 1 process.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from genlab.report.runs import read_metrics_csv
from recipe_runs import REPO


def train(args: list[str], out: Path) -> tuple[float, float]:
    """(samples/s of the last epoch summed over ranks, wall seconds) of one genlab-train run."""
    command = [
        sys.executable,
        "-m",
        "genlab.train",
        *args,
        f"hydra.run.dir={out}",
        "extras.print_config=false",
        "logger=csv",
        "callbacks=[default,throughput]",
        "callbacks.rich_progress_bar=null",
        "test=false",
        "trainer.limit_val_batches=0",
        "trainer.num_sanity_val_steps=0",
    ]
    print("+", " ".join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    _, final = read_metrics_csv(out / "csv" / "metrics.csv")
    return final["train/samples_per_s"], wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["ffn", "cnn"])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--batches", type=int, default=150, help="training batches per epoch (of the 1-process run)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--accelerator", default="cpu")
    args = parser.parse_args()

    b = args.batch_size
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            common = [
                f"experiment=fashion_{model}",
                f"trainer.max_epochs={args.epochs}",
                f"trainer.accelerator={args.accelerator}",
            ]
            configs = [
                (
                    "1 process",
                    ["trainer.devices=1", f"data.batch_size={b}", f"trainer.limit_train_batches={args.batches}"],
                ),
                # each rank sees half of the batches per epoch: the same number of samples in all three
                (
                    "2 DDP, batch B each",
                    ["trainer=ddp", f"data.batch_size={b}", f"trainer.limit_train_batches={args.batches // 2}"],
                ),
                (
                    "2 DDP, batch B/2 each",
                    ["trainer=ddp", f"data.batch_size={b // 2}", f"trainer.limit_train_batches={args.batches}"],
                ),
            ]
            results = []
            for name, extra in configs:
                world = 2 if "trainer=ddp" in extra else 1
                rate, wall = train([*common, *extra], Path(tmp) / f"{model}_{len(results)}")
                results.append((name, rate * world, wall))
            base_rate, base_wall = results[0][1], results[0][2]
            rows += [(model, name, rate, rate / base_rate, wall, wall / base_wall) for name, rate, wall in results]
    print(
        f"\nbatch B={b}, {args.batches} batches of B a epoch, last of {args.epochs} epochs, accelerator={args.accelerator}"
    )
    print(f"{'model':6} {'configuration':24} {'samples/s':>10} {'ratio':>6} {'wall s':>7} {'ratio':>6}")
    for model, name, rate, rate_ratio, wall, wall_ratio in rows:
        print(f"{model:6} {name:24} {rate:10.0f} {rate_ratio:6.2f} {wall:7.1f} {wall_ratio:6.2f}")


if __name__ == "__main__":
    main()
