"""Fashion-MNIST's IDX files are decompressed once: later runs memory-map the cached array."""

import gzip

import numpy as np

from genlab.data.fashion_mnist import read_idx


def test_a_decompressed_idx_file_is_cached_and_memory_mapped(tmp_path):
    source = tmp_path / "labels-idx1-ubyte.gz"
    labels = np.arange(200, dtype=np.uint8) % 10
    source.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + (200).to_bytes(4, "big") + labels.tobytes()))
    first = read_idx(str(source), 8, str(tmp_path / "cache"))
    (cached,) = (tmp_path / "cache" / "idx").iterdir()
    assert cached.suffix == ".npy" and not list(cached.parent.glob("*.partial.npy"))
    read_idx.cache_clear()  # as a new run would
    again = read_idx(str(source), 8, str(tmp_path / "cache"))
    assert isinstance(again, np.memmap) and np.array_equal(again, labels) and np.array_equal(first, labels)
    # a changed file is read anew, not taken from the old cache
    source.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + bytes([1, 2, 3])))
    read_idx.cache_clear()
    assert list(read_idx(str(source), 8, str(tmp_path / "cache"))) == [1, 2, 3]
