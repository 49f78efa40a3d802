"""Accuracy and macro F1 from genlab's confusion counts equal torchmetrics' own metrics."""

import pytest
import torch
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

from genlab.tasks.confusion import ConfusionCounts, accuracy, macro_f1


@pytest.mark.parametrize("seed", range(4))
def test_accuracy_and_macro_f1_equal_torchmetrics(seed):
    generator = torch.Generator().manual_seed(seed)
    classes = 7
    counts = ConfusionCounts(classes)
    reference_acc = MulticlassAccuracy(classes, average="micro")
    reference_f1 = MulticlassF1Score(classes, average="macro")
    for _ in range(5):
        target = torch.randint(0, 5, (33,), generator=generator)  # classes 5 and 6 never occur as labels...
        logits = torch.randn(33, classes, generator=generator)
        logits[:, 6] -= 100  # ...and 6 is never predicted either: it must not count in the macro average
        logits[target == 1, 1] += 3  # some classes easier than others
        for metric in (counts, reference_acc, reference_f1):
            metric.update(logits, target)
    confusion = counts.compute()
    assert int(confusion.sum()) == 5 * 33
    torch.testing.assert_close(accuracy(confusion), reference_acc.compute())
    torch.testing.assert_close(macro_f1(confusion), reference_f1.compute())


def test_an_empty_epoch_scores_zero():
    confusion = ConfusionCounts(3).compute()
    assert float(accuracy(confusion)) == 0.0 and float(macro_f1(confusion)) == 0.0
