import dataclasses
import logging
from pathlib import Path

import lightning as L

from genlab.core.protocols import LabelledData
from genlab.generation.image_writer import log_images
from genlab.generation.requests import class_requests
from genlab.generation.video_settings import VideoGenerationSettings
from genlab.generation.video_writer import log_videos, write_clips

log = logging.getLogger("genlab")


class VideoSamples(L.Callback):
    """Every ``settings.every_n_epochs`` epochs, ``samples_per_class`` clips per prompt (every class when
    generation.prompts is null) from the model in hand: ``samples/epoch_<n>/`` in the run folder (clips and strips),
    ``samples/epoch_<n>.png`` (the strips, a row per prompt) and W&B videos, so the clips can be watched improving. Fixed seeds: the same noise each time."""

    def __init__(self, settings: VideoGenerationSettings, output_dir: str):
        self.settings = dataclasses.replace(settings, n_per_prompt=settings.samples_per_class)
        self.folder = Path(output_dir) / "samples"

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or (trainer.current_epoch + 1) % self.settings.every_n_epochs:
            return
        class_names = trainer.datamodule.class_names if isinstance(trainer.datamodule, LabelledData) else None
        requests = class_requests(self.settings, class_names, pl_module.num_classes)
        clips = pl_module.generate(requests, self.settings).cpu()
        if not trainer.is_global_zero:
            return
        folder = self.folder / f"epoch_{trainer.current_epoch:03d}"
        grid = self.folder / f"epoch_{trainer.current_epoch:03d}.png"
        records = write_clips(requests, clips, self.settings, folder, folder, grid)
        log_images(trainer, "samples", [str(grid)], [f"epoch {trainer.current_epoch}"], step=trainer.global_step)
        log_videos(
            trainer,
            "samples/videos",
            [folder / r["file"] for r in records],
            [f"{r['prompt']}, epoch {trainer.current_epoch}" for r in records],
            self.settings.fps,
            step=trainer.global_step,
        )
        log.info(f"epoch {trainer.current_epoch} samples: {grid}")
