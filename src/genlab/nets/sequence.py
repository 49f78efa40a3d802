"""How the sequence models read an image: row by row, or as a grid of patches."""

import math
from collections.abc import Sequence

import torch


def sequence_feature_size(input_shape: Sequence[int], patch_size: int | None = None) -> tuple[int, int]:
    """(sequence length, features per step) of an input: a [T, F] sequence, or a [C, H, W] image read by rows or patches."""
    if len(input_shape) == 2:
        return input_shape[0], input_shape[1]
    if len(input_shape) != 3:
        raise ValueError(
            f"expected a [steps, features] sequence or a [channels, height, width] image, got {list(input_shape)}"
        )
    channels, height, width = input_shape
    if patch_size is None:
        return height, channels * width
    if height % patch_size or width % patch_size:
        divisors = [d for d in range(1, math.gcd(height, width) + 1) if math.gcd(height, width) % d == 0]
        raise ValueError(f"patch_size={patch_size} does not divide a {height}×{width} image; choose one of {divisors}")
    return (height // patch_size) * (width // patch_size), channels * patch_size * patch_size


def image_to_sequence(x: torch.Tensor, patch_size: int | None = None) -> torch.Tensor:
    """[B, C, H, W] → [B, T, F]; a [B, T, F] batch passes through unchanged."""
    if x.dim() == 3:
        return x
    b, c, h, w = x.shape
    if patch_size is None:
        return x.permute(0, 2, 1, 3).reshape(b, h, c * w)
    p = patch_size
    patches = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
    return patches.reshape(b, (h // p) * (w // p), c * p * p)
