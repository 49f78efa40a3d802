"""The README's quick figures, measured on the machine this runs on: the CPU and its matmul speed in fp32 and bf16,
the default job (``make train``: its training time and test accuracy), ``genlab-train --help``, the NumPy neuron
and ``experiment=digits_diffusion``. Prints a Markdown table to paste into the README and BENCHMARKS.md.

    python scripts/readme_figures.py            # ~4 minutes on 2 CPU cores; keep the machine otherwise idle

Longer figures have scripts of their own (BENCHMARKS.md names each); the recipes' times are those of their runs.
"""

from __future__ import annotations

import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]


def cpu() -> str:
    """The CPU's model name, cores and whether it computes bf16 natively (what trainer.precision=auto asks)."""
    from genlab.core.speed import native_bf16

    name = platform.processor() or "unknown CPU"
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    found = re.search(r"Model name:\s*(.+)", lscpu)
    if found:
        name = found.group(1).strip()
    native = f"native bf16 ({native_bf16('cpu')})" if native_bf16("cpu") else "no native bf16 (no AVX512-BF16 or AMX)"
    return f"{name}, {torch.get_num_threads()} threads, {native}"


def matmul_gflops(dtype: torch.dtype, size: int = 1024, rounds: int = 3) -> float:
    """Best of ``rounds`` products of two ``size``² matrices (1024²: a CPU without native bf16 emulates it, at
    well under 1 GFLOP/s, so larger products take minutes)."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def timed(command: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return elapsed, result.stdout + result.stderr


def main() -> None:
    rows = [("CPU", cpu())]
    fp32, bf16 = matmul_gflops(torch.float32), matmul_gflops(torch.bfloat16)
    rows.append(("matmul 1024², best of 3", f"fp32 {fp32:.3g} GFLOP/s, bf16 {bf16:.3g} GFLOP/s ({bf16 / fp32:.3g}×)"))
    train = [sys.executable, "-m", "genlab.train", "logger=csv"]
    with tempfile.TemporaryDirectory() as folder:
        wall, output = timed(train, Path(folder))
        epochs = [float(s) for s in re.findall(r"^epoch \d+: .*\((\d+) s\)$", output, flags=re.MULTILINE)]
        accuracy = re.search(r"test/acc\s*│\s*([0-9.]+)", output)
        rows.append(
            (
                "default job (`make train`: ffn on Fashion-MNIST, 3 epochs)",
                f"{sum(epochs):.0f} s of training ({', '.join(f'{s:.0f}' for s in epochs)} s an epoch), "
                f"{wall:.0f} s in all; test accuracy {accuracy.group(1) if accuracy else '?'}",
            )
        )
        help_s = min(timed([sys.executable, "-m", "genlab.train", "--help"], Path(folder))[0] for _ in range(3))
        rows.append(("`genlab-train --help`, best of 3", f"{help_s:.1f} s"))
        neuron, output = timed([sys.executable, "-m", "genlab.nets.numpy_neuron", "--epochs", "30"], Path(folder))
        accuracy = re.search(r"final test accuracy: ([0-9.]+)", output)
        rows.append(
            (
                "`python -m genlab.nets.numpy_neuron --epochs 30`",
                f"{neuron:.1f} s, test accuracy {accuracy.group(1) if accuracy else '?'}",
            )
        )
        diffusion, _ = timed(
            [sys.executable, "-m", "genlab.train", "experiment=digits_diffusion", "logger=csv"], Path(folder)
        )
        rows.append(("`genlab-train experiment=digits_diffusion`", f"{diffusion / 60:.1f} min"))
    print(f"Measured {time.strftime('%Y-%m-%d')} with `python scripts/readme_figures.py`\n")
    print("| what | measured |\n|---|---|")
    for what, value in rows:
        print(f"| {what} | {value} |")


if __name__ == "__main__":
    main()
