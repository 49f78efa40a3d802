"""The first-step probe as a Lightning callback, for genlab (+callbacks.first_step._target_=...) and the plain
Lightning script."""

import lightning as L
from first_step import reached_first_step


class ExitAtFirstStep(L.Callback):
    def on_train_batch_start(self, *args: object) -> None:
        reached_first_step()
