"""The default job as a plain PyTorch loop (same data, net and optimizer as plain_lightning.py), timed by
scripts/startup_time.py to its first training step."""

import gzip

import numpy as np
import torch
from torch import nn

ROOT = "/usr/share/datasets/fashion-mnist"


def read(name: str, header: int) -> np.ndarray:
    with gzip.open(f"{ROOT}/{name}", "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


def main() -> None:
    from first_step import reached_first_step

    torch.manual_seed(42)
    images = torch.from_numpy(read("train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28).copy())
    labels = torch.from_numpy(read("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
    x = images.float().div_(255).sub_(0.2860).div_(0.3530)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    train = order[5000:]
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    for start in range(0, len(train), 64):
        index = train[start : start + 64]
        reached_first_step()
        loss = nn.functional.cross_entropy(net(x[index]), labels[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


if __name__ == "__main__":
    main()
