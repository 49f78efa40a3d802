from pathlib import Path
from typing import Any

import numpy as np

from genlab.data.image_classification import ImageClassificationDataModule
from genlab.data.safe_pickle import load_data_pickle
from genlab.errors import DataError

_FOLDER = "cifar-10-batches-py"
# the dataset's home page, https://www.cs.toronto.edu/~kriz/cifar.html, gives both
_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_MD5 = "c58f30108f718f92721af3b95e74349a"


class CIFAR10DataModule(ImageClassificationDataModule):
    """CIFAR-10 from the python-pickle batches under ``root``; ``download=true`` fetches the archive from ``url``
    and unpacks it there once its MD5 is ``md5`` (a mirror may serve it: set both)."""

    class_names = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

    def __init__(
        self, root: str = "data/cifar10", download: bool = False, url: str = _URL, md5: str = _MD5, **kwargs: Any
    ):
        super().__init__(**kwargs)
        self.root = Path(root)
        self.download, self.url, self.md5 = download, url, md5

    def prepare_data(self) -> None:
        if (self.root / _FOLDER).is_dir():
            return
        if not self.download:
            raise DataError(
                f"data.root: no {_FOLDER} folder under {self.root}; set data.root to the folder that holds it, "
                f"or data.download=true where there is internet"
            )
        from genlab.data.downloads import download_verified, extract_tar

        archive = download_verified(self.url, self.root / "cifar-10-python.tar.gz", self.md5, "data.url")
        extract_tar(archive, self.root)
        archive.unlink()
        if not (self.root / _FOLDER).is_dir():
            raise DataError(f"data.url: {self.url} holds no {_FOLDER} folder; it is not the CIFAR-10 python archive")

    def _batches(self, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
        images, labels = [], []
        for name in names:
            path = self.root / _FOLDER / name
            if not path.exists():
                raise DataError(f"data.root: {path} is missing; the CIFAR-10 folder is incomplete, extract it again")
            batch = load_data_pickle(path, "CIFAR-10 batch", "data.root")
            if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
                raise DataError(
                    f"data.root: {path} is not a CIFAR-10 batch (no data and labels in it); extract it again"
                )
            images.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            labels.append(np.asarray(batch[b"labels"], dtype=np.int64))
        return np.concatenate(images).astype(np.float32) / 255.0, np.concatenate(labels)

    def load_arrays(self):
        self.prepare_data()
        train = self._batches([f"data_batch_{i}" for i in range(1, 6)])
        return *train, *self._batches(["test_batch"])
