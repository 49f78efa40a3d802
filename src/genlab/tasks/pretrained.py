from collections.abc import Sequence
from typing import Any

import lightning as L


class PretrainedGenerator(L.LightningModule):
    """A pretrained, generate-only model (``net``) run as Lightning prediction steps: its prompts are text and it
    takes none of the run's data (no training or test step)."""

    takes_text = True
    num_classes = None
    # a diffusers pipeline or genlab.hf.MusicGen: untyped library objects
    net: Any

    def __init__(self, net: Any):
        super().__init__()
        self.net = net

    def output_shape(self, input_shape: Sequence[int], num_classes: int | None) -> None:
        return None  # nothing to dry-run: the model does not take the run's data
