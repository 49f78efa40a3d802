"""Images as files: tensors to PNGs, and labelled grids (one row per prompt) that people would rather see."""

import math
import re
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont

_LABEL_WIDTH = 110
_MIN_TILE = 64


def to_pil(image: torch.Tensor) -> Image.Image:
    """A [C, H, W] tensor in [0, 1] (1 or 3 channels) as an 8-bit image."""
    array = (image.detach().float().clamp(0, 1) * 255).round().byte().cpu()
    if array.shape[0] == 1:
        return Image.fromarray(array[0].numpy(), mode="L")
    return Image.fromarray(array.permute(1, 2, 0).numpy(), mode="RGB")


def labelled_grid(rows: list[tuple[str, list[torch.Tensor]]]) -> Image.Image:
    """One row per (label, images); small images are scaled up (nearest) so a 28×28 sample, or a strip of 8×8
    frames, stays legible."""
    height, width = rows[0][1][0].shape[-2:]
    scale = max(1, math.ceil(_MIN_TILE / min(height, width)))
    tile_h, tile_w, pad = height * scale, width * scale, 2
    columns = max(len(images) for _, images in rows)
    grid = Image.new("RGB", (_LABEL_WIDTH + columns * (tile_w + pad), len(rows) * (tile_h + pad)), "white")
    draw, font = ImageDraw.Draw(grid), ImageFont.load_default()
    for r, (label, images) in enumerate(rows):
        top = r * (tile_h + pad)
        draw.text((4, top + tile_h // 2 - 6), label[:18], fill="black", font=font)
        for c, image in enumerate(images):
            tile = to_pil(image).convert("RGB").resize((tile_w, tile_h), Image.NEAREST)
            grid.paste(tile, (_LABEL_WIDTH + c * (tile_w + pad), top))
    return grid


def file_stem(prompt: str, sample: int, index: int) -> str:
    """A safe, unique file name for a sample: prompts become slugs, prefixed by their position."""
    slug = re.sub(r"[^a-z0-9]+", "-", prompt.lower()).strip("-")[:40] or "image"
    return f"{index:03d}_{slug}_{sample}"


def save_png(image: torch.Tensor, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    to_pil(image).save(path)
