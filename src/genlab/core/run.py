"""One run: validate, seed, build, fit (resumable), test, report. Called by genlab.train and by the tests."""

import contextlib
import json
import logging
import shlex
import warnings
from pathlib import Path
from typing import Any, cast

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities.model_helpers import is_overridden
from omegaconf import DictConfig, OmegaConf

from genlab.callbacks.interruption import RunStopped
from genlab.config.families import check_pairing
from genlab.config.secrets import public_config, redact, secret_values
from genlab.config.validate import validate_config
from genlab.core.build import build
from genlab.core.checkpoints import (
    check_checkpoint,
    check_checkpoint_fits,
    count_parameters,
    load_checkpoint_weights,
    newest_checkpoint,
    newest_good_checkpoint,
)
from genlab.core.console import describe_built, print_config, print_summary
from genlab.core.context import Experiment, RunContext, process_rank
from genlab.core.protocols import LabelledData, NetTask
from genlab.core.run_folder import (
    RESOLVED_CONFIG,
    exclusive_run_folder,
    identity_overrides,
    save_labels,
    take_weights_from,
)
from genlab.core.trained_run import adopt_trained_sizes
from genlab.errors import ConfigError
from genlab.generation.predict import predict
from genlab.integrations.lightning_launch import release_ranks
from genlab.integrations.wandb import finish_runs
from genlab.tasks.staged import StagedTask
from genlab.tuning.export import merge, save_adapter
from genlab.tuning.lora import LoRA

log = logging.getLogger("genlab")


def run(cfg: DictConfig, ctx: RunContext) -> dict[str, float]:
    """Train and/or test as the config says; returns the final metrics (also written to metrics.json)."""
    check_pairing(ctx.choices)  # first: a model of another family also fails validation, less clearly
    adopt_trained_sizes(cfg, ctx.overrides)  # before anything resolves them from data that may be gone
    validate_config(cfg)
    if cfg.extras.ignore_warnings:
        warnings.filterwarnings("ignore", module="lightning")
    output_dir = Path(ctx.output_dir)
    finished = output_dir / "metrics.json"
    if ctx.in_sweep and finished.is_file():
        # a sweep run again in its folder (resumed, or requeued by a cluster): this job is done
        log.info(f"job already finished in {output_dir}: its metrics are taken from {finished.name}")
        return json.loads(finished.read_text())
    # DDP ranks other than 0 build and train alongside, but write nothing of their own
    writes = process_rank() == 0
    output_dir.mkdir(parents=True, exist_ok=True)
    # one run writes into a folder at a time: a second (resume=true while it still trains) is refused
    with exclusive_run_folder(output_dir) if writes else contextlib.nullcontext():
        return _run_in_folder(cfg, ctx, output_dir, writes)


def _run_in_folder(cfg: DictConfig, ctx: RunContext, output_dir: Path, writes: bool) -> dict[str, float]:
    secrets = secret_values(cfg)
    if writes:
        log.info(f"run folder: {output_dir}")
        save_resolved_config(cfg, output_dir, secrets)
    if cfg.extras.print_config and writes:
        print_config(public_config(cfg, secrets))
    ckpt_path = checkpoint_to_resume(cfg, output_dir, ctx.in_sweep)
    if writes and cfg.ckpt_path and not cfg.train:
        take_weights_from(output_dir, cfg.ckpt_path)  # once the checkpoint is known to be whole
    if cfg.seed is not None:
        L.seed_everything(cfg.seed, workers=True, verbose=False)

    # data read and checked before the model is built and W&B starts (a generate-only run may have none to read)
    exp = build(cfg, ctx, set_up_data=bool(cfg.train or cfg.test))
    if writes:
        save_resolved_config(cfg, output_dir, secrets)  # with what the data decided (model.vocab_size)
        if isinstance(exp.datamodule, LabelledData) and exp.datamodule.class_names:
            save_labels(output_dir, exp.datamodule.class_names)
    check_stages(exp.module, cfg, ctx.choices.get("model", "model"))
    if ckpt_path:
        check_checkpoint_fits(exp.module, ckpt_path, "ckpt_path" if cfg.ckpt_path else "resume")
    log.info(what_was_built(exp, ctx))
    log_hyperparameters(exp, cfg, ctx, secrets)
    metrics: dict[str, float] = {}
    try:
        _train_test_predict(exp, cfg, output_dir, ckpt_path, metrics)
    except RunStopped as stop:
        stop.advice = how_to_continue(stop, cfg, ctx, output_dir)
        raise
    finally:
        finish_runs(exp.trainer.loggers)
        release_ranks(exp.trainer)
    if exp.trainer.is_global_zero:
        (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True))
        print_summary(metrics, output_dir, exp.trainer, None if cfg.train else cfg.ckpt_path)
    return metrics


