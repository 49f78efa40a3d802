"""A test-only callback that proves jobs run at the same time: each waits at the start of training until all jobs
of its group have arrived. Jobs that ran one after another would never meet, and fail."""

from pathlib import Path

import lightning as L

from killer import wait_until


class MeetAtTrainStart(L.Callback):
    """Jobs are named by their folder (a sweep's job number); jobs 0..size-1 form the first group, and so on."""

    def __init__(self, folder: str, size: int):
        self.folder, self.size = Path(folder), int(size)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        job = int(Path(trainer.default_root_dir).name)
        group = self.folder / str(job // self.size)
        group.mkdir(parents=True, exist_ok=True)
        (group / str(job)).touch()
        wait_until(lambda: len(list(group.iterdir())) >= self.size, f"job {job}'s group meeting (run in parallel)")
