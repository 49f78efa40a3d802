"""A run of weights another run trained, without training them (``train=false ckpt_path=...``): what it takes
from the checkpoint and its run folder rather than from the data, which may be gone or be new data to test on."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from genlab.core.run_folder import override_key, read_labels, read_run_config, run_folder_of

if TYPE_CHECKING:
    from omegaconf import DictConfig

log = logging.getLogger("genlab")

# Data settings that belong to the weights (the shape and normalization of their inputs, their outputs), not to
# the data at hand.
SET_BY_WEIGHTS = ("num_classes", "input_shape", "mean", "std")


def weights_checkpoint(cfg: DictConfig) -> str | None:
    """The checkpoint this run uses without training (None: it trains, or has no ``ckpt_path``)."""
    return None if cfg.get("train", True) or not cfg.get("ckpt_path") else str(cfg.ckpt_path)


def weights_run(cfg: DictConfig) -> Path | None:
    """The run folder of the weights this run uses without training (None: it trains, or the checkpoint is a file
    of no run)."""
    checkpoint = weights_checkpoint(cfg)
    return None if checkpoint is None else run_folder_of(checkpoint)


def adopt_trained_sizes(cfg: DictConfig, overrides: Sequence[str]) -> None:
    """``data.num_classes``, ``data.input_shape``, ``data.mean`` and ``data.std`` as the run that trained the
    weights had them, when the data is of the same kind and the command line does not set them: they are the
    weights' own, and working them out again would read the data the weights were trained on (which may be gone)
    or normalize new data by its own statistics."""
    from omegaconf import OmegaConf, open_dict

    source = weights_run(cfg)
    if source is None or "data" not in cfg:
        return
    trained = read_run_config(source).get("data")
    if trained is None or trained.get("_target_") != cfg.data.get("_target_"):
        return
    given = {override_key(override) for override in overrides}
    # unresolved: an interpolation stays a string, and reads no data
    own, theirs = OmegaConf.to_container(cfg.data, resolve=False), OmegaConf.to_container(trained)
    assert isinstance(own, dict) and isinstance(theirs, dict)
    taken = []
    with open_dict(cfg):
        for key in SET_BY_WEIGHTS:
            if key in own and key in theirs and f"data.{key}" not in given and own[key] != theirs[key]:
                cfg.data[key] = theirs[key]
                taken.append(f"data.{key}")
    if taken:
        log.info(f"{', '.join(taken)}: as {source} trained the weights")


def trained_class_names(cfg: DictConfig) -> tuple[str, ...] | None:
    """The class names the weights' outputs stand for, when this run uses them without training: kept in the
    checkpoint, else in its run folder's labels.json; None when neither says (unlabelled data, or it trains)."""
    from genlab.core.checkpoints import saved_class_names

    checkpoint = weights_checkpoint(cfg)
    if checkpoint is None:
        return None
    names = saved_class_names(checkpoint)
    source = run_folder_of(checkpoint)
    return names if names is not None or source is None else read_labels(source)
