"""genlab-train: compose conf/train.yaml with the command line and run it.

Kept light on imports (Hydra and OmegaConf only) so that --help and --cfg answer at once; Lightning and
everything heavy load inside the run.
"""

import logging
import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from genlab.config.resolvers import register_resolvers
from genlab.config.schema import register_schema
from genlab.config.errors import USER_ERRORS, describe
from genlab.errors import GenlabError

CONFIG_DIR = Path(__file__).resolve().parents[2] / "conf"

register_schema()
register_resolvers()


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="train")
def _hydra_main(cfg: DictConfig) -> float | None:
    from genlab.build import RunContext
    from genlab.run import run

    _log_through_hydra("lightning.pytorch", "lightning.fabric")

    hydra_cfg = HydraConfig.get()
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    ctx = RunContext(
        output_dir=Path(hydra_cfg.runtime.output_dir),
        overrides=list(hydra_cfg.overrides.task),
        choices={k: v for k, v in hydra_cfg.runtime.choices.items() if v is not None},
        group=f"{cfg.task_name}-{Path(hydra_cfg.sweep.dir).name}" if multirun else None,
    )
    try:
        metrics = run(cfg, ctx)
    except GenlabError as e:
        if multirun:
            raise  # the sweep records this job as failed and goes on
        _exit_with(e)  # before Hydra adds its "Error executing job" line
    value = metrics.get(cfg.monitor)
    return None if value is None else float(value)


def _log_through_hydra(*names: str) -> None:
    """Lightning prints through handlers of its own; Hydra's handlers already write the console and the run's log."""
    for name in names:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def main() -> None:
    if not (CONFIG_DIR / "train.yaml").is_file():
        sys.exit(f"genlab: error: no configs at {CONFIG_DIR}; install genlab from its repository with 'pip install -e .'")
    # Hydra prints its own multi-line reports unless HYDRA_FULL_ERROR is set; set, it lets errors through to us,
    # and we print user errors as one line. A user who set it gets Hydra's full traces, as Hydra promises.
    full_traces = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        _hydra_main()
    except USER_ERRORS as e:
        if full_traces:
            raise
        _exit_with(e)


def _exit_with(error: BaseException) -> None:
    print(f"genlab: error: {describe(error)}", file=sys.stderr)
    raise SystemExit(2) from None


if __name__ == "__main__":
    main()
