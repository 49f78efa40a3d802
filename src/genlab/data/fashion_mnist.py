import functools
import gzip
import os
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
def read_idx(path: str, header: int, cache_dir: str | None = None) -> np.ndarray:
    """An IDX file (gzip or plain) as a flat uint8 array without its header. Cached in the process (tests read it
    many times) and, with ``cache_dir``, across runs: the decompressed array is kept there as ``.npy`` (named by
    the file, its size and time) and memory-mapped by later runs instead of decompressed again."""
    cached = None
    if cache_dir is not None:
        stat = os.stat(path)
        cached = Path(cache_dir) / "idx" / f"{Path(path).name}-{stat.st_size}-{stat.st_mtime_ns}-{header}.npy"
        if cached.is_file():
            return np.load(cached, mmap_mode="r", allow_pickle=False)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    array = np.frombuffer(raw, dtype=np.uint8, offset=header)
    array.flags.writeable = False
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.stem}.{os.getpid()}.partial.npy")
        np.save(partial, array, allow_pickle=False)
        os.replace(partial, cached)  # whole or absent: a killed run leaves no half-written cache
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

    def __init__(self, root: str = DEBIAN_ROOT, cache_dir: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.root = Path(root)
        self.cache_dir = cache_dir  # the decompressed files, memory-mapped by later runs

    def _split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        images_file, labels_file = (self.root / f for f in _FILES[name])
        for file in (images_file, labels_file):
            if not file.exists():
                raise DataError(
                    f"data.root: {file} not found; install Fashion-MNIST with 'apt-get install dataset-fashion-mnist' "
                    f"or set data.root to a folder holding {', '.join(_FILES[name])}"
                )
        # uint8: each split is made float alone
        images = read_idx(str(images_file), 16, self.cache_dir).reshape(-1, 1, 28, 28)
        labels = read_idx(str(labels_file), 8, self.cache_dir)
        if len(images) != len(labels):
            raise DataError(
                f"data.root: {images_file.name} has {len(images)} images but {labels_file.name} {len(labels)} labels"
            )
        return images, labels

    def load_arrays(self):
        return *self._split("train"), *self._split("test")
