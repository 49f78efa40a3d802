"""After a LoRA/QLoRA run: the adapter folder, and on request the merged model, written into the run folder."""

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import nn

from genlab.core.protocols import TokenizedData
from genlab.tasks.staged import StagedTask
from genlab.tuning.lora import LoRA
from genlab.tuning.merge import check_merge, logits_difference, merge_adapter, save_merged, tolerance

log = logging.getLogger("genlab")


def save_adapter(module: StagedTask, datamodule: L.LightningDataModule, tuning: LoRA, output_dir: Path) -> Path:
    folder = tuning.save_adapter(module.net, output_dir / "adapter", tokenizer_of(datamodule))
    log.info(f"adapter: {folder}")
    return folder


def fixed_inputs(datamodule: L.LightningDataModule, rows: int = 4) -> list[torch.Tensor]:
    """The model inputs of the first validation rows: what the merged model is checked on."""
    datamodule.setup("validate")  # genlab's data modules set up once; a second call returns at once
    batch = next(iter(datamodule.val_dataloader()))
    return [t[:rows] for t in batch[:-1]]


def tokenizer_of(datamodule: L.LightningDataModule) -> Any:
    """The data's tokenizer, which the adapter and merged folders carry; None for data without text."""
    return datamodule.tokenizer if isinstance(datamodule, TokenizedData) else None


def merge(
    module: StagedTask,
    datamodule: L.LightningDataModule,
    tuning: LoRA,
    make_net: Callable[..., nn.Module],
    output_dir: Path,
) -> float:
    """Writes ``<run>/merged`` and checks its logits against the adapter model's on fixed inputs."""
    inputs = [t.to(module.device) for t in fixed_inputs(datamodule)]
    adapter_net = module.net
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            expected = module(*inputs)
            merged = merge_adapter(adapter_net, make_net, tuning.base_state).to(module.device).eval()
            module.net = merged
            difference = logits_difference(expected, module(*inputs))
    finally:
        module.net = adapter_net
        module.train(was_training)
    limit = tolerance(adapter_net)
    report = {
        "max_relative_logit_difference": difference,
        "tolerance": limit,
        "inputs": [list(t.shape) for t in inputs],
    }
    save_merged(merged, output_dir / "merged", tokenizer_of(datamodule), report)
    log.info(f"merged model: {output_dir / 'merged'}")
    check_merge(difference, limit)
    return difference
