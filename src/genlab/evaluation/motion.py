"""Which way an object moves in a clip, from its centroid's track: the judge of a video model's directions."""

import torch

from genlab.data.moving_objects import DIRECTIONS


def centroid_track(clip: torch.Tensor, floor: float = 0.2) -> torch.Tensor:
    """[F, 2] (row, column) of the brightness-weighted centre of each frame of a clip [C, F, H, W] in [0, 1] on a
    dark background; pixels under ``floor`` (the sampler's leftover noise) weigh nothing."""
    frames = clip.float().mean(0)
    weights = torch.where(frames > floor, frames, torch.zeros_like(frames))
    rows = torch.arange(frames.shape[1], dtype=torch.float32)[:, None]
    columns = torch.arange(frames.shape[2], dtype=torch.float32)[None, :]
    total = weights.sum((1, 2)).clamp(min=1e-6)
    return torch.stack([(weights * rows).sum((1, 2)) / total, (weights * columns).sum((1, 2)) / total], dim=1)


def motion_direction(clip: torch.Tensor, directions: list[str], min_speed: float) -> str | None:
    """The one of ``directions`` closest to the centroid's mean velocity (least-squares slope over the frames), or
    None when it moves less than ``min_speed`` pixels a frame."""
    track = centroid_track(clip)
    t = torch.arange(len(track), dtype=torch.float32)
    t = t - t.mean()
    velocity = (t[:, None] * (track - track.mean(0))).sum(0) / (t * t).sum()
    if velocity.norm() < min_speed:
        return None
    units = torch.nn.functional.normalize(torch.tensor([DIRECTIONS[d] for d in directions], dtype=torch.float32), dim=1)
    return directions[int((units @ velocity).argmax())]
