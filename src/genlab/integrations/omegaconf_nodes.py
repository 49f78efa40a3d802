"""A config node's children as nodes, and their values as written, without resolving interpolations: what config
validation needs to name the key a user typed rather than every copy of it. OmegaConf 2.3 exposes these only as
``BaseContainer._get_node`` and ``Node._value`` (its public getters resolve)."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf


def child(node: DictConfig | ListConfig, key: str | int) -> Any:
    """The child node at ``key``, unresolved."""
    return node._get_node(key)


def child_keys(node: object) -> list[str | int]:
    """The keys of a mapping node or the indices of a list node (none for a value), for walking a config."""
    if isinstance(node, DictConfig):
        return [str(key) for key in node]
    if isinstance(node, ListConfig):
        return list(range(len(node)))
    return []


def written_value(node: DictConfig | ListConfig, key: str | int) -> Any:
    """The value at ``key`` as written in the config (an interpolation stays ``${...}``)."""
    return node._get_node(key)._value()


def as_written(strings: ListConfig) -> list[str]:
    """A list of strings (Hydra's recorded overrides) as typed: reading its items would resolve any
    ``${...}`` in them."""
    return [str(item) for item in OmegaConf.to_container(strings, resolve=False)]  # type: ignore[union-attr]
