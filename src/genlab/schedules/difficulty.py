"""How hard each training item is, for a curriculum to order them: one score per item, higher is harder.

A measure is called with the data module (after its ``setup``) and the run's LightningModule, and returns a
float tensor with one score per training item (``datamodule.train_items()``).
"""

import copy
import logging
from collections.abc import Iterator

import lightning as L
import torch

from genlab.core.protocols import BatchedRows, ExampleLossTask, TextLengthData
from genlab.errors import ConfigError

log = logging.getLogger("genlab")


class TextLength:
    """Tokens per text: short texts are easy."""

    def __call__(self, datamodule: L.LightningDataModule, module: L.LightningModule) -> torch.Tensor:
        if not isinstance(datamodule, TextLengthData):
            raise ConfigError(
                f"schedule.difficulty=TextLength needs text data; {type(datamodule).__name__} has no token lengths "
                f"(images: genlab.schedules.difficulty.ImageComplexity)"
            )
        return datamodule.train_token_lengths().float()


class ImageComplexity:
    """Mean absolute difference between neighbouring pixels: plain, smooth images are easy, edges and texture
    hard."""

    def __call__(self, datamodule: L.LightningDataModule, module: L.LightningModule) -> torch.Tensor:
        scores = []
        for images, *_ in row_batches(datamodule.split_dataset("train"), 1024):
            if images.dim() != 4:
                raise ConfigError(
                    f"schedule.difficulty=ImageComplexity needs images [N, C, H, W]; {type(datamodule).__name__} "
                    f"holds {list(images.shape[1:])} an example (texts: genlab.schedules.difficulty.TextLength)"
                )
            across = (images[..., :, 1:] - images[..., :, :-1]).abs().mean(dim=(1, 2, 3))
            down = (images[..., 1:, :] - images[..., :-1, :]).abs().mean(dim=(1, 2, 3))
            scores.append(across + down)
        return torch.cat(scores)


def row_batches(rows: BatchedRows, size: int) -> Iterator[tuple[torch.Tensor, ...]]:
    """The rows of a split, ``size`` at a time, in order (held in memory or read from Arrow files alike)."""
    for start in range(0, len(rows), size):
        yield rows.__getitems__(list(range(start, min(start + size, len(rows)))))


class ReferenceLoss:
    """The loss of a reference model on each training example: what a trained model finds easy comes first.

    ``checkpoint`` is a genlab checkpoint (or .safetensors) of the same ``model=...`` trained earlier, e.g. a
    short run's ``checkpoints/last.ckpt``. Scores rows of the train split (classification data).
    """

    def __init__(self, checkpoint: str, batch_size: int = 512):
        self.checkpoint, self.batch_size = checkpoint, batch_size

    def __call__(self, datamodule: L.LightningDataModule, module: L.LightningModule) -> torch.Tensor:
        from genlab.core.checkpoints import load_net_weights

        rows = datamodule.split_dataset("train")
        if not isinstance(module, ExampleLossTask) or len(rows) != datamodule.train_items():
            raise ConfigError(
                f"schedule.difficulty=ReferenceLoss scores examples of a classification task; "
                f"{type(module).__name__} on {type(datamodule).__name__} has none (text corpora: TextLength)"
            )
        reference = copy.deepcopy(module).cpu().eval()
        load_net_weights(reference.net, self.checkpoint, key="schedule.difficulty.checkpoint")
        losses = []
        with torch.no_grad():
            for batch in row_batches(rows, self.batch_size):
                losses.append(reference.example_losses(batch).float())
        log.info(f"difficulty: reference loss of {self.checkpoint} on {len(rows):,} training examples")
        return torch.cat(losses)
