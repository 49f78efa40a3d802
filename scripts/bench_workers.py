"""One side of one benchmark pair, in its own process (so its peak memory is its own): scripts/bench_all.py runs
these. Each prints a last line ``RESULT {json}``: the mean training step time after the warm-up steps
(``step_s``), the time to the end of the first step (``first_step_s``: compiling happens there), tokens computed
per step where the model reads tokens, and a validation metric where the side validates.

    python scripts/bench_workers.py genlab --steps 50 --warmup 5 -- model=cnn
    python scripts/bench_workers.py plain --steps 50 --warmup 5 -- model=cnn
    python scripts/bench_workers.py lightning --steps 50 --warmup 5 -- model=ffn
    python scripts/bench_workers.py hf_trainer --steps 20 --warmup 3
    python scripts/bench_workers.py peft --steps 5 --warmup 2 -- <the genlab overrides of the same LoRA run>
    python scripts/bench_workers.py kv_cache --new-tokens 128 [--cached]
    python scripts/bench_workers.py matmul --dtype bfloat16
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

# Lightning's own loop without genlab: no logger, checkpoint, progress bar or summary
BARE_TRAINER = {"logger": False, "enable_checkpointing": False, "enable_progress_bar": False}


class StepClock:
    """Time stamps at the end of each training step; the first is taken from the start."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.stamps: list[float] = []
        self.tokens: list[int] = []

    def tick(self) -> None:
        self.stamps.append(time.perf_counter())

    def result(self, warmup: int, **extra: Any) -> dict:
        timed = self.stamps[warmup:]
        steps = len(timed) - 1
        if steps < 1:
            raise SystemExit(f"only {len(self.stamps)} steps ran; need more than --warmup {warmup} + 1")
        tokens = statistics.median(self.tokens[warmup:]) if self.tokens[warmup:] else None
        return {
            "step_s": (timed[-1] - timed[0]) / steps,
            "first_step_s": self.stamps[0] - self.start,
            "tokens_per_step": tokens,
            **extra,
        }

    def count_tokens(self, net: torch.nn.Module) -> None:
        """Count the token ids each training forward of ``net`` computes (after any trimming of padding)."""

        def hook(module: torch.nn.Module, args: tuple, kwargs: dict) -> None:
            ids = kwargs.get("input_ids", args[0] if args else None)
            if module.training and isinstance(ids, torch.Tensor) and not ids.is_floating_point():
                self.tokens.append(ids.numel())

        net.register_forward_pre_hook(hook, with_kwargs=True)


def compose(overrides: list[str], folder: Path):
    from genlab import api

    return api.compose(["logger=none", "extras.print_config=false", *overrides], folder)


def genlab_side(args, overrides: list[str], folder: Path) -> dict:
    """What genlab-train builds (its default callbacks, progress bar included), trained for warm-up + steps."""
    import lightning as L

    from genlab import api

    total = args.warmup + args.steps + 1
    composed = compose(
        [
            *overrides,
            "trainer.max_epochs=1",
            f"trainer.limit_train_batches={total}",
            f"trainer.limit_val_batches={args.val_batches}",
            "trainer.num_sanity_val_steps=0",
        ],
        folder,
    )
    L.seed_everything(composed.config.seed, verbose=False)
    exp = api.build(composed)
    clock = StepClock()

    class Clock(L.Callback):
        def on_train_start(self, trainer, pl_module) -> None:
            clock.start = time.perf_counter()

        def on_train_batch_end(self, *unused) -> None:
            clock.tick()

    clock.count_tokens(exp.module.net)
    exp.trainer.callbacks.append(Clock())
    exp.trainer.fit(exp.module, datamodule=exp.datamodule)
    metrics = {k: float(v) for k, v in exp.trainer.callback_metrics.items() if k.startswith("val/")}
    params = sum(p.numel() for p in exp.module.net.parameters())
    return clock.result(
        args.warmup,
        precision=str(exp.trainer.precision),
        metrics=metrics,
        params=params,
        matmul_params=matmul_parameters(exp.module.net),
    )


