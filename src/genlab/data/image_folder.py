from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genlab.data.image_classification import ImageClassificationDataModule
from genlab.data.image_files import ALL, decode_images, scan_image_folder
from genlab.data.splits import held_out_counts
from genlab.errors import DataError


class ImageFolderDataModule(ImageClassificationDataModule):
    """The user's own images (genlab.data.image_files for the layouts): labelled by class folder or one class,
    resized and centre-cropped to ``image_size`` (null: as they are, one size for all), gray (``channels=1``) or
    colour (3), scaled to [0, 1] and normalized like every image data module (``mean``/``std``, null: from the
    training split). Split folders are used as they are; without them, or for a split folder that is missing,
    ``val_size`` and ``test_size`` are drawn at random from the training images (``split_seed``)."""

    def __init__(
        self,
        root: str,
        input_shape: Sequence[int],
        num_classes: int,
        image_size: int | None = 32,
        channels: int = 3,
        test_size: float = 0.1,
        max_bad_files: float = 0.0,
        **kwargs: Any,
    ):
        super().__init__(input_shape=input_shape, num_classes=num_classes, **kwargs)
        self.root, self.image_size, self.channels = Path(root), image_size, channels
        self.test_size, self.max_bad_files = test_size, max_bad_files
        self.folder = scan_image_folder(root)
        self.class_names = self.folder.class_names

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        files = [(part, path, label) for part, pairs in self.folder.parts.items() for path, label in pairs]
        images, kept = decode_images([path for _, path, _ in files], self.channels, self.image_size, self.max_bad_files)
        labels = np.asarray([files[i][2] for i in kept], dtype=np.int64)
        part_of = np.asarray([files[i][0] for i in kept])
        self._check(images, labels)
        arrays = {part: (images[part_of == part], labels[part_of == part]) for part in self.folder.parts}
        train_x, train_y = arrays.pop("train") if "train" in arrays else arrays.pop(ALL)
        generator = torch.Generator().manual_seed(self.split_seed)
        order = torch.randperm(len(train_x), generator=generator).numpy()
        missing = {
            f"data.{split}_size": getattr(self, f"{split}_size") for split in ("val", "test") if split not in arrays
        }
        counts = iter(held_out_counts(len(train_x), missing, f"the training images of {self.root}") if missing else [])
        start = 0
        for split in ("val", "test"):
            if split not in arrays:
                n = next(counts)
                arrays[split] = (train_x[order[start : start + n]], train_y[order[start : start + n]])
                start += n
        train_x, train_y = train_x[order[start:]], train_y[order[start:]]
        self._check_every_class_trains(train_y)
        images_in_01 = {
            name: (x.astype(np.float32) / 255.0, y) for name, (x, y) in {"train": (train_x, train_y), **arrays}.items()
        }
        mean, std = self._stats(images_in_01["train"][0])
        self.splits = {name: self._tensors(x, y, mean, std) for name, (x, y) in images_in_01.items()}

    def _check_every_class_trains(self, labels: np.ndarray) -> None:
        counts = np.bincount(labels, minlength=len(self.class_names))
        empty = [name for name, n in zip(self.class_names, counts) if n == 0]
        if empty:
            raise DataError(
                f"data.root={self.root}: class {', '.join(repr(name) for name in empty)} has no images left in the "
                f"training split; add images or lower data.val_size and data.test_size"
            )
