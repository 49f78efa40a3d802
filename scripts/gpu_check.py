"""The GPU paths in one go, on a machine with a CUDA GPU (scripts/gpu_check.sh runs this; under 8 minutes on one
H100-class GPU). Writes one Markdown table to gpu_check.md (and prints it):

1. the GPU's bf16 matmul peak, and SmolLM2-135M full fine-tuning in bf16-mixed with its MFU against that peak;
2. QLoRA on CUDA: peak memory (torch.cuda.max_memory_allocated) of full, LoRA and QLoRA (scripts/bench_tuning.py);
3. the CUDA tests (pytest -m gpu): Stable Diffusion in fp16 on a tiny pipeline, DDP over every visible GPU with
   NCCL, exact resume of a killed bf16 run, bf16-mixed training.

    bash scripts/gpu_check.sh            # on the GPU machine
    bash scripts/gpu_check.sh --dry-run  # anywhere: composes every run's config and prints the plan, runs nothing
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

SMOLLM2_STEPS, SMOLLM2_WARMUP = 20, 5
TUNING_ARGS = ["--steps", "10", "--val-batches", "2", "--modes", "full", "lora", "qlora"]


def smollm2_overrides(folder: str) -> list[str]:
    return [
        "experiment=smollm2_fortunes",
        "trainer=gpu",
        "tuning=full",
        f"model.name_or_path={folder}",
        "model.gguf_file=null",
        "callbacks=none",
        "+trainer.enable_progress_bar=false",
    ]


def worker(*argv: str) -> dict:
    from bench_all import run_side

    return run_side(list(argv), seed=0, env=dict(os.environ))


def timed(name: str, rows: list[tuple[str, str, str]], fn) -> None:
    start = time.perf_counter()
    try:
        status, detail = "ok", fn()
    except Exception as e:  # one failing check must not hide the others' results
        status, detail = "FAILED", str(e).replace("\n", " ")[-600:]
    rows.append((name, status, f"{detail} ({time.perf_counter() - start:.0f} s)"))
    print(f"{name}: {status}: {detail}", flush=True)


def dry_run(folder: str) -> None:
    """What the check would run, with each genlab config composed (so a renamed key fails here, in CI)."""
    from genlab import api

    with tempfile.TemporaryDirectory() as tmp:
        for overrides in (
            smollm2_overrides(folder),
            ["data=digits", "model=cnn", "trainer=gpu"],
            ["experiment=digits_ffn", "trainer=ddp", "trainer.accelerator=gpu", "trainer.devices=-1"],
        ):
            api.compose(overrides, Path(tmp) / "run")
            print("composes: genlab-train " + " ".join(overrides))
    print("would run: bench_workers.py matmul --dtype bfloat16")
    print(f"would run: bench_workers.py genlab --steps {SMOLLM2_STEPS} -- <SmolLM2 overrides above>")
    print("would run: bench_tuning.py " + " ".join(TUNING_ARGS))
    print("would run: pytest -m gpu tests/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--out", default=str(REPO / "gpu_check.md"))
    args = parser.parse_args()
    if args.dry_run:
        dry_run("/cache/SmolLM2-135M-Instruct")  # the real folder is made (de-quantized from GGUF) by a real run
        return
    from bench_all import smollm2_folder

    folder = smollm2_folder()
    import torch

    if not torch.cuda.is_available():
        sys.exit("gpu_check: no CUDA GPU here (torch.cuda.is_available() is False); --dry-run checks the plan")
    rows: list[tuple[str, str, str]] = []
    peak: dict[str, float] = {}

    def matmul() -> str:
        peak["bf16"] = worker("matmul", "--dtype", "bfloat16")["flops"]
        return f"bf16 matmul peak {peak['bf16'] / 1e12:.0f} TFLOP/s"

    def smollm2() -> str:
        side = worker(
            "genlab", "--steps", str(SMOLLM2_STEPS), "--warmup", str(SMOLLM2_WARMUP), "--", *smollm2_overrides(folder)
        )
        flops = 6 * side["params"] * side["tokens_per_step"] / side["step_s"]
        mfu = f", MFU {flops / peak['bf16']:.1%} of the measured peak" if peak else ""
        return (
            f"{side['precision']}, {side['step_s'] * 1e3:.0f} ms/step, "
            f"{side['tokens_per_step'] / side['step_s']:.0f} tokens/s, {flops / 1e12:.1f} TFLOP/s{mfu}"
        )

    def qlora() -> str:
        out = subprocess.run(
            [sys.executable, "scripts/bench_tuning.py", *TUNING_ARGS],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        if out.returncode:
            raise RuntimeError(out.stdout[-1500:] + out.stderr[-1500:])
        table = [line for line in out.stdout.splitlines() if line.startswith("| ") and "tuning" not in line]
        return "; ".join(" ".join(line.split("|")[1:3]).strip() + " GiB" for line in table)

    def gpu_tests() -> str:
        out = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-m", "gpu", "tests/", "-rA"],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        summary = [line for line in out.stdout.splitlines() if line.startswith(("PASSED", "FAILED", "ERROR"))]
        if out.returncode:
            raise RuntimeError("; ".join(summary) or out.stdout[-1500:])
        return "; ".join(summary)

    timed("bf16 matmul peak", rows, matmul)
    timed(f"SmolLM2-135M full fine-tuning, bf16-mixed, {SMOLLM2_STEPS} steps", rows, smollm2)
    timed("peak memory: full / LoRA / QLoRA (max_memory_allocated)", rows, qlora)
    timed("CUDA tests: SD fp16, DDP NCCL, exact resume, bf16 training", rows, gpu_tests)
    table = [
        f"GPU check, {time.strftime('%Y-%m-%d %H:%M')}, {torch.cuda.device_count()} × {torch.cuda.get_device_name()}, "
        f"torch {torch.__version__}",
        "",
        "| check | status | result |",
        "|---|---|---|",
        *(f"| {name} | {status} | {detail} |" for name, status, detail in rows),
    ]
    Path(args.out).write_text("\n".join(table) + "\n")
    print("\n" + "\n".join(table))
    sys.exit(0 if all(status == "ok" for _, status, _ in rows) else 1)


if __name__ == "__main__":
    main()
