"""genlab-train: compose genlab/conf/train.yaml (and a --config-dir of your own) with the command line and run it.

Kept light on imports (Hydra and OmegaConf only) so that --help and --cfg answer at once; Lightning and
everything heavy load inside the run.
"""

import logging
import os
import sys
import warnings
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from genlab.config import CONFIG_MODULE
from genlab.config.compat import VERSION_BASE
from genlab.config.errors import USER_ERRORS, describe
from genlab.config.resolvers import register_resolvers
from genlab.config.schema import register_schema
from genlab.errors import ConfigError, GenlabError
from genlab.integrations.hydra_help import list_groups_from_one_repository
from genlab.integrations.omegaconf_nodes import as_written
from genlab.integrations.third_party_output import quiet_third_parties
from genlab.sweeps import sweep_name

log = logging.getLogger("genlab")

quiet_third_parties()  # before the libraries load: some read their progress-bar switches at import
register_schema()
register_resolvers()
list_groups_from_one_repository()
# genlab/conf/hydra/launcher/submitit_*.yaml document the submitit plugin's settings under the plugin's own names, which
# Hydra checks against the plugin's schema (what we want) while warning that it may stop doing so one day
warnings.filterwarnings("ignore", message=".*is validated against ConfigStore schema with the same name.*")


@hydra.main(config_path=f"pkg://{CONFIG_MODULE}", config_name="train", **VERSION_BASE)
def _hydra_main(cfg: DictConfig) -> float | None:
    from genlab.callbacks.interruption import RunStopped
    from genlab.core.context import RunContext
    from genlab.core.run import run

    _log_through_hydra("lightning", "lightning.pytorch", "lightning.fabric")

    hydra_cfg = HydraConfig.get()
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    sweep = sweep_name(hydra_cfg)
    ctx = RunContext(
        output_dir=Path(hydra_cfg.runtime.output_dir),
        overrides=as_written(hydra_cfg.overrides.task),
        choices={k: v for k, v in hydra_cfg.runtime.choices.items() if v is not None},
        group=f"{cfg.experiment_name}-{sweep}" if sweep else None,
        swept=swept_values(hydra_cfg) if multirun else {},
    )
    try:
        metrics = run(cfg, ctx)
    except RunStopped as stop:
        print(f"genlab: {stop}; {stop.advice}" if stop.advice else f"genlab: {stop}", file=sys.stderr)
        raise SystemExit(stop.exit_code) from None
    except KeyboardInterrupt:  # Ctrl+C before the trainer ran (reading data, building), or twice in it
        print(
            "genlab: interrupted (Ctrl+C); resume=true continues from the run's newest checkpoint, if any",
            file=sys.stderr,
        )
        raise SystemExit(130) from None
    except Exception as e:
        from genlab.core.context import process_rank

        if _raised_on_every_rank(e) and process_rank() != 0:
            # a DDP child: rank 0 raised the same and reports it; exiting with an error would make Lightning
            # kill rank 0, and with it a sweep running in that process
            raise SystemExit(0) from None
        if multirun:
            # into the job's log (a pruned trial is no failure); the sweep records it and goes on
            if _is_pruned(e):
                log.info(f"job {hydra_cfg.job.num} pruned: {e}")
            else:
                log.exception(f"job {hydra_cfg.job.num} failed")
            raise
        if isinstance(e, GenlabError):
            _exit_with(e)  # before Hydra adds its "Error executing job" line
        raise
    return optimized_value(metrics, cfg)


def optimized_value(metrics: dict[str, float], cfg: DictConfig) -> float | None:
    """What a sweep optimizes: ``optimized_metric`` (by default ``monitor``) among the run's final metrics."""
    name = cfg.get("optimized_metric") or cfg.monitor
    if name not in metrics:
        if cfg.get("optimized_metric"):
            raise ConfigError(
                f"optimized_metric={name} is not among the run's final metrics ({', '.join(sorted(metrics))})"
            )
        return None
    return float(metrics[name])


def swept_values(hydra_cfg: DictConfig) -> dict[str, object]:
    """The values a sweep chose for this job, by key: overrides that the sweep varies, as sweep syntax on the
    command line (recorded in the sweep folder's multirun.yaml) or as ``hydra.sweeper.params``."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    parser = OverridesParser.create()
    keys = set((hydra_cfg.sweeper.get("params") or {}).keys())
    recorded = Path(hydra_cfg.sweep.dir) / "multirun.yaml"
    if recorded.is_file():
        for override in parser.parse_overrides(list(OmegaConf.load(recorded).hydra.overrides.task)):
            # a value fixed on the command line takes its key out of the sweeper's search space
            (keys.add if override.is_sweep_override() else keys.discard)(override.get_key_element())
    job = parser.parse_overrides(as_written(hydra_cfg.overrides.task))
    # numbers stay numbers, so that W&B plots them on numeric axes
    return {
        o.get_key_element(): _scalar(o.value(), o.get_value_element_as_str())
        for o in job
        if o.get_key_element() in keys
    }


def _scalar(value, text: str):
    return value if isinstance(value, (bool, int, float, str)) else text


def _raised_on_every_rank(error: BaseException) -> bool:
    """Errors that genlab raises on all DDP ranks at once: config errors, a diverged loss, a pruned trial."""
    return isinstance(error, GenlabError) or _is_pruned(error)


def _is_pruned(error: BaseException) -> bool:
    optuna = sys.modules.get("optuna")  # only a sweep that prunes has imported it
    return optuna is not None and isinstance(error, optuna.TrialPruned)


def _log_through_hydra(*names: str) -> None:
    """Lightning prints through handlers of its own; Hydra's handlers already write the console and the run's log."""
    for name in names:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def main() -> None:
    # Hydra prints its own multi-line reports unless HYDRA_FULL_ERROR is set; set, it lets errors through to us,
    # and we print user errors as one line. A user who set it gets Hydra's full traces, as Hydra promises.
    full_traces = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"
    _search_is_a_multirun(sys.argv)
    try:
        _hydra_main()
    except USER_ERRORS as e:
        if full_traces:
            raise
        _exit_with(e)
    except ValueError as e:
        # Hydra's one command-line mistake that is a ValueError: -m together with --cfg, --info or --run
        if full_traces or not str(e).startswith("Only one of --run, --multirun"):
            raise
        _exit_with(
            ConfigError(f"{e}; --cfg shows one job's config: drop -m (and give single values instead of sweeps)")
        )


def _search_is_a_multirun(argv: list[str]) -> None:
    """``hparams_search=...`` runs as a multirun without ``-m``: its config sets ``hydra.mode: MULTIRUN``, which
    Hydra 1.3 honours from any config but Hydra 1.4 only from the primary one or the command line."""
    # --cfg, --info and the help show one config and take no -m; a hydra.mode override says itself (the extra DDP
    # ranks of a trial run as single runs with hydra.mode=RUN)
    other_modes = {"-m", "--multirun", "-c", "--cfg", "-i", "--info", "-h", "--help", "--hydra-help"}
    args = argv[1:]
    if (
        any(a.startswith("hparams_search=") for a in args)
        and not other_modes & set(args)
        and not any(a.startswith("hydra.mode=") for a in args)
    ):
        argv.insert(1, "--multirun")


def _exit_with(error: BaseException) -> None:
    print(f"genlab: error: {describe(error)}", file=sys.stderr)
    raise SystemExit(2) from None


if __name__ == "__main__":
    main()
