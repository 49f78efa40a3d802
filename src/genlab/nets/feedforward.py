import math
from collections.abc import Sequence

import torch
from torch import nn


class FeedForward(nn.Module):
    """input → hidden → ReLU → output. Inputs of any shape are flattened, so images work as they come."""

    def __init__(self, input_shape: Sequence[int], num_classes: int, hidden_size: int = 128, dropout: float = 0.0):
        super().__init__()
        self.hidden = nn.Linear(math.prod(input_shape), hidden_size)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.relu(self.hidden(x.flatten(1)))))
