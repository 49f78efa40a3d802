import logging
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import BasePredictionWriter
from lightning.pytorch.loggers import WandbLogger

from genlab.generation.image_grid import file_stem, labelled_grid, save_png
from genlab.generation.image_writer import log_images, rows_by_prompt
from genlab.generation.requests import GenerationRequest
from genlab.generation.text_writer import write_jsonl
from genlab.generation.video_files import frame_strip, write_video
from genlab.generation.video_settings import VideoGenerationSettings

log = logging.getLogger("genlab")

_MAX_WANDB_VIDEOS = 32


def log_videos(
    trainer: L.Trainer, key: str, files: list[Path], captions: list[str], fps: int, step: int | None = None
) -> None:
    """The clip files as ``wandb.Video`` (W&B reads the files genlab wrote: no second encoder needed)."""
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger):
            logger.log_video(
                key=key,
                videos=[str(f) for f in files],
                step=step,
                caption=captions,
                fps=[fps] * len(files),
                format=[f.suffix[1:] for f in files],
            )


def write_clips(
    requests: list[GenerationRequest],
    clips: torch.Tensor,
    settings: VideoGenerationSettings,
    folder: Path,
    root: Path,
    grid: Path,
) -> list[dict]:
    """Each clip [C, F, H, W] as a video file and a first/middle/last PNG strip under ``folder``, and ``grid``: the
    strips, a row per prompt. Returns the clips' records (paths relative to ``root``)."""
    records = []
    for request, clip in zip(requests, clips):
        stem = folder / file_stem(request.prompt, request.sample, request.index)
        video = write_video(clip, stem, settings.fps, settings.format)
        strip = stem.with_suffix(".png")
        save_png(frame_strip(clip), strip)
        records.append(
            {
                "prompt": request.prompt,
                "label": request.label,
                "sample": request.sample,
                "seed": request.seed,
                "file": str(video.relative_to(root)),
                "strip": str(strip.relative_to(root)),
                "frames": clip.shape[1],
                "fps": settings.fps,
            }
        )
    labelled_grid(rows_by_prompt(requests, torch.stack([frame_strip(c) for c in clips]))).save(grid)
    return records


class VideoGenerationWriter(BasePredictionWriter):
    """Writes every generated clip to ``videos/`` (MP4, or GIF without an encoder) with a PNG strip of its first,
    middle and last frames, ``grid.png`` (a row of strips per prompt) and ``generations.jsonl`` (prompt, class,
    sample, seed, files, frames, fps) in the run folder; logs the grid and the clips (``wandb.Video``) to W&B."""

    def __init__(self, output_dir: str, settings: VideoGenerationSettings):
        super().__init__(write_interval="epoch")
        self.output_dir = Path(output_dir)
        self.settings = settings
        self.path = self.output_dir / "generations.jsonl"
        self.grid_path = self.output_dir / "grid.png"

    def write_on_epoch_end(self, trainer, pl_module, predictions, batch_indices) -> None:
        if not trainer.is_global_zero:
            return
        requests = [r for batch in predictions for r in batch["requests"]]
        clips = torch.cat([batch["videos"] for batch in predictions])
        records = write_clips(
            requests, clips, self.settings, self.output_dir / "videos", self.output_dir, self.grid_path
        )
        write_jsonl(self.path, records)
        log_images(
            trainer,
            "generations/grid",
            [str(self.grid_path)],
            ["rows: " + ", ".join(dict.fromkeys(r.prompt for r in requests))],
        )
        shown = records[:_MAX_WANDB_VIDEOS]
        log_videos(
            trainer,
            "generations/videos",
            [self.output_dir / r["file"] for r in shown],
            [f"{r['prompt']} #{r['sample']} (seed {r['seed']})" for r in shown],
            self.settings.fps,
        )
        log.info(f"{len(records)} clips written to {self.output_dir / 'videos'}; strips: {self.grid_path}")
