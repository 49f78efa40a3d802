from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genlab.data.file_folders import ALL, LabelledFolder
from genlab.data.image_classification import ImageClassificationDataModule
from genlab.data.splits import held_out_counts
from genlab.data.trained_classes import trained_indices
from genlab.errors import DataError


class FolderDataModule(ImageClassificationDataModule):
    """A classification data module over a folder of the user's files (genlab.data.file_folders for the layouts):
    subclasses read the files to inputs (``read_inputs``); the splits, checks and normalization are here.

    Split folders are used as they are; for each one missing, ``val_size`` and ``test_size`` are drawn at random
    from the training files (``split_seed``), or, where files belong to groups (``group_of``: the speaker of a
    recording), whole groups at a time, so that no group is in two splits.
    """

    def __init__(self, scan: Callable[[], LabelledFolder], test_size: float = 0.1, **kwargs: Any):
        super().__init__(**kwargs)
        self._scan, self.test_size = scan, test_size
        self._folder: LabelledFolder | None = None
        self.trained_classes: tuple[str, ...] | None = None

    @property
    def folder(self) -> LabelledFolder:
        """The folder's layout, scanned when first needed: a run that only generates from trained weights (which
        know their classes) never reads it."""
        if self._folder is None:
            self._folder = self._scan()
        return self._folder

    def use_trained_classes(self, names: Sequence[str]) -> None:
        self.trained_classes = self.class_names = tuple(names)

    def read_inputs(self, paths: Sequence[Path]) -> tuple[np.ndarray, list[int]]:
        """Inputs [N, *input_shape] float32 (before normalization) and the indices of the files read."""
        raise NotImplementedError

    def group_of(self, path: Path) -> str | None:
        """The group a file belongs to, whose files stay in one split (None: files are split one by one)."""
        return None

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        folder = self.folder
        if self.trained_classes is None:
            self.class_names = folder.class_names
            index = list(range(len(folder.class_names)))
        else:
            index = trained_indices(folder.class_names, self.trained_classes, f"data.root={folder.root}")
        files = [(part, path, index[label]) for part, pairs in folder.parts.items() for path, label in pairs]
        inputs, kept = self.read_inputs([path for _, path, _ in files])
        labels = np.asarray([files[i][2] for i in kept], dtype=np.int64)
        paths = [files[i][1] for i in kept]
        part_of = np.asarray([files[i][0] for i in kept])
        self._check(inputs, labels)
        indices = {part: np.flatnonzero(part_of == part) for part in folder.parts}
        if self.trained_classes is not None:
            # trained weights evaluated: nothing trains, so test/ (if there is one) or else every file is the test
            # split, normalized as the weights were trained (data.mean and data.std of their run) when known
            test = indices["test"] if "test" in indices else np.arange(len(labels))
            mean, std = self.normalization = self._stats(inputs[test])
            self.splits = {"test": self._tensors(inputs[test], labels[test], mean, std)}
            return
        pool = indices.pop("train") if "train" in indices else indices.pop(ALL)
        missing = [split for split in ("val", "test") if split not in indices]
        for split, chosen in self._held_out(pool, [paths[i] for i in pool], missing).items():
            indices[split] = chosen
            pool = np.setdiff1d(pool, chosen)
        indices["train"] = pool
        self._check_every_class_trains(labels[pool])
        mean, std = self.normalization = self._stats(inputs[pool])
        self.splits = {split: self._tensors(inputs[idx], labels[idx], mean, std) for split, idx in indices.items()}

    def _held_out(self, pool: np.ndarray, paths: list[Path], splits: list[str]) -> dict[str, np.ndarray]:
        """The files of ``pool`` that the missing split folders take."""
        if not splits:
            return {}
        sizes = {f"data.{split}_size": getattr(self, f"{split}_size") for split in splits}
        generator = torch.Generator().manual_seed(self.split_seed)
        groups = [self.group_of(p) for p in paths]
        if groups and groups[0] is not None:
            names = sorted({str(g) for g in groups})
            names = [names[i] for i in torch.randperm(len(names), generator=generator).tolist()]
            counts = held_out_counts(len(names), sizes, f"the groups (speakers) of {self.folder.root}")
            starts = np.cumsum([0, *counts])
            member = np.asarray(groups)
            return {split: pool[np.isin(member, names[starts[i] : starts[i + 1]])] for i, split in enumerate(splits)}
        order = pool[torch.randperm(len(pool), generator=generator).numpy()]
        starts = np.cumsum([0, *held_out_counts(len(pool), sizes, f"the files of {self.folder.root}")])
        return {split: order[starts[i] : starts[i + 1]] for i, split in enumerate(splits)}

    def _check_every_class_trains(self, labels: np.ndarray) -> None:
        counts = np.bincount(labels, minlength=len(self.class_names))
        empty = [name for name, n in zip(self.class_names, counts) if n == 0]
        if empty:
            raise DataError(
                f"data.root={self.folder.root}: class {', '.join(repr(name) for name in empty)} has no files left "
                f"in the training split; add files or lower data.val_size and data.test_size"
            )
