"""The two calls whose spelling differs between the Hydra 1.3 / OmegaConf 2.3 that genlab pins and Hydra 1.4 /
OmegaConf 2.4 (release candidates as of 2026-12; what else changes is in docs/hydra_1_4.md)."""

from typing import Any

import hydra
import omegaconf
from omegaconf import OmegaConf


def _at_least(version: str, major: int, minor: int) -> bool:
    return tuple(int(part) for part in version.split(".")[:2]) >= (major, minor)


# Hydra 1.4 deprecates version_base (its defaults are 1.3's); 1.3 warns without it and falls back to 1.1's
VERSION_BASE: dict[str, Any] = {} if _at_least(hydra.__version__, 1, 4) else {"version_base": "1.3"}


def register_resolver(name: str, resolver: Any, use_cache: bool = False) -> None:
    """OmegaConf 2.4's register_resolver, or 2.3's register_new_resolver (2.3's register_resolver is another,
    older API; 2.4 deprecates register_new_resolver)."""
    if _at_least(omegaconf.__version__, 2, 4):
        OmegaConf.register_resolver(name, resolver, use_cache=use_cache, annotation_validation="off")  # type: ignore[call-arg]
    else:
        OmegaConf.register_new_resolver(name, resolver, use_cache=use_cache)
