"""How many examples the held-out splits take: the same rule for every data module that splits its own data."""

from genlab.errors import DataError


def held_out_counts(total: int, sizes: dict[str, float], what: str) -> list[int]:
    """Examples per held-out split, in the order of ``sizes`` (its keys are the config keys that set them, e.g.
    ``data.val_size``): a share of ``total`` (below 1; at least one example) or a whole count. The rest is the
    training split, which must keep at least one example."""
    counts = [max(1, round(size * total)) if size < 1 else int(size) for size in sizes.values()]
    if sum(counts) >= total:
        asked = ", ".join(f"{key}={size}" for key, size in sizes.items())
        raise DataError(
            f"{asked}: the held-out splits take {sum(counts)} of the {total} examples of {what}, leaving none to "
            f"train on; lower them or give it more data"
        )
    return counts


def random_splits(total: int, val_size: float, test_size: float, seed: int, what: str) -> dict[str, list[int]]:
    """Indices of ``total`` examples in ``val``, ``test`` and ``train`` (``held_out_counts`` sizes), in a random
    order that is a function of ``seed`` (``data.split_seed``) alone."""
    import torch

    order = torch.randperm(total, generator=torch.Generator().manual_seed(seed)).tolist()
    n_val, n_test = held_out_counts(total, {"data.val_size": val_size, "data.test_size": test_size}, what)
    return {"val": order[:n_val], "test": order[n_val : n_val + n_test], "train": order[n_val + n_test :]}
