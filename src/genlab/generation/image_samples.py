import dataclasses
import logging
from pathlib import Path

import lightning as L
from lightning.pytorch.loggers import WandbLogger

from genlab.core.protocols import LabelledData, SpectrogramGenerator, VideoGenerator
from genlab.errors import ConfigError
from genlab.generation.audio_writer import log_audio
from genlab.generation.image_grid import labelled_grid
from genlab.generation.image_settings import ImageGenerationSettings
from genlab.generation.image_writer import log_images, rows_by_prompt
from genlab.generation.requests import class_requests

log = logging.getLogger("genlab")


class ImageSamples(L.Callback):
    """Every ``settings.every_n_epochs`` epochs, a grid of ``samples_per_class`` images per prompt (every class when
    generation.prompts is null) from the model in hand: ``samples/epoch_<n>.png`` in the run folder and a W&B image,
    so the samples can be watched improving (spectrogram models also log each prompt's first sample as W&B audio).
    Fixed seeds: the same noise every time."""

    def __init__(self, settings: ImageGenerationSettings, output_dir: str):
        self.settings = dataclasses.replace(settings, n_per_prompt=settings.samples_per_class)
        self.folder = Path(output_dir) / "samples"

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if isinstance(pl_module, VideoGenerator):
            raise ConfigError(
                "callbacks.image_samples: this model makes clips; use callbacks=[default,video_samples] instead"
            )

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or (trainer.current_epoch + 1) % self.settings.every_n_epochs:
            return
        class_names = trainer.datamodule.class_names if isinstance(trainer.datamodule, LabelledData) else None
        requests = class_requests(self.settings, class_names, pl_module.num_classes)
        images = pl_module.generate(requests, self.settings).cpu()
        if not trainer.is_global_zero:
            return
        grid = labelled_grid(rows_by_prompt(requests, images))
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"epoch_{trainer.current_epoch:03d}.png"
        grid.save(path)
        log_images(trainer, "samples", [grid], [f"epoch {trainer.current_epoch}"], step=trainer.global_step)
        if isinstance(pl_module, SpectrogramGenerator) and any(isinstance(lg, WandbLogger) for lg in trainer.loggers):
            # spectrogram models: the first sample of each prompt as audio too (Griffin-Lim is the slow part)
            first = [i for i, r in enumerate(requests) if r.sample == 0]
            waves = pl_module.waveforms(images[first])
            log_audio(
                trainer,
                "samples/audio",
                list(waves.numpy()),
                pl_module.sample_rate,
                [f"{requests[i].prompt}, epoch {trainer.current_epoch}" for i in first],
                step=trainer.global_step,
            )
        log.info(f"epoch {trainer.current_epoch} samples: {path}")
