"""From a composed config to the objects of a run. The only place, with genlab.cli.train, that knows about Hydra."""

import inspect
import logging
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from hydra.errors import InstantiationException
from hydra.utils import get_class, get_method, instantiate
from lightning.pytorch.callbacks import LearningRateMonitor
from lightning.pytorch.loggers import Logger, WandbLogger
from omegaconf import DictConfig
from torch import nn

from genlab.callbacks import RedactSecrets, RNGStateCallback
from genlab.callbacks.epoch_lines import EpochLines
from genlab.callbacks.interruption import StopOnSignal
from genlab.callbacks.validation_reach import WarnIfNeverValidated
from genlab.config.secrets import redact, secret_values
from genlab.core.context import Experiment, RunContext, process_rank
from genlab.core.protocols import (
    LabelledData,
    NetTask,
    NormalizedData,
    Schedule,
    ShapedData,
    ShapeDeclaringTask,
    TokenEmbedder,
    TokenizingData,
    TrainedClassesData,
    Tuning,
    require,
    require_instance,
)
from genlab.core.run_folder import wandb_run_id
from genlab.core.speed import autocast_device, check_bf16_kernels, compile_net, resolve_precision
from genlab.core.trained_run import trained_class_names
from genlab.errors import ConfigError, GenlabError
from genlab.generation.predict import check_generation
from genlab.integrations.lightning_precision import bf16_plugin
from genlab.integrations.wandb import set_aside_empty_logs

log = logging.getLogger("genlab")


def instantiate_section(node: DictConfig, key: str, **kwargs: Any) -> Any:
    """Hydra's instantiate, with failures turned into one line naming the config key."""
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as e:
        cause = e.__cause__ or e
        if isinstance(cause, GenlabError):
            raise cause from None
        raise ConfigError(f"{key} ({node.get('_target_')}): {cause}") from e


def build(cfg: DictConfig, ctx: RunContext, set_up_data: bool = False) -> Experiment:
    """The run's objects. With ``set_up_data`` the data is read and checked first (``setup``), so that a data
    problem ends the run before the model is built and before a logger starts its run (Lightning's own
    ``setup`` call later finds it done). What the data decides is filled into the config before the model:
    ``model.vocab_size: null`` becomes the size of the data's tokenizer, ``data.mean``/``data.std: null`` the
    statistics of the training split. A run of trained weights (``train=false ckpt_path=...``) gives the data
    the class names they were trained with."""
    datamodule = instantiate_section(cfg.data, "data")
    require_instance(datamodule, L.LightningDataModule, "data")
    trained_classes = trained_class_names(cfg)
    if trained_classes is not None and isinstance(datamodule, TrainedClassesData):
        datamodule.use_trained_classes(trained_classes)
    if set_up_data:
        datamodule.setup("fit" if cfg.get("train") else "test")
        check_trained_classes(datamodule, trained_classes, cfg.get("ckpt_path"))
        record_normalization(cfg.data, datamodule)
    model_name = ctx.choices.get("model", "model")
    size_to_tokenizer(cfg.model, datamodule, model_name)
    tuning = instantiate_section(cfg.tuning, "tuning")
    require(tuning, Tuning, "tuning")

    def make_net(**kwargs: Any) -> nn.Module:
        # _convert_: the loaders get plain lists and dicts (BitsAndBytesConfig type-checks its arguments)
        return instantiate_section(cfg.model, "model", _convert_="all", **kwargs)

    loads_quantized = "quantization_config" in inspect.signature(get_method(cfg.model._target_)).parameters
    net = tuning.build(make_net, loads_quantized, cfg.trainer.get("accelerator", "auto"))
    check_embeddings(net, datamodule, model_name)
    check_bf16_kernels(net, cfg.trainer.get("precision"), str(cfg.trainer.get("accelerator", "auto")))
    # _convert_: a curriculum's stages arrive as plain dicts, with their data modules and schedulers built
    schedule = instantiate_section(cfg.schedule, "schedule", _convert_="all")
    require(schedule, Schedule, "schedule")
    module = instantiate_section(cfg.task, "task", net=net, **schedule.task_arguments())
    require_instance(module, L.LightningModule, "task")
    check_shapes(module, datamodule, model_name)
    if cfg.get("compile"):
        require(module, NetTask, "task", "compile=true")
        compile_net(module.net, cfg.get("compile_mode"), cfg.paths.cache_dir)
    generation = instantiate_section(cfg.generation, "generation") if cfg.get("generation") else None
    check_generation(
        module, datamodule, generation, predict_after_training=bool(cfg.get("predict") and cfg.get("train"))
    )
    callbacks = [build_callback(name, node) for name, node in (cfg.callbacks or {}).items() if node]
    # The schedule's first: it sets each stage's learning rate before LearningRateMonitor reads it.
    secrets = secret_values(cfg)
    callbacks = [*schedule.callbacks(), *callbacks, RNGStateCallback(), RedactSecrets(secrets), StopOnSignal()]
    callbacks += [WarnIfNeverValidated(), EpochLines()]
    loggers = build_loggers(cfg, ctx, secrets)
    if not loggers:
        # Lightning refuses a LearningRateMonitor without a logger; with logger=none there is nothing to monitor into.
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    trainer = instantiate_section(
        cfg.trainer,
        "trainer",
        callbacks=callbacks,
        logger=loggers or False,
        **precision_arguments(cfg.trainer),
        **schedule.trainer_arguments(),
    )
    return Experiment(datamodule, module, trainer, tuning, generation, make_net)


