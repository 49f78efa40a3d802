"""data=cifar10 data.download=true: the archive is fetched with the standard library, checked against its MD5 and
unpacked safely (a file:// URL stands in for the dataset's site, which tests cannot reach)."""

import hashlib
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from genlab.data import CIFAR10DataModule
from genlab.data.downloads import extract_tar
from genlab.errors import DataError

SHAPE = {"input_shape": [3, 32, 32], "num_classes": 10}


def _archive(tmp_path: Path, extra: tarfile.TarInfo | None = None) -> tuple[str, str]:
    """A CIFAR-10 archive in the real layout (cifar-10-batches-py/data_batch_1..5, test_batch), its URL and MD5."""
    path = tmp_path / "cifar-10-python.tar.gz"
    rng = np.random.default_rng(0)
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            batch = {b"data": rng.integers(0, 256, (8, 3072), dtype=np.uint8), b"labels": list(range(8))}
            data = pickle.dumps(batch)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if extra is not None:
            tar.addfile(extra, io.BytesIO(b"x" * extra.size))
    return path.as_uri(), hashlib.md5(path.read_bytes()).hexdigest()


def test_a_download_is_verified_unpacked_and_read(tmp_path):
    url, md5 = _archive(tmp_path)
    root = tmp_path / "data"
    data = CIFAR10DataModule(root=str(root), download=True, url=url, md5=md5, val_size=4, **SHAPE)
    x_train, _, x_test, y_test = data.load_arrays()
    assert x_train.shape == (40, 3, 32, 32) and x_test.shape == (8, 3, 32, 32) and list(y_test) == list(range(8))
    # the archive is gone once unpacked; a second start reads the folder without downloading
    assert sorted(p.name for p in root.iterdir()) == ["cifar-10-batches-py"]
    CIFAR10DataModule(root=str(root), download=True, url="file:///nowhere", md5=md5, **SHAPE).prepare_data()


def test_a_download_with_the_wrong_checksum_is_refused_and_nothing_is_kept(tmp_path):
    url, _ = _archive(tmp_path)
    root = tmp_path / "data"
    data = CIFAR10DataModule(root=str(root), download=True, url=url, md5="0" * 32, **SHAPE)
    with pytest.raises(DataError, match=r"data.url: .* downloaded with MD5 [0-9a-f]{32}, not the expected 0{32}"):
        data.prepare_data()
    assert list(root.iterdir()) == []


def test_an_unreachable_url_is_one_line_naming_it(tmp_path):
    data = CIFAR10DataModule(root=str(tmp_path), download=True, url=(tmp_path / "missing.tar.gz").as_uri(), **SHAPE)
    with pytest.raises(DataError, match=r"data.url: could not download file://.*missing.tar.gz"):
        data.prepare_data()


def test_an_archive_member_outside_its_folder_is_refused(tmp_path):
    escape = tarfile.TarInfo("../escaped")
    escape.size = 1
    url, _ = _archive(tmp_path, extra=escape)
    with pytest.raises(DataError, match=r"member ../escaped is not a plain file inside the archive's folder"):
        extract_tar(Path(url.removeprefix("file://")), tmp_path / "out")
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "out" / "cifar-10-batches-py").exists()


def test_an_archive_without_the_cifar_folder_is_named_as_not_the_dataset(tmp_path):
    path = tmp_path / "other.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("readme.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    data = CIFAR10DataModule(root=str(tmp_path / "data"), download=True, url=path.as_uri(), md5=md5, **SHAPE)
    with pytest.raises(DataError, match=r"data.url: file://.*other.tar.gz holds no cifar-10-batches-py folder"):
        data.prepare_data()
