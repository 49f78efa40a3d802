from collections.abc import Sequence

import torch
from torch import nn

from genlab.nets.sequence import image_to_sequence, sequence_feature_size

_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentNet(nn.Module):
    """A batch-first recurrent layer whose last time step feeds a linear classifier. Images are read row by row."""

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        hidden_size: int = 128,
        num_layers: int = 1,
        cell: str = "rnn",
        dropout: float = 0.0,
    ):
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"cell={cell!r} is not one of {sorted(_CELLS)}")
        _, features = sequence_feature_size(input_shape)
        self.rnn = _CELLS[cell](
            features, hidden_size, num_layers=num_layers, batch_first=True, dropout=dropout if num_layers > 1 else 0.0
        )
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(image_to_sequence(x))
        return self.head(out[:, -1, :])