def record_normalization(data: DictConfig, datamodule: L.LightningDataModule) -> None:
    """``data.mean: null`` and ``data.std: null`` filled with the statistics the data module computed: the run's
    resolved config then says how its weights' inputs were normalized, and a run of those weights on other data
    (``train=false ckpt_path=...``) normalizes it the same way."""
    from omegaconf import open_dict

    if not isinstance(datamodule, NormalizedData) or datamodule.normalization is None:
        return
    with open_dict(data):
        for key, values in zip(("mean", "std"), datamodule.normalization):
            if key in data and data[key] is None:
                data[key] = [round(float(v), 6) for v in np.asarray(values).ravel()]


def check_trained_classes(datamodule: L.LightningDataModule, trained: tuple[str, ...] | None, ckpt_path: str) -> None:
    """Data that names its classes otherwise than the weights were trained would be scored against the wrong
    outputs: a one-line error, before the model is built."""
    if trained is None or not isinstance(datamodule, LabelledData) or not datamodule.class_names:
        return
    names = tuple(str(name) for name in datamodule.class_names)
    if names != trained:
        raise ConfigError(
            f"ckpt_path={ckpt_path} was trained on the classes {', '.join(trained)}, but the data's classes are "
            f"{', '.join(names)}; evaluate it on data of the classes it was trained on"
        )


def precision_arguments(trainer: DictConfig) -> dict[str, Any]:
    """``precision`` for the Trainer (``auto`` resolved), or for bf16-mixed genlab's plugin among ``plugins``."""
    accelerator = str(trainer.get("accelerator", "auto"))
    precision = resolve_precision(trainer.get("precision"), accelerator)
    if precision != "bf16-mixed":
        return {"precision": precision}
    strategy = trainer.get("strategy")
    plugin = bf16_plugin(
        autocast_device(accelerator), get_class(strategy._target_) if isinstance(strategy, DictConfig) else strategy
    )
    if plugin is None:
        return {"precision": precision}
    plugins = [instantiate_section(node, "trainer.plugins") for node in trainer.get("plugins") or []]
    return {"precision": None, "plugins": [*plugins, plugin]}


def build_callback(name: str, node: DictConfig) -> L.Callback:
    if "_target_" not in node:
        # e.g. an experiment's callbacks.step_checkpoints.* settings while callbacks=... left that callback out
        raise ConfigError(
            f"callbacks.{name} has settings ({', '.join(node)}) but no callback chosen; "
            f"add it with callbacks=[default,{name}] or drop the callbacks.{name}.* overrides"
        )
    return instantiate_section(node, f"callbacks.{name}")


