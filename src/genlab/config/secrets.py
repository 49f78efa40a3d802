"""Secrets stay out of what a run records.

A value that reaches the config from the environment through ``${oc.env:VAR}``, under a key or from a variable
whose name looks like a secret (``*_KEY``, ``*_TOKEN``, ``*_SECRET``, ``*PASSWORD*``), goes to the code that
uses it as it is, but everything genlab writes (``config_resolved.yaml``, the printed config in the run's log,
W&B config and tags, checkpoints' hyperparameters) carries ``<redacted>`` in its place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf

from genlab.integrations.omegaconf_nodes import child_keys, written_value

SECRET_NAME = re.compile(r"(key|token|secret)$|password|passwd", re.IGNORECASE)
_ENV_VARIABLE = re.compile(r"oc\.env:\s*([A-Za-z_][A-Za-z0-9_]*)")
REDACTED = "<redacted>"


def secret_values(cfg: DictConfig) -> frozenset[str]:
    """The values of ``cfg`` that come from the environment and look like secrets (see the module's docstring)."""
    return frozenset(value for value in _secrets_in(cfg) if value)


def _secrets_in(node: Any) -> Iterator[str]:
    for key in child_keys(node):
        if OmegaConf.is_interpolation(node, key):
            variables = _ENV_VARIABLE.findall(str(written_value(node, key)))
            names = [str(key), *variables] if variables else []
            if any(SECRET_NAME.search(name) for name in names):
                try:
                    value = node[key]
                except Exception:
                    continue  # unset: nothing to hide (validation reports what it must)
                if isinstance(value, str):
                    yield value
            continue
        yield from _secrets_in(node._get_node(key))


def redact(value: Any, secrets: frozenset[str]) -> Any:
    """``value`` (plain containers and scalars) with every secret in its strings replaced by ``<redacted>``."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, Mapping):
        return {k: redact(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v, secrets) for v in value)
    return value


def public_config(cfg: DictConfig, secrets: frozenset[str]) -> DictConfig:
    """The resolved config as genlab records it: ``secrets`` (``secret_values(cfg)``) redacted."""
    resolved = OmegaConf.to_container(cfg, resolve=True)
    return OmegaConf.create(redact(resolved, secrets))
