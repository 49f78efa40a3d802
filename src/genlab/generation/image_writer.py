import logging
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import BasePredictionWriter
from lightning.pytorch.loggers import WandbLogger

from genlab.generation.image_grid import file_stem, labelled_grid, save_png, to_pil
from genlab.generation.requests import GenerationRequest
from genlab.generation.text_writer import write_jsonl

log = logging.getLogger("genlab")

_MAX_WANDB_IMAGES = 64


def rows_by_prompt(requests: list[GenerationRequest], images: torch.Tensor) -> list[tuple[str, list[torch.Tensor]]]:
    """(prompt, its images) in prompt order, one row per position in the prompt list."""
    rows: dict[int, tuple[str, list[torch.Tensor]]] = {}
    for request, image in zip(requests, images):
        rows.setdefault(request.index, (request.prompt, []))[1].append(image)
    return list(rows.values())


def log_images(trainer: L.Trainer, key: str, images: list, captions: list[str], step: int | None = None) -> None:
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger):
            logger.log_image(key=key, images=images, caption=captions, step=step)


class ImageGenerationWriter(BasePredictionWriter):
    """Writes every generated image to ``images/``, a labelled ``grid.png`` (a row per prompt), and
    ``generations.jsonl`` (prompt, class, sample, seed, file) in the run folder; logs the grid and the images to W&B."""

    def __init__(self, output_dir: str):
        super().__init__(write_interval="epoch")
        self.output_dir = Path(output_dir)
        self.path = self.output_dir / "generations.jsonl"
        self.grid_path = self.output_dir / "grid.png"

    def write_on_epoch_end(self, trainer, pl_module, predictions, batch_indices) -> None:
        if not trainer.is_global_zero:
            return
        requests = [r for batch in predictions for r in batch["requests"]]
        images = torch.cat([batch["images"] for batch in predictions])
        records = []
        for request, image in zip(requests, images):
            file = Path("images") / f"{file_stem(request.prompt, request.sample, request.index)}.png"
            save_png(image, self.output_dir / file)
            records.append(
                {
                    "prompt": request.prompt,
                    "label": request.label,
                    "sample": request.sample,
                    "seed": request.seed,
                    "file": str(file),
                }
            )
        write_jsonl(self.path, records)
        rows = rows_by_prompt(requests, images)
        grid = labelled_grid(rows)
        grid.save(self.grid_path)
        log_images(trainer, "generations/grid", [grid], ["rows: " + ", ".join(prompt for prompt, _ in rows)])
        shown = list(zip(requests, images))[:_MAX_WANDB_IMAGES]
        log_images(
            trainer,
            "generations/images",
            [to_pil(img) for _, img in shown],
            [f"{r.prompt} #{r.sample} (seed {r.seed})" for r, _ in shown],
        )
        log.info(f"{len(records)} images written to {self.output_dir / 'images'}; grid: {self.grid_path}")