def size_to_tokenizer(model: DictConfig, datamodule: L.LightningDataModule, model_name: str) -> None:
    """``model.vocab_size: null`` set to the size of the data's tokenizer (made now, before the net). A set
    vocab_size smaller than the tokenizer is refused: its larger ids would fail mid-run."""
    if "vocab_size" not in model:
        return  # a pretrained model: its vocabulary is its own (check_embeddings)
    wanted = model.vocab_size
    if not isinstance(datamodule, TokenizingData):
        if wanted is None:
            raise ConfigError(
                f"model={model_name} takes model.vocab_size from the data's tokenizer, and data "
                f"{type(datamodule).__name__} has none; use text data (experiment=... pairs model, task and data)"
            )
        return
    size = len(datamodule.prepare_tokenizer())
    if wanted is None:
        model.vocab_size = size
        log.info(f"model: vocab_size={size:,}, the tokenizer's")
    elif wanted < size:
        raise ConfigError(
            f"model.vocab_size={wanted} but the tokenizer has {size:,} tokens; leave model.vocab_size=null to take the "
            f"tokenizer's size"
        )


def check_embeddings(net: nn.Module, datamodule: L.LightningDataModule, model_name: str) -> None:
    """A pretrained model must embed every id of the data's tokenizer (another model's tokenizer may not fit)."""
    if not isinstance(datamodule, TokenizingData) or not isinstance(net, TokenEmbedder):
        return
    embedding = net.get_input_embeddings()
    if not isinstance(embedding, nn.Embedding):
        return  # e.g. a quantized embedding: its size is not known here
    embeddings, size = embedding.num_embeddings, len(datamodule.prepare_tokenizer())
    if embeddings < size:
        raise ConfigError(
            f"model={model_name} embeds {embeddings:,} token ids but the data's tokenizer has {size:,}; use the "
            f"model's own tokenizer (data/tokenizer=hf) or one made for it"
        )


def check_shapes(module: L.LightningModule, datamodule: L.LightningDataModule, model_name: str) -> None:
    """One dry forward pass on zeros, so a net that cannot take the data fails now, with the keys to fix."""
    if not isinstance(datamodule, ShapedData):
        return  # text: token ids of any length
    input_shape, num_classes = list(datamodule.input_shape), datamodule.num_classes
    # a classifier answers with a score per class; other tasks (diffusion: an image per image) say what they return
    expected = (
        module.output_shape(input_shape, num_classes) if isinstance(module, ShapeDeclaringTask) else (num_classes,)
    )
    if expected is None:
        return
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(torch.zeros(2, *input_shape))
    except Exception as e:
        raise ConfigError(
            f"model={model_name} cannot take data.input_shape={input_shape}: {e}; check the model.* sizes"
        ) from None
    finally:
        module.train(was_training)
    if expected[0] is not None and tuple(out.shape) != (2, *expected):
        detail = f"data.num_classes={num_classes}" if expected == (num_classes,) else f"the task needs {list(expected)}"
        raise ConfigError(f"model={model_name} outputs {list(out.shape[1:])} per example but {detail}")


# Groups that say how genlab runs, not what the experiment is.
_UNTAGGED = {"hydra", "local", "paths"}


def build_loggers(cfg: DictConfig, ctx: RunContext, secrets: frozenset[str]) -> list[Logger]:
    loggers = []
    for name, node in (cfg.logger or {}).items():
        if not node:
            continue
        extra = {}
        if issubclass(get_class(node._target_), WandbLogger):
            tags = [
                f"{group}:{choice}" for group, choice in ctx.choices.items() if group.split("/")[0] not in _UNTAGGED
            ]
            # other DDP ranks log nothing, and must not race rank 0 for the id file
            run_id = wandb_run_id(ctx.output_dir) if process_rank() == 0 else None
            if run_id is not None:
                set_aside_empty_logs(Path(ctx.output_dir) / "wandb", run_id)
            extra = {"id": run_id, "group": ctx.group, "tags": redact([*cfg.tags, *tags][:64], secrets)}
        loggers.append(instantiate_section(node, f"logger.{name}", **extra))
    return loggers