def _train_test_predict(
    exp: Experiment, cfg: DictConfig, output_dir: Path, ckpt_path: str | None, metrics: dict[str, float]
) -> None:
    if cfg.train:
        if ckpt_path:
            log.info(f"resuming from {ckpt_path}")
        exp.trainer.fit(exp.module, datamodule=exp.datamodule, ckpt_path=ckpt_path)
        metrics.update(scalar_metrics(exp))
    if cfg.test:
        weights = evaluation_weights(exp, cfg, ckpt_path)
        # verbose=False: the results table at the end has the test metrics, beside the last validation's
        exp.trainer.test(exp.module, datamodule=exp.datamodule, ckpt_path=weights, verbose=False)
        metrics.update(scalar_metrics(exp))  # test replaces the trainer's metrics: keep the last fit's too
    if exp.tuning.adapters and exp.trainer.is_global_zero:
        finish_adapter(exp, cfg, output_dir, ckpt_path, metrics)
    if cfg.predict:
        weights = evaluation_weights(exp, cfg, ckpt_path)
        predict(exp.trainer, exp.module, exp.datamodule, exp.generation, output_dir, weights)


def how_to_continue(stop: RunStopped, cfg: DictConfig, ctx: RunContext, output_dir: Path) -> str:
    """What a stopped run left to continue from, and the command that continues it."""
    if not cfg.train:
        return "nothing was trained; run the same command again"
    checkpoint = stop.checkpoint or newest_good_checkpoint(output_dir)
    if checkpoint is None:
        return "no checkpoint was saved yet; the same command starts over"
    saved = f"checkpoint saved: {checkpoint}" if stop.checkpoint else f"its newest checkpoint: {checkpoint}"
    if ctx.in_sweep:
        return f"{saved}; the sweep's job continues from it when run again in its folder"
    # resume=true finds this folder by the overrides; a run started from a ckpt_path is continued by naming its own
    again = "resume=true" if not cfg.ckpt_path else f"ckpt_path={checkpoint}"
    return f"{saved}; continue with: genlab-train {shlex.join([*identity_overrides(ctx.overrides), again])}"


def what_was_built(exp: Experiment, ctx: RunContext) -> str:
    trainable, total = count_parameters(exp.module)
    net: Any = exp.module.net if isinstance(exp.module, NetTask) else exp.module
    if isinstance(exp.tuning, LoRA):
        net = net.get_base_model()  # peft's wrapper: name the network it wraps
    classes = {"model": type(net).__name__, "data": type(exp.datamodule).__name__}
    classes |= {"task": type(exp.module).__name__, "tuning": type(exp.tuning).__name__}
    return describe_built(ctx.choices, classes, trainable, total)


def save_resolved_config(cfg: DictConfig, output_dir: Path, secrets: frozenset[str]) -> None:
    (output_dir / RESOLVED_CONFIG).write_text(OmegaConf.to_yaml(public_config(cfg, secrets)))


