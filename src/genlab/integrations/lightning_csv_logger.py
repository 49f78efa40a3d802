"""Lightning's CSV logger, made to survive a resume.

Lightning 2.5–2.6's ``ExperimentWriter._check_log_dir_exists`` deletes an existing ``metrics.csv`` when a logger
starts (also met by others, e.g. roboflow/rf-detr#1321); the writer's ``metrics_keys`` and ``_fs`` are what an
appending writer must keep. tests/unit/test_integrations.py checks both are still there.
"""

import csv

from lightning.fabric.loggers.logger import rank_zero_experiment
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter


class ResumableCSVLogger(CSVLogger):
    """A CSVLogger whose resumed run appends to the run folder's ``metrics.csv``.

    Lightning's writer deletes an existing metrics.csv when it starts, so a killed and resumed run would keep only
    the metrics logged after the resume; and it writes every ``flush_logs_every_n_steps``, so a kill loses the rows
    since. This one appends, and writes its rows whenever a checkpoint is saved: the file then holds at least
    everything up to the checkpoint a resume starts from. Rows logged after that checkpoint and before a kill may
    appear twice (the resumed run logs those steps again); readers keep the last row of a step.
    """

    def after_save_checkpoint(self, checkpoint_callback) -> None:
        self.save()

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _AppendingWriter(log_dir=self.log_dir)
        return self._experiment


class _AppendingWriter(ExperimentWriter):
    def _check_log_dir_exists(self) -> None:
        # Instead of deleting the file: take its columns, so that appended rows and a rewritten header keep them.
        if self._fs.isfile(self.metrics_file_path):
            with self._fs.open(self.metrics_file_path, "r", newline="") as file:
                self.metrics_keys = sorted(csv.DictReader(file).fieldnames or [])