def matmul_parameters(net: torch.nn.Module) -> int:
    """Weights that take part in matrix products (linear and convolution layers, a tied output head included),
    the N of MFU's 6 N FLOPs a token: an embedding table is looked up, not multiplied."""
    layers = (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d)
    return sum(m.weight.numel() for m in net.modules() if isinstance(m, layers))


def plain_batches(cfg) -> tuple[torch.nn.Module, Iterable, Callable]:
    """The net, the training batches and the loss of a from-scratch family, as a hand-written loop uses them."""
    from hydra.utils import instantiate

    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    net = instantiate(cfg.model)

    def loss_fn(batch: Any) -> torch.Tensor:
        x, y = batch
        return F.cross_entropy(net(x).flatten(0, -2), y.flatten())

    return net, datamodule.train_dataloader(), loss_fn


def plain_side(args, overrides: list[str], folder: Path) -> dict:
    """The loop a researcher writes by hand: same net, data loader, optimizer and seed as genlab's run."""
    import lightning as L

    cfg = compose(overrides, folder).config
    L.seed_everything(cfg.seed, verbose=False)
    net, batches, loss_fn = plain_batches(cfg)
    net.train()
    clock = StepClock()
    hand_written_loop(batches, loss_fn, list(net.parameters()), cfg, args.warmup + args.steps + 1, clock)
    return clock.result(args.warmup)


def hand_written_loop(
    batches: Iterable, loss_fn: Callable, trainable: list[torch.nn.Parameter], cfg, steps: int, clock: StepClock
) -> None:
    """zero_grad, backward, clipping as the run's trainer.gradient_clip_val says, the run's optimizer: ``steps``
    times, a tick of ``clock`` after each."""
    from hydra.utils import instantiate

    optimizer = instantiate(cfg.task.optimizer)(trainable)
    clip = cfg.trainer.gradient_clip_val
    for step, batch in enumerate(batches):
        optimizer.zero_grad()
        loss_fn(batch).backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(trainable, clip)
        optimizer.step()
        clock.tick()
        if step + 1 == steps:
            break


def lightning_side(args, overrides: list[str], folder: Path) -> dict:
    """Lightning's own loop around the same net and loss, with nothing of genlab's: its floor."""
    import lightning as L
    from hydra.utils import instantiate

    cfg = compose(overrides, folder).config
    L.seed_everything(cfg.seed, verbose=False)
    net, batches, loss_fn = plain_batches(cfg)
    clock = StepClock()

    class Bare(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            return loss_fn(batch)

        def on_train_batch_end(self, *unused) -> None:
            clock.tick()

        def configure_optimizers(self):
            return instantiate(cfg.task.optimizer)(self.parameters())

    trainer = L.Trainer(
        max_epochs=1,
        limit_train_batches=args.warmup + args.steps + 1,
        enable_model_summary=False,
        gradient_clip_val=cfg.trainer.gradient_clip_val,
        **BARE_TRAINER,
    )
    clock.start = time.perf_counter()
    trainer.fit(Bare(), train_dataloaders=batches)
    return clock.result(args.warmup)


def hf_trainer_side(args, overrides: list[str], folder: Path) -> dict:
    """A plain Hugging Face ``Trainer`` script fine-tuning the MiniLM of experiment=minilm_movie_reviews: the same
    model files, reviews, batch size, maximum length, learning rate and threads; padding to the longest row of each
    batch (DataCollatorWithPadding), as genlab trims each batch to its longest row."""
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    from genlab.data.text_classification import read_movie_reviews
    from genlab.hf.loading import unzipped

    cfg = compose(["experiment=minilm_movie_reviews"], folder).config
    model_dir = unzipped(Path(cfg.model.name_or_path))
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    texts, labels = read_movie_reviews(cfg.data.root)
    encoded = tokenizer(texts, truncation=True, max_length=cfg.data.max_length)
    rows = [
        {"input_ids": ids, "attention_mask": mask, "labels": label}
        for ids, mask, label in zip(encoded["input_ids"], encoded["attention_mask"], labels, strict=True)
    ]
    torch.manual_seed(cfg.seed)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=cfg.data.num_classes)
    clock = StepClock()
    clock.count_tokens(model)

    class Clock(TrainerCallback):
        def on_train_begin(self, *unused, **kwargs) -> None:
            clock.start = time.perf_counter()

        def on_step_end(self, *unused, **kwargs) -> None:
            clock.tick()

    training = TrainingArguments(
        output_dir=str(folder / "hf"),
        per_device_train_batch_size=cfg.data.batch_size,
        learning_rate=cfg.task.optimizer.lr,
        weight_decay=cfg.task.optimizer.weight_decay,
        max_steps=args.warmup + args.steps + 1,
        save_strategy="no",
        report_to=[],
        logging_strategy="no",
        disable_tqdm=True,
        use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
        seed=cfg.seed,
    )
    trainer = Trainer(
        model=model,
        args=training,
        train_dataset=rows,
        data_collator=DataCollatorWithPadding(tokenizer),
        callbacks=[Clock()],
    )
    trainer.train()
    return clock.result(args.warmup)


