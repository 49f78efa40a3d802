"""Time one training epoch of genlab against a plain PyTorch loop: same model, data, batch size and seed.

    python scripts/bench_epoch.py [--models ffn cnn] [--repeats 3] [--data fashion_mnist]

Both sides use the same DataLoader from the same data module; genlab runs what genlab-train builds
(default callbacks, CSV logger, Rich progress bar), validation off on both sides. Prints the median of each
and the ratio genlab / plain (goal: <= 1.05).
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from genlab import api


def plain_epoch(cfg, datamodule) -> float:
    """The loop a researcher writes by hand."""
    import lightning as L
    from hydra.utils import instantiate

    L.seed_everything(cfg.seed, verbose=False)
    net = instantiate(cfg.model)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.task.optimizer.lr)
    net.train()
    start = time.perf_counter()
    for x, y in datamodule.train_dataloader():
        optimizer.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def genlab_epoch(composed: api.ComposedRun) -> float:
    import lightning as L

    L.seed_everything(composed.config.seed, verbose=False)
    exp = api.build(composed)
    exp.datamodule.setup("fit")
    start = time.perf_counter()
    exp.trainer.fit(exp.module, datamodule=exp.datamodule)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["ffn", "cnn"])
    parser.add_argument("--data", default="fashion_mnist")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            overrides = [
                f"model={model}",
                f"data={args.data}",
                "trainer.max_epochs=1",
                "trainer.limit_val_batches=0",
                "trainer.num_sanity_val_steps=0",
                "logger=csv",
                "extras.print_config=false",
            ]
            plain, ours = [], []
            for i in range(args.repeats):  # alternate, so drift in machine load hits both sides alike
                composed = api.compose(overrides, Path(tmp) / f"{model}-{i}")
                cfg = composed.config
                ours.append(genlab_epoch(composed))
                from hydra.utils import instantiate

                datamodule = instantiate(cfg.data)
                datamodule.setup("fit")
                plain.append(plain_epoch(cfg, datamodule))
            rows.append((model, statistics.median(plain), statistics.median(ours)))
    print(f"\n{'model':<8}{'plain PyTorch s/epoch':>24}{'genlab s/epoch':>18}{'ratio':>8}")
    for model, plain, ours in rows:
        print(f"{model:<8}{plain:>24.2f}{ours:>18.2f}{ours / plain:>8.3f}")
    print(
        f"\n{args.data}, batch size {cfg.data.batch_size}, {torch.get_num_threads()} threads, torch {torch.__version__}"
    )


if __name__ == "__main__":
    main()
