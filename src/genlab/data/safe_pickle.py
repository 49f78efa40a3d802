"""Pickled data files read without running code: an unpickler that admits only the few numpy constructors an
array needs. A pickle that names anything else (``os.system``, ``builtins.exec``, a class of its own) is refused
before it is called, with one line naming the file."""

import pickle
from pathlib import Path
from typing import Any

from genlab.errors import DataError

# what pickled numpy arrays and scalars, lists, dicts, bytes and numbers need (numpy 1 and 2 name the module
# differently; protocol 2 pickles bytes as _codecs.encode(text, "latin1"))
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"it names {module}.{name}, which a data file has no need of")


def load_data_pickle(path: str | Path, what: str, key: str) -> Any:
    """The contents of a pickled data file (arrays, lists, dicts, bytes, numbers) or a one-line DataError."""
    try:
        with open(path, "rb") as file:
            return _ArraysOnly(file, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as e:
        raise DataError(
            f"{key}: {path} is not a {what} ({e}); it was not read, replace it with the original file"
        ) from None
