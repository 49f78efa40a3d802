from typing import Any

import lightning as L

from genlab.config.secrets import redact


class RedactSecrets(L.Callback):
    """Keeps secrets (genlab.config.secrets) out of the hyperparameters that every checkpoint carries."""

    def __init__(self, secrets: frozenset[str]):
        self.secrets = secrets

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
        for key in ("hyper_parameters", "datamodule_hyper_parameters"):
            if key in checkpoint:
                checkpoint[key] = redact(dict(checkpoint[key]), self.secrets)