def peft_side(args, overrides: list[str], folder: Path) -> dict:
    """transformers + peft by hand: the model, LoRA settings, blocks, optimizer and clipping of the genlab run
    given by ``overrides``, in a plain loop."""
    from hydra.utils import instantiate
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    cfg = compose(overrides, folder).config
    torch.manual_seed(cfg.seed)
    model = AutoModelForCausalLM.from_pretrained(cfg.model.name_or_path, dtype=torch.float32)
    lora = cfg.tuning
    model = get_peft_model(
        model,
        LoraConfig(
            r=lora.r,
            lora_alpha=lora.alpha,
            lora_dropout=lora.dropout,
            target_modules=list(lora.target_modules),
            task_type="CAUSAL_LM",
        ),
    )
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")

    def loss_fn(batch: Any) -> torch.Tensor:
        inputs, targets = batch
        logits = model(input_ids=inputs).logits
        return F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten())

    model.train()
    clock = StepClock()
    clock.count_tokens(model.get_base_model())
    trainable = [p for p in model.parameters() if p.requires_grad]
    hand_written_loop(datamodule.train_dataloader(), loss_fn, trainable, cfg, args.warmup + args.steps + 1, clock)
    return clock.result(args.warmup)


def kv_cache_side(args, overrides: list[str], folder: Path) -> dict:
    """Tokens per second of genlab's TransformerLM sampler (the fortunes_lm size, a 1024-token context), 8 prompts
    of 16 tokens, greedy, with and without the key-value cache."""
    from genlab.generation.sampling import generate
    from genlab.generation.settings import GenerationSettings
    from genlab.nets import TransformerLM

    torch.manual_seed(0)
    model = TransformerLM(2048, max_len=1024, embed_dim=128, num_heads=4, ff_dim=512, num_layers=4).eval()
    ids = torch.randint(0, 2048, (8, 16))
    settings = GenerationSettings(max_new_tokens=args.new_tokens, do_sample=False)
    start = time.perf_counter()
    tokens = generate(model, ids, torch.ones_like(ids), settings, None, 0, 1024, cached=args.cached)
    seconds = time.perf_counter() - start
    return {"tokens_per_s": tokens.numel() / seconds, "seconds": seconds}


def matmul_side(args, overrides: list[str], folder: Path) -> dict:
    """The machine's matmul peak in FLOP/s for ``--dtype`` (best of 5 rounds of 2048² products): MFU's denominator."""
    dtype = getattr(torch, args.dtype)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    a, b = (torch.randn(2048, 2048, device=device).to(dtype) for _ in range(2))
    best = 0.0
    for _ in range(5):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(10):
            a @ b
        if device == "cuda":
            torch.cuda.synchronize()
        best = max(best, 10 * 2 * 2048**3 / (time.perf_counter() - start))
    return {"flops": best}


SIDES = {
    "genlab": genlab_side,
    "plain": plain_side,
    "lightning": lightning_side,
    "hf_trainer": hf_trainer_side,
    "peft": peft_side,
    "kv_cache": kv_cache_side,
    "matmul": matmul_side,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("side", choices=list(SIDES))
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--val-batches", type=int, default=0)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--cached", action="store_true")
    parser.add_argument("--dtype", default="float32")
    argv = sys.argv[1:]
    # genlab overrides after "--"
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:cut])
    with tempfile.TemporaryDirectory() as tmp:
        result = SIDES[args.side](args, argv[cut + 1 :], Path(tmp) / "run")
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
