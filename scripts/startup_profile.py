"""Where the default job's start-up goes (issue 24): seconds and memory from launch to the first training step,
phase by phase.

Runs the default job (`genlab-train` with no overrides; extra overrides may follow) in this process, with timing
wrappers around genlab's own phases (composition, validation, build, logger start) and a callback that notes
Lightning's (data set-up, sanity check, first batch). Each phase is printed with its seconds, the resident memory
after it and the peak so far. The process ends at the first training step.

    python scripts/startup_profile.py            # the default job
    python scripts/startup_profile.py logger=csv # without W&B
"""

from __future__ import annotations

import os
import resource
import sys
import time
from typing import Any

START = time.perf_counter()
PHASES: list[tuple[str, float, float, float]] = []
_last = START


def _rss_gib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**30


def mark(phase: str) -> None:
    """The phase that just ended: its seconds, the memory now and the peak so far."""
    global _last
    now = time.perf_counter()
    PHASES.append((phase, now - _last, _rss_gib(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20))
    _last = now


def report() -> None:
    total = sum(p[1] for p in PHASES)
    print("\n| phase | seconds | share | memory after (GiB) | peak so far (GiB) |")
    print("|---|---:|---:|---:|---:|")
    for phase, seconds, rss, peak in PHASES:
        print(f"| {phase} | {seconds:.2f} | {seconds / total:.0%} | {rss:.2f} | {peak:.2f} |")
    print(f"| **launch to first step** (after the interpreter started) | **{total:.2f}** | | | |")
    sys.stdout.flush()


def main() -> None:
    import tempfile

    import genlab.cli.train  # noqa: F401 - what `genlab-train` imports before Hydra starts
    from genlab import api

    mark("import genlab's command line")
    with tempfile.TemporaryDirectory() as folder:
        composed = api.compose(sys.argv[1:], folder)
        mark("Hydra: compose the config")
        import lightning as L

        import genlab.core.run as run_module

        mark("import torch, Lightning and genlab's run code")
        run_with_phases(run_module, L, composed)


def run_with_phases(run_module: Any, L: Any, composed: Any) -> None:
    """The run, with genlab's phases timed and a callback noting Lightning's."""

    class Phases(L.Callback):
        def setup(self, *args: object, **kwargs: object) -> None:
            mark("Lightning: strategy set-up, loggers' runs")

        def on_fit_start(self, *args: object) -> None:
            mark("Lightning: fit start (model to device, optimizers, callbacks)")

        def on_sanity_check_start(self, *args: object) -> None:
            mark("Lightning: until the sanity check")

        def on_sanity_check_end(self, *args: object) -> None:
            mark("Lightning: sanity check (2 validation batches)")

        def on_train_batch_start(self, *args: object) -> None:
            mark("Lightning: train loop start, first batch fetched")
            report()
            os._exit(0)

    def timed(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            mark(f"genlab: before {name}")
            result = function(*args, **kwargs)
            mark(f"genlab: {name}")
            return result

        return wrapper

    for name in ("validate_config", "log_hyperparameters"):
        setattr(run_module, name, timed(name, getattr(run_module, name)))
    build = timed("build (data set-up, net, task, callbacks, trainer, loggers)", run_module.build)

    def build_with_probe(cfg: Any, ctx: Any, **kwargs: Any) -> Any:
        experiment = build(cfg, ctx, **kwargs)
        experiment.trainer.callbacks.append(Phases())
        return experiment

    run_module.build = build_with_probe
    run_module.run(composed.config, composed.context)


if __name__ == "__main__":
    main()
