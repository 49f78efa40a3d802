import functools
import gzip
from pathlib import Path
from typing import Any

import numpy as np

from genlab.data.image_classification import ImageClassificationDataModule
from genlab.errors import DataError

DEBIAN_ROOT = "/usr/share/datasets/fashion-mnist"
_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


@functools.lru_cache(maxsize=4)
def read_idx(path: str, header: int) -> np.ndarray:
    """An IDX file (gzip or plain) as a flat uint8 array without its header. Cached: tests read it many times."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    array = np.frombuffer(raw, dtype=np.uint8, offset=header)
    array.flags.writeable = False
    return array


class FashionMNISTDataModule(ImageClassificationDataModule):
    """Fashion-MNIST from its IDX files; by default those of Debian's ``dataset-fashion-mnist`` package."""

    class_names = (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    )

    def __init__(self, root: str = DEBIAN_ROOT, **kwargs: Any):
        super().__init__(**kwargs)
        self.root = Path(root)

    def _split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        images_file, labels_file = (self.root / f for f in _FILES[name])
        for file in (images_file, labels_file):
            if not file.exists():
                raise DataError(
                    f"data.root: {file} not found; install Fashion-MNIST with 'apt-get install dataset-fashion-mnist' "
                    f"or set data.root to a folder holding {', '.join(_FILES[name])}"
                )
        images = read_idx(str(images_file), 16).reshape(-1, 1, 28, 28)  # uint8: each split is made float alone
        labels = read_idx(str(labels_file), 8)
        if len(images) != len(labels):
            raise DataError(
                f"data.root: {images_file.name} has {len(images)} images but {labels_file.name} {len(labels)} labels"
            )
        return images, labels

    def load_arrays(self):
        return *self._split("train"), *self._split("test")
