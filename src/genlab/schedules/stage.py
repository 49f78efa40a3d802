"""One stage of a curriculum, read and checked from its config entry."""

import dataclasses
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import lightning as L

from genlab.errors import ConfigError
from genlab.tasks.optim import SchedulerFactory


@dataclass
class Stage:
    """``epochs`` whole passes over the stage's data, or exactly ``steps`` optimizer steps (cycling the data), at
    ``lr``; the data is a difficulty window (the items ranked between the ``min_difficulty`` and
    ``max_difficulty`` fractions, easiest first) over the run's data or the stage's own ``data`` module, or all
    of either."""

    name: str
    lr: float
    epochs: int | None = None
    steps: int | None = None
    max_difficulty: float | None = None
    min_difficulty: float = 0.0
    data: L.LightningDataModule | None = None
    scheduler: SchedulerFactory | None = None
    scheduler_interval: str = "step"
    accumulate_grad_batches: int | None = None

    @property
    def lightning_epochs(self) -> int:
        """Epochs of the one fit this stage takes: a steps stage is one epoch of exactly its steps."""
        return self.epochs if self.steps is None else 1

    @property
    def windowed(self) -> bool:
        return self.max_difficulty is not None or self.min_difficulty > 0


_FIELDS = [f.name for f in dataclasses.fields(Stage)]


def parse_stages(entries: Sequence[Mapping], require_increasing: bool) -> list[Stage]:
    """Stages from the config's list, or a ConfigError naming the entry (``schedule.stages.<i>``) and the fix."""
    if not entries:
        raise ConfigError("schedule.stages is empty: give a list of stages, each with a name, lr and epochs or steps")
    stages = [_parse(i, entry) for i, entry in enumerate(entries)]
    names = [s.name for s in stages]
    if len(set(names)) != len(names):
        raise ConfigError(f"schedule.stages: stage names must differ (they name folders under stages/): {names}")
    if require_increasing:
        _check_increasing(stages)
    return stages


def _parse(i: int, entry: Mapping) -> Stage:
    path = f"schedule.stages.{i}"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{path}: a stage is a mapping (name, lr, epochs or steps, ...), not {entry!r}")
    entry = dict(entry)
    entry.setdefault("name", f"stage{i + 1}")
    for name in entry:
        if name not in _FIELDS:
            close = difflib.get_close_matches(name, _FIELDS, n=1)
            hint = f"did you mean {path}.{close[0]}?" if close else f"a stage takes {', '.join(_FIELDS)}"
            raise ConfigError(f"{path}.{name}: no such stage setting; {hint}")
    stage = f"{path} ({entry['name']})"
    if not re.fullmatch(r"[\w.-]+", str(entry["name"])):
        raise ConfigError(f"{stage}: name {entry['name']!r} must be usable as a folder name (letters, digits, _ . -)")
    if entry.get("lr") is None:
        raise ConfigError(f"{stage}: no lr; give each stage its learning rate, e.g. {path}.lr=0.001")
    if (entry.get("epochs") is None) == (entry.get("steps") is None):
        raise ConfigError(f"{stage}: give either epochs or steps (one of them, a positive integer)")
    for field in ("epochs", "steps", "accumulate_grad_batches"):
        value = entry.get(field)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ConfigError(f"{path}.{field}={value!r} ({entry['name']}): must be a positive integer")
    low, high = entry.get("min_difficulty", 0.0), entry.get("max_difficulty")
    if not 0 <= low < (1 if high is None else high) <= 1:
        raise ConfigError(
            f"{stage}: the difficulty window min_difficulty={low} < max_difficulty={high} must lie in [0, 1] "
            f"(shares of the items ranked by difficulty: 0.3 = the easiest 30%)"
        )
    if entry.get("scheduler_interval", "step") not in ("step", "epoch"):
        raise ConfigError(
            f"{path}.scheduler_interval={entry['scheduler_interval']!r} ({entry['name']}): use step or epoch"
        )
    return Stage(**entry)


def _check_increasing(stages: list[Stage]) -> None:
    """Successive windows over the run's data must reach further: max_difficulty strictly increasing."""
    previous = None
    for i, stage in enumerate(stages):
        if stage.data is not None:
            continue
        high = 1.0 if stage.max_difficulty is None else stage.max_difficulty
        if previous is not None and high <= previous[1]:
            raise ConfigError(
                f"schedule.stages.{i} ({stage.name}): max_difficulty={high} does not go beyond stage "
                f"{previous[0]}'s {previous[1]}; windows must increase (or set schedule.require_increasing=false)"
            )
        previous = (stage.name, high)
