"""Short clips of one object (a digit or a Fashion-MNIST item) moving across a blank canvas in one direction.

A video dataset that needs no download: it is drawn from image data genlab already has. A clip's class is the
pair (object class, direction), named ``"<object>:<direction>"`` (``7:up``, ``Sneaker:left``), so a class-
conditional video model is asked for both at once. The objects are split before any clip is drawn: the val and
test clips show items (individual images) that no training clip shows.
"""

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from genlab.data.image_classification import ImageClassificationDataModule
from genlab.errors import ConfigError

# (rows, columns) a step: up is towards row 0
DIRECTIONS: dict[str, tuple[int, int]] = {
    "left": (0, -1),
    "right": (0, 1),
    "up": (-1, 0),
    "down": (1, 0),
    "up_left": (-1, -1),
    "up_right": (-1, 1),
    "down_left": (1, -1),
    "down_right": (1, 1),
}
SOURCES = ("digits", "fashion_mnist")
EDGES = ("bounce", "wrap")


def source_class_names(source: str) -> tuple[str, ...]:
    if source == "digits":
        return tuple(str(d) for d in range(10))
    if source == "fashion_mnist":
        from genlab.data.fashion_mnist import FashionMNISTDataModule

        return FashionMNISTDataModule.class_names
    raise ConfigError(f"data.source={source!r}: use one of {', '.join(SOURCES)}")


def clip_class_count(source: str, directions: Sequence[str]) -> int:
    """A clip's classes: every (object class, direction) pair."""
    return len(source_class_names(source)) * len(directions)


def clip_class_factors(source: str, directions: Sequence[str]) -> list[int]:
    """[object classes, directions]: a clip's class is object * len(directions) + direction."""
    return [len(source_class_names(source)), len(directions)]


def clip_class_names(object_names: Sequence[str], directions: Sequence[str]) -> tuple[str, ...]:
    """Class ``object * len(directions) + direction`` is named ``"<object>:<direction>"``."""
    return tuple(f"{name}:{direction}" for name in object_names for direction in directions)


