"""The default job written as a plain Lightning script: Fashion-MNIST from Debian's IDX files, the same
784-128-10 net, Adam 1e-3, batch 64, 5,000 validation images, Lightning's default Trainer (its own logger,
checkpointing and progress bar); with ``--wandb``, an offline WandbLogger as genlab's default job has.
scripts/startup_time.py times it to its first training step."""

import gzip
import sys

import lightning as L
import numpy as np
import torch
from first_step_callback import ExitAtFirstStep
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

ROOT = "/usr/share/datasets/fashion-mnist"


def read(name: str, header: int) -> np.ndarray:
    with gzip.open(f"{ROOT}/{name}", "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


class Classifier(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))

    def training_step(self, batch, _):
        x, y = batch
        loss = nn.functional.cross_entropy(self.net(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, _):
        x, y = batch
        self.log("val/loss", nn.functional.cross_entropy(self.net(x), y))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def main() -> None:
    L.seed_everything(42)
    images = torch.from_numpy(read("train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28).copy())
    labels = torch.from_numpy(read("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
    x = images.float().div_(255).sub_(0.2860).div_(0.3530)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    val, train = order[:5000], order[5000:]
    train_loader = DataLoader(TensorDataset(x[train], labels[train]), batch_size=64, shuffle=True)
    val_loader = DataLoader(TensorDataset(x[val], labels[val]), batch_size=64)
    logger: object = True  # Lightning's default
    if "--wandb" in sys.argv:
        from lightning.pytorch.loggers import WandbLogger

        logger = WandbLogger(project="plain", save_dir=".", mode="offline")
        logger.log_hyperparams({"lr": 1e-3, "batch_size": 64, "hidden": 128})
    trainer = L.Trainer(max_epochs=3, callbacks=[ExitAtFirstStep()], logger=logger)
    trainer.fit(Classifier(), train_loader, val_loader)


if __name__ == "__main__":
    main()
