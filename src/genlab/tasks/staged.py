import lightning as L
import torch

from genlab.errors import ConfigError
from genlab.tasks.optim import configure_optimizers

_FINGERPRINT = "frozen_weights_fingerprint"


class StagedTask(L.LightningModule):
    """The train/val/test plumbing shared by genlab's tasks.

    A task implements ``_step(batch, stage) -> loss`` (accumulating its metrics in torchmetrics objects) and
    ``_log_epoch(stage)``; metrics are logged once per epoch because each ``self.log`` call costs about a
    millisecond of bookkeeping, more than a small net's whole training step. It keeps the net in ``self.net``
    and its optimizer and scheduler factories in ``self.optimizer_factory`` and ``self.scheduler_factory``.

    Frozen parameters (a LoRA run's base model) stay out of checkpoints: they cannot change in training and come
    back from the model's source when the run is rebuilt, so a SmolLM2 LoRA checkpoint is megabytes, not the
    1.6 GB of a full one. A fingerprint of them goes in instead, and loading checks it, so a checkpoint never
    lands on a different base (another seed, another model) unnoticed.
    """

    monitor_for_scheduler = "val/loss"

    def _step(self, batch, stage: str) -> torch.Tensor:
        raise NotImplementedError

    def _log_epoch(self, stage: str) -> None:
        raise NotImplementedError

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        loss = self._step(batch, "train")
        if batch_idx % self.trainer.log_every_n_steps == 0:
            self.log("train/loss_step", loss.detach(), on_step=True, on_epoch=False, prog_bar=True)
        return loss

    def on_train_epoch_end(self) -> None:
        self._log_epoch("train")

    def validation_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "val")

    def on_validation_epoch_end(self) -> None:
        self._log_epoch("val")

    def test_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "test")

    def on_test_epoch_end(self) -> None:
        self._log_epoch("test")

    def configure_optimizers(self) -> dict:
        return configure_optimizers(
            self.net, self.optimizer_factory, self.scheduler_factory, self.hparams.scheduler_interval, self.monitor_for_scheduler
        )

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        frozen = frozen_parameters(self)
        if frozen:
            checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if not _is_frozen(k, frozen)}
            checkpoint[_FINGERPRINT] = fingerprint(frozen)

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        if _FINGERPRINT not in checkpoint:
            self.strict_loading = True
            return
        frozen = frozen_parameters(self)
        missing = sorted(k for k in self.state_dict() if not _is_frozen(k, frozen) and k not in checkpoint["state_dict"])
        saved = checkpoint[_FINGERPRINT]
        if missing or saved.shape != (2 * len(frozen),) or not torch.allclose(saved, fingerprint(frozen), rtol=1e-6):
            detail = f"it lacks {missing[:3]}" if missing else "its frozen base weights differ from this run's"
            raise ConfigError(
                f"checkpoint does not fit this model: {detail}; build the run as it was trained (same model, "
                f"tuning and seed; <run>/config_resolved.yaml has them)"
            )
        self.strict_loading = False  # the frozen weights are already in place


def frozen_parameters(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p for name, p in module.named_parameters() if not p.requires_grad}


def _is_frozen(key: str, frozen: dict) -> bool:
    """A state-dict entry of a frozen parameter, including the extra entries of a 4-bit one (``weight.absmax``…)."""
    parts = key.split(".")
    return any(".".join(parts[:i]) in frozen for i in range(len(parts), 0, -1))


def fingerprint(frozen: dict[str, torch.Tensor]) -> torch.Tensor:
    """Per frozen tensor, float64 sums of all its values and of every seventh (no copy of the weights is made)."""
    sums = [
        torch.stack([p.detach().sum(dtype=torch.float64), p.detach().flatten()[::7].sum(dtype=torch.float64)])
        for p in frozen.values()
    ]
    return torch.cat(sums).cpu() if sums else torch.zeros(0, dtype=torch.float64)
