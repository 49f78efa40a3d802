"""Writing Hydra overrides for the processes genlab starts itself (a sweep's jobs, the extra DDP ranks)."""

from typing import Any


def quoted(value: Any) -> str:
    """A value as a quoted Hydra override literal, whatever characters it holds (a path with spaces or quotes)."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
