"""After a LoRA/QLoRA run: the adapter folder, and on request the merged model, written into the run folder."""

import logging
from pathlib import Path

import lightning as L
import torch

from genlab.tuning.lora import LoRA
from genlab.tuning.merge import check_merge, logits_difference, merge_adapter, save_merged, tolerance

log = logging.getLogger("genlab")


def load_checkpoint_weights(module: L.LightningModule, ckpt_path: str | None) -> None:
    """A checkpoint's weights into the module in hand, through the same checks as Lightning's own loading."""
    if not ckpt_path:
        return
    checkpoint = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    module.on_load_checkpoint(checkpoint)
    module.load_state_dict(checkpoint["state_dict"], strict=module.strict_loading)


def save_adapter(module: L.LightningModule, datamodule: L.LightningDataModule, tuning: LoRA, output_dir: Path) -> Path:
    folder = tuning.save_adapter(module.net, output_dir / "adapter", getattr(datamodule, "tokenizer", None))
    log.info(f"adapter: {folder}")
    return folder


def fixed_inputs(datamodule: L.LightningDataModule, rows: int = 4) -> list[torch.Tensor]:
    """The model inputs of the first validation rows: what the merged model is checked on."""
    datamodule.setup("validate")  # genlab's data modules set up once; a second call returns at once
    batch = next(iter(datamodule.val_dataloader()))
    return [t[:rows] for t in batch[:-1]]


def merge(module: L.LightningModule, datamodule: L.LightningDataModule, tuning: LoRA, make_net, output_dir: Path) -> float:
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
    report = {"max_relative_logit_difference": difference, "tolerance": limit, "inputs": [list(t.shape) for t in inputs]}
    save_merged(merged, output_dir / "merged", getattr(datamodule, "tokenizer", None), report)
    log.info(f"merged model: {output_dir / 'merged'}")
    check_merge(difference, limit)
    return difference
