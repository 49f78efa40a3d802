"""Labels of data a model is evaluated on, indexed as the model's outputs are: by the class names it was trained
with (``train=false ckpt_path=...``), not by the classes the data happens to hold."""

from collections.abc import Sequence

from genlab.errors import DataError


def trained_indices(names: Sequence[str], trained: Sequence[str], source: str) -> list[int]:
    """For each of the data's class names, its index among the ``trained`` ones; a class the model never saw is a
    one-line error naming ``source`` (the key and file or folder)."""
    index = {str(name): i for i, name in enumerate(trained)}
    unknown = [str(name) for name in names if str(name) not in index]
    if unknown:
        shown = ", ".join(str(name) for name in trained[:20]) + (", ..." if len(trained) > 20 else "")
        raise DataError(
            f"{source}: class {', '.join(repr(name) for name in unknown)} is not one the weights were trained on "
            f"({shown}); evaluate them on data of those classes"
        )
    return [index[str(name)] for name in names]
