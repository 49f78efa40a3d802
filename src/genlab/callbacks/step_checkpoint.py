from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint


class StepCheckpoint(ModelCheckpoint):
    """ModelCheckpoint every N optimizer steps that leaves an epoch's last batch to the end-of-epoch checkpoint.

    Lightning resumes from a checkpoint written at the end of an epoch's last batch as if that epoch were over:
    its validation, its end-of-epoch checkpoints and its epoch metrics never happen, and a run that resumes from
    one written at its very last step finishes without rewriting ``last.ckpt``. The epoch-end checkpoint, written
    a moment later after validation, holds the same weights; a kill between the two costs only the validation.
    """

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any, **kwargs: Any) -> None:
        if trainer.fit_loop.epoch_loop.batch_progress.is_last_batch:
            return
        super().on_train_batch_end(trainer, *args, **kwargs)