def check_stages(module: L.LightningModule, cfg: DictConfig, model_name: str) -> None:
    """A generate-only model (a pretrained pipeline) has nothing to train or test: say so before Lightning does."""
    for flag, hook in (("train", "training_step"), ("test", "test_step")):
        if cfg[flag] and not is_overridden(hook, module):
            raise ConfigError(
                f"model={model_name} generates only, it has no {hook}; run it with train=false test=false predict=true"
            )


def finish_adapter(exp: Experiment, cfg: DictConfig, output_dir: Path, ckpt_path: str | None, metrics: dict) -> None:
    """The trained adapter (from the evaluation weights) into <run>/adapter, and the merged model if asked for."""
    tuning, module = exp.tuning, exp.module
    if not isinstance(tuning, LoRA) or not isinstance(module, StagedTask) or exp.make_net is None:
        raise TypeError(f"tuning {type(tuning).__name__} on task {type(module).__name__} has no adapter to save")
    if cfg.train or cfg.ckpt_path:
        load_checkpoint_weights(module, evaluation_weights(exp, cfg, ckpt_path))
    if cfg.train:
        save_adapter(module, exp.datamodule, tuning, output_dir)
    if tuning.merge:
        metrics["merge/max_relative_logit_difference"] = merge(module, exp.datamodule, tuning, exp.make_net, output_dir)


def scalar_metrics(exp: Experiment) -> dict[str, float]:
    return {k: float(v) for k, v in exp.trainer.callback_metrics.items() if v.numel() == 1}


def checkpoint_to_resume(cfg: DictConfig, output_dir: Path, in_sweep: bool = False) -> str | None:
    """The checkpoint to continue from (train) or to load weights from (train=false: test and predict).

    A sweep's job whose folder already holds a checkpoint was started before (an interrupted Optuna trial, a
    requeued cluster job): it continues from it.
    """
    if cfg.ckpt_path:
        check_checkpoint(cfg.ckpt_path, "ckpt_path")  # a one-line error now, not a traceback inside Lightning
        return str(cfg.ckpt_path)
    if in_sweep and cfg.train:
        last = newest_good_checkpoint(output_dir)
        return None if last is None else str(last)
    if cfg.resume:
        last = newest_good_checkpoint(output_dir)
        if last is None:
            damaged = "; those there are damaged (see the warnings above)" if newest_checkpoint(output_dir) else ""
            raise ConfigError(
                f"resume=true: no earlier run of experiment_name={cfg.experiment_name} with these same overrides has a "
                f"usable checkpoint (looked for {output_dir.parent}/*/checkpoints/last.ckpt and checkpoints/steps/*.ckpt"
                f"{damaged}); run without resume=true, or pass ckpt_path=<run>/checkpoints/last.ckpt"
            )
        return str(last)
    return None


def evaluation_weights(exp: Experiment, cfg: DictConfig, ckpt_path: str | None) -> str | None:
    """What test and predict load: the best checkpoint of this training, or the given checkpoint when not
    training; None keeps the weights in hand (no checkpoint saved, or a pretrained model used as it is)."""
    if not cfg.train:
        return ckpt_path
    checkpoint = exp.trainer.checkpoint_callback
    if isinstance(checkpoint, ModelCheckpoint) and checkpoint.best_model_path:
        return checkpoint.best_model_path
    return None


def log_hyperparameters(exp: Experiment, cfg: DictConfig, ctx: RunContext, secrets: frozenset[str]) -> None:
    """The full resolved config, the overrides and the group choices, to every logger, secrets redacted
    (genlab.config.secrets)."""
    params = cast(dict[str, Any], OmegaConf.to_container(cfg, resolve=True))
    params["overrides"] = list(ctx.overrides)
    params["choices"] = dict(ctx.choices)
    if ctx.swept:
        # their own config columns, so that W&B's table and parallel coordinates compare a sweep's jobs at once
        params["sweep"] = dict(ctx.swept)
    params = redact(params, secrets)
    for logger in exp.trainer.loggers:
        logger.log_hyperparams(params)
