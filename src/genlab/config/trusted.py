"""Which classes a config read from a run folder may name.

A run's ``config_resolved.yaml`` is a file like any other: whoever wrote it could name ``os.system`` as a
``_target_``. Code that rebuilds a run from its folder (``genlab.api.load_run``, the evaluation scripts) builds
only what genlab itself ships configs for.
"""

from collections.abc import Iterator
from typing import Any

from genlab.errors import ConfigError
from genlab.integrations.omegaconf_nodes import child, child_keys, written_value

TRUSTED_PREFIXES = (
    "genlab.",
    "torch.optim.",
    "torch.nn.",
    "lightning.pytorch.callbacks.",
    "lightning.pytorch.loggers.",
)


def _targets(node: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every ``_target_`` under ``node`` as written (interpolations unresolved), with its key."""
    for key in child_keys(node):
        if key == "_target_":
            yield path, str(written_value(node, key))
        else:
            yield from _targets(child(node, key), f"{path}.{key}")


def check_trusted(node: Any, key: str, source: str) -> None:
    """A one-line ConfigError if ``node`` (the ``key`` section of the config in ``source``) names a class outside
    genlab's own and the libraries its configs use."""
    for path, target in _targets(node, key):
        if not target.startswith(TRUSTED_PREFIXES):
            raise ConfigError(
                f"{source}: {path}._target_={target} is not one of genlab's classes (allowed: "
                f"{', '.join(p + '*' for p in TRUSTED_PREFIXES)}); it was not built. A run folder's config is data, "
                f"not code: rebuild runs of your own classes with genlab-train --config-dir"
            )
