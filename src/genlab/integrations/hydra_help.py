"""A quicker ``genlab-train --help``: Hydra's help lists every config group's options through
``ConfigLoaderImpl.get_group_options``, which builds a new ``CachingConfigRepository`` for each call, and each of
those deep-copies the whole repository (Hydra PR #1541). genlab's ~140 groups made that most of the help's time
(Hydra issue #2907, "App help takes a lot of time to be generated"). While the help is formatted, one caching
repository answers every listing; anything else asked of the loader goes to Hydra as usual.

Relies on ``Hydra.get_help``, ``Hydra.config_loader`` and ``ConfigLoaderImpl._parse_overrides_and_create_caching_repo``
(hydra-core 1.3).
"""

from __future__ import annotations

from typing import Any

_PATCHED = "_genlab_one_repository"


def list_groups_from_one_repository() -> None:
    """Patches ``Hydra.get_help`` (once per process)."""
    from hydra._internal.hydra import Hydra
    from hydra.core.object_type import ObjectType

    original = Hydra.get_help
    if getattr(original, _PATCHED, False):
        return

    def get_help(self: Hydra, *args: Any, **kwargs: Any) -> str:
        loader = self.config_loader
        _, repository = loader._parse_overrides_and_create_caching_repo(None, [])  # type: ignore[attr-defined]
        hydras_own = type(loader).get_group_options

        def get_group_options(
            group_name: str,
            results_filter: ObjectType | None = ObjectType.CONFIG,
            config_name: str | None = None,
            overrides: list[str] | None = None,
        ) -> list[str]:
            if config_name is None and not overrides:
                return repository.get_group_options(group_name, results_filter)
            return hydras_own(loader, group_name, results_filter, config_name, overrides)

        loader.get_group_options = get_group_options  # type: ignore[method-assign]
        try:
            return original(self, *args, **kwargs)
        finally:
            del loader.get_group_options  # type: ignore[method-assign]

    setattr(get_help, _PATCHED, True)
    Hydra.get_help = get_help  # type: ignore[method-assign]
