"""A config node's children as nodes, and their values as written, without resolving interpolations: what config
validation needs to name the key a user typed rather than every copy of it. OmegaConf 2.3 exposes these only as
``BaseContainer._get_node`` and ``Node._value`` (its public getters resolve)."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, ListConfig


def child(node: DictConfig | ListConfig, key: str | int) -> Any:
    """The child node at ``key``, unresolved."""
    return node._get_node(key)


def written_value(node: DictConfig, key: str) -> Any:
    """The value at ``key`` as written in the config (an interpolation stays ``${...}``)."""
    return node._get_node(key)._value()
