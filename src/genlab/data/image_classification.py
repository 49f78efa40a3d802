from collections.abc import Sequence

import numpy as np
import torch

from genlab.data.in_memory import InMemoryDataModule, InMemoryDataset
from genlab.data.splits import held_out_counts
from genlab.errors import DataError


class ImageClassificationDataModule(InMemoryDataModule):
    """Images and labels held in memory: a deterministic train/val split, per-channel normalization, fast batches.

    Subclasses read their files in ``load_arrays``; everything else (splits, checks, loaders) lives here.
    """

    class_names: tuple[str, ...] = ()
    # (mean, std) the inputs were normalized with, shaped to broadcast over a batch; set by setup
    normalization: tuple[np.ndarray, np.ndarray] | None = None

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        batch_size: int = 64,
        val_size: float = 0.1,
        split_seed: int = 0,
        mean: float | Sequence[float] | None = None,
        std: float | Sequence[float] | None = None,
        num_workers: int = 0,
    ):
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.num_classes = num_classes
        self.batch_size = batch_size
        self.val_size = val_size
        self.split_seed = split_seed
        self.mean, self.std = mean, std
        self.num_workers = num_workers

    def load_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
        """(train images [N, C, H, W], train labels, test images, test labels); test may be None to split it off.
        Images are floats in [0, 1], or uint8 pixels (read as value / 255: a quarter of the memory until each split
        is made)."""
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        x_train, y_train, x_test, y_test = self.load_arrays()
        self._check(x_train, y_train)
        generator = torch.Generator().manual_seed(self.split_seed)
        order = torch.randperm(len(x_train), generator=generator).numpy()
        name = type(self).__name__
        if x_test is None or y_test is None:
            # no test files: the test split is drawn from the training files too, as large as the val split
            n_val, n_test = held_out_counts(
                len(x_train),
                {"data.val_size": self.val_size, "data.val_size (for the test split)": self.val_size},
                name,
            )
            x_test, y_test = x_train[order[:n_test]], y_train[order[:n_test]]
            order = order[n_test:]
        else:
            (n_val,) = held_out_counts(len(x_train), {"data.val_size": self.val_size}, name)
        val_idx, train_idx = order[:n_val], order[n_val:]
        mean, std = self.normalization = self._stats(x_train[train_idx])
        self.splits = {
            "train": self._tensors(x_train[train_idx], y_train[train_idx], mean, std),
            "val": self._tensors(x_train[val_idx], y_train[val_idx], mean, std),
            "test": self._tensors(x_test, y_test, mean, std),
        }

    def _check(self, images: np.ndarray, labels: np.ndarray) -> None:
        if tuple(images.shape[1:]) != self.input_shape:
            raise DataError(
                f"data.input_shape={list(self.input_shape)} but the files hold images shaped {list(images.shape[1:])}; "
                f"fix data.input_shape"
            )
        if labels.max() >= self.num_classes:
            raise DataError(f"data.num_classes={self.num_classes} but the labels go up to {int(labels.max())}")

    def _stats(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # per channel: over examples and every axis after the channels (rows, columns; frames of a clip)
        axes = (0, *range(2, images.ndim))
        scale = 255.0 if images.dtype == np.uint8 else 1.0
        mean = self.mean if self.mean is not None else images.mean(axis=axes, dtype=np.float64) / scale
        std = self.std if self.std is not None else images.std(axis=axes, dtype=np.float64) / scale
        shape = (1, -1, *[1] * (images.ndim - 2))
        return np.asarray(mean, dtype=np.float32).reshape(shape), np.asarray(std, dtype=np.float32).reshape(shape)

    @staticmethod
    def _tensors(images: np.ndarray, labels: np.ndarray, mean: np.ndarray, std: np.ndarray) -> InMemoryDataset:
        """A split as normalized float32 tensors: one copy of the images, normalized in place."""
        x = torch.empty(images.shape, dtype=torch.float32)
        x.numpy()[...] = images
        if images.dtype == np.uint8:
            x.div_(255.0)
        x.sub_(torch.from_numpy(mean)).div_(torch.from_numpy(std))
        return InMemoryDataset(x, torch.from_numpy(labels.astype(np.int64)))
