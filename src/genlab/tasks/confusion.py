"""A classifier's confusion matrix, accumulated with one ``bincount`` a batch, and accuracy and macro F1 from it."""

import torch
from torchmetrics import Metric


class ConfusionCounts(Metric):
    """Counts of (true class, predicted class) over an epoch; ``compute`` gives the [classes, classes] matrix.

    One metric instead of torchmetrics' MulticlassAccuracy and MulticlassF1Score side by side: each of those checks
    and reshapes its input on every update, which together cost about 0.1 ms a step, an eighth of a small net's whole
    step. Labels are trusted to lie in [0, num_classes), which the data modules check when they load them.
    """

    full_state_update = False
    is_differentiable = False
    higher_is_better = True
    counts: torch.Tensor

    def __init__(self, num_classes: int):
        super().__init__()
        self.num_classes = num_classes
        self.add_state("counts", default=torch.zeros(num_classes * num_classes, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, logits: torch.Tensor, target: torch.Tensor) -> None:
        cells = target * self.num_classes + logits.argmax(dim=-1)
        self.counts += torch.bincount(cells, minlength=self.num_classes**2)

    def compute(self) -> torch.Tensor:
        return self.counts.view(self.num_classes, self.num_classes)


def accuracy(confusion: torch.Tensor) -> torch.Tensor:
    """Share of examples predicted right (micro accuracy); 0 with no examples."""
    return confusion.diagonal().sum() / confusion.sum().clamp(min=1)


def macro_f1(confusion: torch.Tensor) -> torch.Tensor:
    """F1 per class averaged over the classes that occur as a label or a prediction, as torchmetrics'
    ``MulticlassF1Score(average="macro")`` computes it (a class never seen either way does not count)."""
    tp = confusion.diagonal()
    denominator = confusion.sum(dim=0) + confusion.sum(dim=1)  # 2 tp + fp + fn
    seen = denominator > 0
    if not seen.any():
        return torch.zeros((), dtype=torch.float32, device=confusion.device)
    return (2 * tp[seen] / denominator[seen]).float().mean()
