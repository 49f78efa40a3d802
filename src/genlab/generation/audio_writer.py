import logging
from pathlib import Path

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import BasePredictionWriter
from lightning.pytorch.loggers import WandbLogger

from genlab.audio.plot import log_mel_db, save_spectrogram_png
from genlab.audio.wav import write_wav
from genlab.generation.image_grid import file_stem, labelled_grid
from genlab.generation.image_writer import log_images, rows_by_prompt
from genlab.generation.text_writer import write_jsonl

log = logging.getLogger("genlab")

_MAX_WANDB_AUDIO = 32


def log_audio(
    trainer: L.Trainer,
    key: str,
    waves: list[np.ndarray],
    sample_rate: int,
    captions: list[str],
    step: int | None = None,
) -> None:
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger):
            logger.log_audio(key=key, audios=waves, step=step, sample_rate=[sample_rate] * len(waves), caption=captions)


def _spectrogram_image(prediction_spectrogram: torch.Tensor | None, wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """What the model drew when it drew a spectrogram ([1, H, W] in [0, 1]), else the audio's log-mel."""
    if prediction_spectrogram is not None:
        return prediction_spectrogram[0].numpy()
    return log_mel_db(wave, sample_rate)


class AudioGenerationWriter(BasePredictionWriter):
    """Writes each generated clip as ``audio/<stem>.wav`` (16-bit, the model's rate) with its spectrogram
    ``audio/<stem>.png``, ``generations.jsonl`` (prompt, class, sample, seed, files, rate, seconds) and, for
    spectrogram models, ``spectrograms.png`` (a row per prompt); logs the clips to W&B as ``wandb.Audio``."""

    def __init__(self, output_dir: str):
        super().__init__(write_interval="epoch")
        self.output_dir = Path(output_dir)
        self.path = self.output_dir / "generations.jsonl"
        self.grid_path = self.output_dir / "spectrograms.png"

    def write_on_epoch_end(self, trainer, pl_module, predictions, batch_indices) -> None:
        if not trainer.is_global_zero:
            return
        requests = [r for batch in predictions for r in batch["requests"]]
        waves = [w.numpy() for batch in predictions for w in batch["audio"]]
        rate = predictions[0]["sample_rate"]
        spectrograms = (
            [s for batch in predictions for s in batch["spectrograms"]] if "spectrograms" in predictions[0] else None
        )
        records = []
        for i, (request, wave) in enumerate(zip(requests, waves)):
            stem = Path("audio") / file_stem(request.prompt, request.sample, request.index)
            write_wav(self.output_dir / stem.with_suffix(".wav"), wave, rate)
            image = _spectrogram_image(spectrograms[i] if spectrograms else None, wave, rate)
            save_spectrogram_png(
                image,
                self.output_dir / stem.with_suffix(".png"),
                len(wave) / rate,
                rate,
                f"{request.prompt} #{request.sample}",
            )
            records.append(
                {
                    "prompt": request.prompt,
                    "label": request.label,
                    "sample": request.sample,
                    "seed": request.seed,
                    "file": str(stem.with_suffix(".wav")),
                    "spectrogram": str(stem.with_suffix(".png")),
                    "sample_rate": rate,
                    "seconds": len(wave) / rate,
                }
            )
        write_jsonl(self.path, records)
        if spectrograms:
            rows = rows_by_prompt(requests, torch.stack(spectrograms))
            grid = labelled_grid(rows)
            grid.save(self.grid_path)
            log_images(trainer, "generations/spectrograms", [grid], ["rows: " + ", ".join(p for p, _ in rows)])
        shown = list(zip(requests, waves))[:_MAX_WANDB_AUDIO]
        log_audio(
            trainer,
            "generations/audio",
            [w for _, w in shown],
            rate,
            [f"{r.prompt} #{r.sample} (seed {r.seed})" for r, _ in shown],
        )
        log.info(f"{len(records)} clips written to {self.output_dir / 'audio'} ({rate} Hz)")
