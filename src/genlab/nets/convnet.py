from collections.abc import Sequence

import torch
from torch import nn


class ConvNet(nn.Module):
    """Conv 3×3 blocks (each conv → ReLU → 2×2 max-pool), then fc → ReLU → dropout → fc (``head``).

    The flattened size follows from ``input_shape``, so the same net takes 1×28×28 and 3×32×32 images.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        channels: Sequence[int] = (32, 64, 128),
        fc_size: int = 512,
        dropout: float = 0.5,
    ):
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(
                f"ConvNet needs images shaped [channels, height, width], got input_shape={list(input_shape)}"
            )
        in_channels, height, width = input_shape
        blocks: list[nn.Module] = []
        for out_channels in channels:
            blocks += [nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2)]
            in_channels, height, width = out_channels, height // 2, width // 2
        if height < 1 or width < 1:
            raise ValueError(
                f"{len(channels)} pooling stages shrink a {input_shape[1]}×{input_shape[2]} image to nothing; "
                f"use fewer channels entries (e.g. channels=[32,64])"
            )
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_channels * height * width, fc_size),
            nn.ReLU(),
            nn.Dropout(dropout),
        )
        self.head = nn.Linear(fc_size, num_classes)

    @property
    def embedding_size(self) -> int:
        return self.head.in_features

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The features the head classifies ([N, embedding_size]): what a Fréchet distance compares."""
        return self.classifier(self.features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))
