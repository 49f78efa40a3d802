"""Fréchet distance between generated and real samples, measured in the feature space of a classifier genlab
trained (Inception weights cannot be downloaded everywhere, and know nothing of spectrograms or 16×16 clips).

torchmetrics' FID machinery does the statistics; ``ClassifierFeatures`` is the feature net it is given. Clips are
judged frame by frame: a clip's features are its frames' features averaged.
"""

from pathlib import Path
from typing import cast

import torch
from torch import nn

from genlab.core.protocols import EmbeddingNet, LabelledData, NormalizedData
from genlab.errors import ConfigError


class ClassifierFeatures(nn.Module):
    """The penultimate features (``embed``) of a trained classifier for inputs in [0, 1]: images [N, C, H, W] or
    clips [N, C, F, H, W], normalized as the classifier's training data was. ``num_features`` is what torchmetrics
    reads to size its statistics."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, net: nn.Module, mean: torch.Tensor, std: torch.Tensor, class_names: tuple[str, ...] = ()):
        super().__init__()
        if not isinstance(net, EmbeddingNet):
            raise ConfigError(
                f"{type(net).__name__} gives no features (embed, embedding_size): train the classifier with model=cnn"
            )
        self.net = net.eval()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).reshape(1, -1, 1, 1))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32).reshape(1, -1, 1, 1))
        self.num_features = net.embedding_size
        self.class_names = class_names

    @classmethod
    def from_run(cls, run_dir: str | Path, key: str = "classifier_run") -> "ClassifierFeatures":
        """The classifier of a finished genlab run (its last checkpoint), normalized as its data was."""
        from genlab.api import load_run, load_run_data

        if not (Path(run_dir) / "checkpoints" / "last.ckpt").is_file():
            raise ConfigError(
                f"{key}={run_dir}: no finished run there (checkpoints/last.ckpt); train a classifier first, "
                f"e.g. genlab-train experiment=fashion_cnn"
            )
        module = load_run(run_dir)
        data = load_run_data(run_dir)
        data.setup("fit")
        normalization = data.normalization if isinstance(data, NormalizedData) else None
        if normalization is None:
            raise ConfigError(
                f"{key}={run_dir}: its data ({type(data).__name__}) does not say how it normalized inputs"
            )
        names = tuple(data.class_names) if isinstance(data, LabelledData) else ()
        return cls(
            cast(nn.Module, module.net), torch.from_numpy(normalization[0]), torch.from_numpy(normalization[1]), names
        )

    def _frames(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(1, 2).flatten(0, 1) if x.dim() == 5 else x

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.net.embed((self._frames(x.float()) - self.mean) / self.std)
        return features.reshape(len(x), -1, features.shape[-1]).mean(1) if x.dim() == 5 else features

    @torch.no_grad()
    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """The class of each image, or of each clip (the class most of its frames are given)."""
        logits = self.net((self._frames(x.float()) - self.mean) / self.std)
        predicted = logits.argmax(-1)
        return predicted.reshape(len(x), -1).mode(dim=1).values if x.dim() == 5 else predicted


def frechet_distance(features: nn.Module, real: torch.Tensor, generated: torch.Tensor, batch_size: int = 256) -> float:
    """The Fréchet distance between the feature distributions of ``real`` and ``generated`` ([0, 1] inputs)."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    if len(real) < 2 or len(generated) < 2:
        raise ValueError("a Fréchet distance needs at least 2 samples on each side")
    metric = FrechetInceptionDistance(feature=features, reset_real_features=True)
    for batch in real.split(batch_size):
        metric.update(batch, real=True)
    for batch in generated.split(batch_size):
        metric.update(batch, real=False)
    return float(metric.compute())
