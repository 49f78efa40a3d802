import math
from collections.abc import Sequence

import torch
from torch import nn


class FeedForward(nn.Module):
    """input → hidden → ReLU → output. Inputs of any shape are flattened, so images work as they come."""

    def __init__(self, input_shape: Sequence[int], num_classes: int, hidden_size: int = 128, dropout: float = 0.0):
        super().__init__()
        self.layer1 = nn.Linear(math.prod(input_shape), hidden_size)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(dropout)
        self.layer2 = nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer2(self.dropout(self.relu(self.layer1(x.flatten(1)))))
