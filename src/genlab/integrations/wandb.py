"""Lightning's WandbLogger starts its W&B run lazily, on the first read of ``.experiment``: reading it to ask
whether a run exists would start one. Lightning 2.5–2.6 offer no public "has it started" (only the private
``_experiment``), so this asks here, and only here."""

from __future__ import annotations

from typing import Any

from lightning.pytorch.loggers import Logger, WandbLogger


def started_run(logger: Logger) -> Any | None:
    """The W&B run of a WandbLogger that has started one; None for any other logger or a run not started."""
    if isinstance(logger, WandbLogger):
        return logger._experiment
    return None


def finish_runs(loggers: list[Logger]) -> None:
    """Close started W&B runs, so the offline files are complete and a next run in this process starts anew."""
    for logger in loggers:
        run = started_run(logger)
        if run is not None:
            run.finish()
