"""A test-only callback that proves jobs run at the same time: each waits at the start of training until all jobs
of its group have arrived. Jobs that ran one after another would never meet, and fail."""

import time
from pathlib import Path

import lightning as L


class MeetAtTrainStart(L.Callback):
    """Jobs are named by their folder (a sweep's job number); jobs 0..size-1 form the first group, and so on."""

    def __init__(self, folder: str, size: int, patience_s: float = 300):
        self.folder, self.size, self.patience_s = Path(folder), int(size), patience_s

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        job = int(Path(trainer.default_root_dir).name)
        group = self.folder / str(job // self.size)
        group.mkdir(parents=True, exist_ok=True)
        (group / str(job)).touch()
        waited = 0.0
        while len(list(group.iterdir())) < self.size:
            if waited > self.patience_s:
                raise RuntimeError(f"job {job} waited {self.patience_s} s for the rest of its group: not in parallel")
            time.sleep(0.1)
            waited += 0.1
