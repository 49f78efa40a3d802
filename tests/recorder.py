"""Test-only callbacks: what each training batch really was."""

from typing import ClassVar

import lightning as L
import torch


class BatchRecorder(L.Callback):
    """Per training batch: epoch, optimizer step, learning rate, accumulation and the batch's inputs, kept in
    ``BatchRecorder.records`` (the test reads them in the same process)."""

    records: ClassVar[list[dict]] = []

    def __init__(self):
        BatchRecorder.records = []

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch, batch_idx: int) -> None:
        BatchRecorder.records.append(
            {
                "epoch": trainer.current_epoch,
                "step": trainer.global_step,
                "lr": trainer.optimizers[0].param_groups[0]["lr"],
                "accumulate": trainer.accumulate_grad_batches,
                "inputs": batch[0].detach().clone(),
            }
        )


def row_keys(inputs: torch.Tensor) -> set[bytes]:
    """One hashable key per row of a batch of inputs."""
    return {row.numpy().tobytes() for row in inputs.reshape(len(inputs), -1)}
