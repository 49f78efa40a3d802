import time

import lightning as L
import torch


class Throughput(L.Callback):
    """Training speed per epoch, from the training steps alone (validation and checkpointing excluded):
    ``train/samples_per_s`` and ``train/inputs_per_s``, the elements of each batch's first tensor per second
    (tokens for a language model); on a GPU also ``train/peak_gpu_memory_gib`` (max_memory_allocated)."""

    def __init__(self):
        self._start = 0.0
        self._seconds = 0.0
        self._samples = self._inputs = 0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._seconds, self._samples, self._inputs = 0.0, 0, 0

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch, batch_idx: int) -> None:
        self._sync(pl_module)
        self._start = time.perf_counter()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs, batch, batch_idx: int
    ) -> None:
        self._sync(pl_module)
        self._seconds += time.perf_counter() - self._start
        first = batch[0] if isinstance(batch, (list, tuple)) else batch
        self._samples += len(first)
        self._inputs += first.numel()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._seconds > 0:
            pl_module.log("train/samples_per_s", self._samples / self._seconds)
            pl_module.log("train/inputs_per_s", self._inputs / self._seconds)
        if pl_module.device.type == "cuda":
            pl_module.log("train/peak_gpu_memory_gib", torch.cuda.max_memory_allocated(pl_module.device) / 2**30)

    @staticmethod
    def _sync(pl_module: L.LightningModule) -> None:
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize(pl_module.device)
