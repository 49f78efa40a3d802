import lightning as L
from torch import nn


class PretrainedGenerator(L.LightningModule):
    """A pretrained, generate-only model (``net``) run as Lightning prediction steps: its prompts are text and it
    takes none of the run's data (no training or test step)."""

    takes_text = True
    num_classes = None

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def output_shape(self, input_shape, num_classes) -> None:
        return None  # nothing to dry-run: the model does not take the run's data