def _read_objects(
    source: str, fashion_root: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(train images [N, h, w] in [0, 1], labels, test images, test labels); digits have no test files."""
    if source == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        return (digits.images / 16.0).astype(np.float32), digits.target.astype(np.int64), None, None
    from genlab.data.fashion_mnist import FashionMNISTDataModule

    x_train, y_train, x_test, y_test = FashionMNISTDataModule(
        root=fashion_root, input_shape=[1, 28, 28], num_classes=10
    ).load_arrays()
    assert x_test is not None and y_test is not None  # Fashion-MNIST has its test files
    pixels = (x_train[:, 0], x_test[:, 0])  # uint8
    return pixels[0] / np.float32(255), y_train.astype(np.int64), pixels[1] / np.float32(255), y_test.astype(np.int64)


def _resize(images: np.ndarray, size: int | None) -> np.ndarray:
    if size is None or size == images.shape[-1]:
        return images
    import torch
    import torch.nn.functional as F

    resized = F.interpolate(torch.from_numpy(images)[:, None], size=(size, size), mode="area")
    return resized[:, 0].numpy()


def _start(rng: np.random.Generator, step: int, travel: int, room: int) -> int:
    """Where an object starts along one axis: so that its whole track fits when it can."""
    if step == 0 or travel > room:
        return int(rng.integers(0, room + 1))
    return int(rng.integers(0, room - travel + 1)) if step > 0 else int(rng.integers(travel, room + 1))


def _position(start: int, moved: int, room: int, size: int, edge: str) -> int:
    if edge == "wrap":
        return (start + moved) % size
    if room == 0:
        return 0
    p = (start + moved) % (2 * room)  # bounce: the track folded back at both edges
    return p if p <= room else 2 * room - p


def render_clips(
    objects: np.ndarray,
    directions: np.ndarray,
    frames: int,
    size: int,
    speed: int,
    edge: str,
    rng: np.random.Generator,
    steps: Sequence[tuple[int, int]],
) -> np.ndarray:
    """[N, frames, size, size] clips of object i moving ``speed`` pixels a frame along ``steps[directions[i]]``.
    An object that reaches an edge bounces off it or wraps around to the other side (``edge``)."""
    n, height, width = objects.shape
    clips = np.zeros((n, frames, size, size), dtype=np.float32)
    room_y, room_x = size - height, size - width
    travel = speed * (frames - 1)
    for i in range(n):
        dy, dx = steps[directions[i]]
        y0, x0 = _start(rng, dy, travel, room_y), _start(rng, dx, travel, room_x)
        canvas = np.zeros((size, size), dtype=np.float32)
        canvas[:height, :width] = objects[i]
        for t in range(frames):
            y = _position(y0, dy * speed * t, room_y, size, edge)
            x = _position(x0, dx * speed * t, room_x, size, edge)
            clips[i, t] = np.roll(canvas, (y, x), axis=(0, 1))
    return clips


class MovingObjectsDataModule(ImageClassificationDataModule):
    """Clips [1, frames, size, size] of a ``source`` object (sklearn's 8×8 digits or Fashion-MNIST items, resized
    to ``object_size``) moving ``speed`` pixels a frame in one of ``directions``; class = (object, direction).

    Each training object appears in ``clips_per_object`` clips, each with a direction and start drawn from
    ``split_seed``; val and test objects in one clip each. Digits are split into train/val/test objects by
    ``val_size``/``test_size`` (shares); Fashion-MNIST's test clips come from its test file. ``max_objects`` caps
    the training objects. The clips are drawn once and cached in ``cache_dir`` (the same parameters, the same
    clips).
    """

    def __init__(
        self,
        cache_dir: str,
        source: str = "digits",
        frames: int = 8,
        size: int = 16,
        object_size: int | None = None,
        directions: Sequence[str] = ("left", "right", "up", "down"),
        speed: int = 1,
        edge: str = "bounce",
        clips_per_object: int = 4,
        max_objects: int | None = None,
        val_size: float = 0.1,
        test_size: float = 0.1,
        fashion_root: str = "/usr/share/datasets/fashion-mnist",
        input_shape: Sequence[int] | None = None,
        num_classes: int | None = None,
        class_factors: Sequence[int] | None = None,
        batch_size: int = 32,
        split_seed: int = 0,
        mean: float | Sequence[float] | None = None,
        std: float | Sequence[float] | None = None,
        num_workers: int = 0,
    ):
        object_names = source_class_names(source)
        directions = [str(d) for d in directions]
        unknown = [d for d in directions if d not in DIRECTIONS]
        if unknown or not directions or len(set(directions)) != len(directions):
            raise ConfigError(
                f"data.directions={directions}: distinct names from {', '.join(DIRECTIONS)}"
                + (f" ({', '.join(unknown)} unknown)" if unknown else "")
            )
        if edge not in EDGES:
            raise ConfigError(f"data.edge={edge!r}: use one of {', '.join(EDGES)}")
        native = 8 if source == "digits" else 28
        object_size = object_size or native
        if frames < 2 or speed < 0 or clips_per_object < 1:
            raise ConfigError(
                f"data.frames={frames}, data.speed={speed}, data.clips_per_object={clips_per_object}: "
                "a clip needs at least 2 frames, speed >= 0 pixels a frame and at least one clip per object"
            )
        if size < object_size:
            raise ConfigError(
                f"data.size={size}: the canvas must be at least the object's size ({object_size} pixels; data.object_size)"
            )
        super().__init__(
            self._shape(frames, size),
            self._classes(object_names, directions),
            batch_size,
            val_size,
            split_seed,
            mean,
            std,
            num_workers,
        )
        derived = "leave it out: it follows from the other data settings"
        if input_shape is not None and list(input_shape) != list(self.input_shape):
            raise ConfigError(
                f"data.input_shape={list(input_shape)} but these clips are {list(self.input_shape)}; {derived}"
            )
        if num_classes is not None and num_classes != self.num_classes:
            raise ConfigError(
                f"data.num_classes={num_classes} but these clips have {self.num_classes} classes; {derived}"
            )
        self.cache_dir = Path(cache_dir)
        self.source, self.fashion_root = source, fashion_root
        self.frames, self.size, self.object_size = frames, size, object_size
        self.directions, self.speed, self.edge = directions, speed, edge
        self.clips_per_object, self.max_objects, self.test_size = clips_per_object, max_objects, test_size
        self.object_names = object_names
        self.class_names = clip_class_names(object_names, directions)

    @staticmethod
    def _shape(frames: int, size: int) -> tuple[int, ...]:
        return (1, frames, size, size)

    @staticmethod
    def _classes(object_names: Sequence[str], directions: Sequence[str]) -> int:
        return len(object_names) * len(directions)

    @staticmethod
    def _factors(object_names: Sequence[str], directions: Sequence[str]) -> list[int] | None:
        """What a class is made of (object, direction), for a model that embeds each on its own."""
        return [len(object_names), len(directions)]

    def object_of(self, label: int) -> int:
        return label // len(self.directions)

    def direction_of(self, label: int) -> str:
        return self.directions[label % len(self.directions)]

    def _parameters(self) -> dict:
        keys = ("source", "frames", "size", "object_size", "directions", "speed", "edge", "clips_per_object")
        return {k: getattr(self, k) for k in keys} | {
            "max_objects": self.max_objects,
            "val_size": self.val_size,
            "test_size": self.test_size,
            "split_seed": self.split_seed,
            "version": 1,
        }

    def clips(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Every split's (clips [N, 1, frames, size, size] in [0, 1], labels), drawn once and then read from the
        cache (an .npz of plain arrays: nothing in it runs code)."""
        key = hashlib.sha256(json.dumps(self._parameters(), sort_keys=True).encode()).hexdigest()[:16]
        path = self.cache_dir / f"moving_objects-{key}.npz"
        if path.is_file():
            with np.load(path, allow_pickle=False) as saved:
                return {
                    s: (saved[f"{s}_clips"].astype(np.float32) / 255.0, saved[f"{s}_labels"])
                    for s in ("train", "val", "test")
                }
        drawn = self._draw()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.npz")
        arrays = {}
        for split, (clips, labels) in drawn.items():
            arrays[f"{split}_clips"] = np.round(clips * 255).astype(np.uint8)
            arrays[f"{split}_labels"] = labels
        np.savez(partial, **cast(dict[str, Any], arrays))
        partial.replace(path)
        return {s: (arrays[f"{s}_clips"].astype(np.float32) / 255.0, arrays[f"{s}_labels"]) for s in drawn}

    def _objects(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The objects of each split: no item is in two splits."""
        x_train, y_train, x_test, y_test = _read_objects(self.source, self.fashion_root)
        rng = np.random.default_rng(self.split_seed)
        order = rng.permutation(len(x_train))
        n_val = _count(self.val_size, len(x_train), "data.val_size")
        n_test = 0 if x_test is not None else _count(self.test_size, len(x_train), "data.test_size")
        val, test, train = order[:n_val], order[n_val : n_val + n_test], order[n_val + n_test :]
        if self.max_objects:
            train = train[: self.max_objects]
        split = {"train": (x_train[train], y_train[train]), "val": (x_train[val], y_train[val])}
        split["test"] = (
            (x_test, y_test) if x_test is not None and y_test is not None else (x_train[test], y_train[test])
        )
        if x_test is not None and self.max_objects:
            split["test"] = (split["test"][0][: self.max_objects], split["test"][1][: self.max_objects])
        return {name: (_resize(images, self.object_size), labels) for name, (images, labels) in split.items()}

    def _draw(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        steps = [DIRECTIONS[d] for d in self.directions]
        drawn = {}
        for i, (split, (images, labels)) in enumerate(self._objects().items()):
            repeats = self.clips_per_object if split == "train" else 1
            rng = np.random.default_rng([self.split_seed, i])
            objects, classes = np.repeat(images, repeats, axis=0), np.repeat(labels, repeats)
            directions = rng.integers(0, len(steps), len(objects))
            clips = render_clips(objects, directions, self.frames, self.size, self.speed, self.edge, rng, steps)
            drawn[split] = (clips[:, None], classes * len(steps) + directions)
        return drawn

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        clips = self.clips()
        mean, std = self.normalization = self._stats(clips["train"][0])
        self.splits = {split: self._tensors(x, y, mean, std) for split, (x, y) in clips.items()}


class MovingObjectFramesDataModule(MovingObjectsDataModule):
    """The frames of ``MovingObjectsDataModule``'s clips as images [1, size, size], labelled with the object alone:
    what a frame classifier (the judge of generated clips) trains on."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.class_names = self.object_names

    @staticmethod
    def _shape(frames: int, size: int) -> tuple[int, ...]:
        return (1, size, size)

    @staticmethod
    def _classes(object_names: Sequence[str], directions: Sequence[str]) -> int:
        return len(object_names)

    @staticmethod
    def _factors(object_names: Sequence[str], directions: Sequence[str]) -> list[int] | None:
        return None  # the object alone

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        frames = {}
        for split, (x, y) in self.clips().items():
            flat = x.transpose(0, 2, 1, 3, 4).reshape(-1, 1, self.size, self.size)
            frames[split] = (flat, np.repeat(y // len(self.directions), self.frames))
        mean, std = self.normalization = self._stats(frames["train"][0])
        self.splits = {split: self._tensors(x, y, mean, std) for split, (x, y) in frames.items()}


def _count(share: float, total: int, key: str) -> int:
    count = round(share * total) if share < 1 else int(share)
    if not 0 < count < total:
        raise ConfigError(f"{key}={share}: leaves no objects for one of the splits ({total} objects)")
    return count
