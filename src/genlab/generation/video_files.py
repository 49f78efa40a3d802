"""Clips as files: MP4 through PyAV (FFmpeg's libraries) when it is installed, GIF through Pillow otherwise, a
strip of the first, middle and last frames as PNG; and reading clips back (GIF, MP4/WebM/AVI, frame folders)."""

import logging
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from genlab.errors import DataError
from genlab.generation.image_grid import to_pil

log = logging.getLogger("genlab")

_MIN_SIDE = 128  # small clips are scaled up (nearest) so a 16×16 clip can be watched
_warned_no_encoder = False


def mp4_encoder() -> str | None:
    """The H.264 encoder PyAV offers here, or None (PyAV missing or built without one)."""
    try:
        import av
    except ImportError:
        return None
    return next((name for name in ("libx264", "h264", "libopenh264") if name in av.codecs_available), None)


def _frames_uint8(clip: torch.Tensor) -> np.ndarray:
    """[C, F, H, W] in [0, 1] as [F, H', W', 3] uint8, scaled up to at least _MIN_SIDE and to even sides (H.264's
    4:2:0 colour needs them)."""
    frames = [to_pil(clip[:, t]).convert("RGB") for t in range(clip.shape[1])]
    height, width = clip.shape[-2:]
    scale = max(1, math.ceil(_MIN_SIDE / max(height, width)))
    size = (width * scale + (width * scale) % 2, height * scale + (height * scale) % 2)
    return np.stack([np.asarray(f.resize(size, Image.NEAREST)) for f in frames])


def write_video(clip: torch.Tensor, stem: Path, fps: int, format: str = "mp4") -> Path:
    """Writes a clip [C, F, H, W] in [0, 1] as ``stem.mp4`` (or ``stem.gif`` when no MP4 encoder is installed,
    said once a process) and returns the file."""
    global _warned_no_encoder
    stem.parent.mkdir(parents=True, exist_ok=True)
    frames = _frames_uint8(clip)
    encoder = mp4_encoder() if format == "mp4" else None
    if format == "mp4" and encoder is None and not _warned_no_encoder:
        log.warning("no MP4 encoder (pip install av): writing the clips as GIF instead")
        _warned_no_encoder = True
    if encoder is None:
        path = stem.with_suffix(".gif")
        images = [Image.fromarray(f) for f in frames]
        images[0].save(path, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0)
        return path
    import av

    path = stem.with_suffix(".mp4")
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(encoder, rate=fps)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "18"}  # near-lossless: tiny clips, where compression artefacts show
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def frame_strip(clip: torch.Tensor) -> torch.Tensor:
    """The first, middle and last frames of a clip [C, F, H, W] side by side, [C, H, 3W + 2] (a 1-pixel gap)."""
    frames = clip.shape[1]
    picks = [clip[:, t] for t in sorted({0, frames // 2, frames - 1})]
    gap = torch.ones(clip.shape[0], clip.shape[2], 1)
    parts = [p for frame in picks for p in (frame, gap)][:-1]
    return torch.cat(parts, dim=-1)


VIDEO_SUFFIXES = (".gif", ".mp4", ".webm", ".avi", ".mov", ".mkv")
FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def read_video(path: Path) -> np.ndarray:
    """A clip file or a folder of frame images (in name order) as [F, H, W, 3] uint8. Unreadable: DataError."""
    try:
        if path.is_dir():
            files = sorted(f for f in path.iterdir() if f.suffix.lower() in FRAME_SUFFIXES)
            if not files:
                raise DataError(f"{path}: a frame folder without images ({', '.join(FRAME_SUFFIXES)})")
            return np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])
        if path.suffix.lower() == ".gif":
            from PIL import ImageSequence

            with Image.open(path) as gif:
                return np.stack([np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(gif)])
        try:
            import av
        except ImportError:
            raise DataError(
                f"{path}: reading {path.suffix} clips needs PyAV (pip install av); GIFs and frame folders need nothing"
            ) from None
        with av.open(str(path)) as container:
            frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
        if not frames:
            raise DataError(f"{path}: no video frames in the file")
        return np.stack(frames)
    except DataError:
        raise
    except (OSError, ValueError) as e:
        raise DataError(
            f"{path}: not a readable clip ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'no detail'})"
        ) from None
