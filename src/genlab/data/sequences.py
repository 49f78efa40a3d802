import dataclasses
from typing import Any, Literal

import numpy as np
import torch

from genlab.data.in_memory import InMemoryDataModule, InMemoryDataset
from genlab.data.sequence_files import SequenceFile, Sequences
from genlab.data.splits import held_out_counts, random_splits
from genlab.errors import ConfigError, DataError

Normalization = Literal["global", "per_series", "none"]


class SequencesDataModule(InMemoryDataModule):
    """The user's time series (``source``: genlab.data.sequence_files) for sequence classification or forecasting.

    Without ``horizon``, each series is one example [T, F] with its class (the source's label column): the series
    are split at random (``val_size``, ``test_size``, ``split_seed``), or, with ``test_path`` (a file read like
    the source: the UCR archive's ``_TEST`` file), that file is the test split and validation comes from the rest. With ``horizon``, every series is cut in
    time into train, val and test stretches (its last ``test_size`` share is the test stretch, the ``val_size``
    share before it validation), and each stretch into sliding windows of ``context_length`` steps (the input)
    followed by ``horizon`` steps (the target), ``stride`` steps apart.

    ``normalize``: ``global`` (each feature's mean and std over the training data), ``per_series`` (each series by
    its own, from its training stretch when forecasting) or ``none``.
    """

    def __init__(
        self,
        source: SequenceFile,
        input_shape: list[int],
        num_classes: int,
        test_path: str | None = None,
        horizon: int | None = None,
        context_length: int | None = None,
        stride: int = 1,
        normalize: Normalization = "global",
        batch_size: int = 32,
        val_size: float = 0.1,
        test_size: float = 0.1,
        split_seed: int = 0,
        num_workers: int = 0,
    ):
        super().__init__()
        if normalize not in ("global", "per_series", "none"):
            raise ConfigError(f"data.normalize={normalize!r}: use global, per_series or none")
        if horizon is not None and context_length is None:
            raise ConfigError("data.horizon is set but data.context_length is not; set how many steps the model sees")
        if horizon is not None and test_path is not None:
            raise ConfigError("data.test_path is for classification; a forecast's test stretch is each series' end")
        self.source, self.horizon, self.context_length, self.stride = source, horizon, context_length, stride
        self.test_source = None if test_path is None else dataclasses.replace(source, path=test_path)
        self.input_shape, self.num_classes = tuple(input_shape), num_classes
        self.normalize, self.batch_size, self.num_workers = normalize, batch_size, num_workers
        self.val_size, self.test_size, self.split_seed = val_size, test_size, split_seed
        self.class_names: tuple[str, ...] = ()

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        data = self.source.read()
        self.class_names = data.class_names
        if self.horizon is None:
            self.splits = self._classification(data.values, data.labels, self._test_split(data))
        else:
            self.splits = self._forecasting(data.values)

    def _test_split(self, data: Sequences) -> Sequences | None:
        """The series of ``test_path``, labelled by the source's class names, or None."""
        if self.test_source is None:
            return None
        test = self.test_source.read()
        if test.labels is None:
            raise DataError(
                f"data.test_path={self.test_source.path}: its series have no labels; the test split needs them"
            )
        if test.values.shape[1:] != data.values.shape[1:]:
            raise DataError(
                f"data.test_path={self.test_source.path}: series of {list(test.values.shape[1:])} [steps, features], "
                f"the source's are {list(data.values.shape[1:])}; set data.source.length for both"
            )
        unknown = sorted(set(test.class_names) - set(data.class_names))
        if unknown:
            raise DataError(
                f"data.test_path={self.test_source.path}: classes the source has not ({', '.join(unknown)})"
            )
        index = [data.class_names.index(name) for name in test.class_names]
        return Sequences(test.values, np.asarray(index)[test.labels], data.class_names)

    def _classification(
        self, values: np.ndarray, labels: np.ndarray | None, test: Sequences | None
    ) -> dict[str, InMemoryDataset]:
        if labels is None:
            raise _no_labels(self.source)
        if test is not None:  # the test series come from their own file: val from the source
            order = torch.randperm(len(values), generator=torch.Generator().manual_seed(self.split_seed)).tolist()
            (n_val,) = held_out_counts(len(values), {"data.val_size": self.val_size}, "the series")
            values, labels = np.concatenate([values, test.values]), np.concatenate([labels, test.labels])
            index = {"val": order[:n_val], "test": list(range(len(order), len(values))), "train": order[n_val:]}
        else:
            index = random_splits(len(values), self.val_size, self.test_size, self.split_seed, "the series")
        if self.normalize == "per_series":
            values = (values - values.mean(axis=1, keepdims=True)) / (values.std(axis=1, keepdims=True) + 1e-8)
        elif self.normalize == "global":
            train = values[index["train"]]
            values = (values - train.mean(axis=(0, 1))) / (train.std(axis=(0, 1)) + 1e-8)
        return {
            split: InMemoryDataset(torch.from_numpy(values[idx]), torch.from_numpy(labels[idx].astype(np.int64)))
            for split, idx in index.items()
        }

    def _forecasting(self, values: np.ndarray) -> dict[str, InMemoryDataset]:
        assert self.horizon is not None and self.context_length is not None
        steps = values.shape[1]
        n_val, n_test = held_out_counts(
            steps, {"data.val_size": self.val_size, "data.test_size": self.test_size}, "each series' time steps"
        )
        bounds = {"train": (0, steps - n_val - n_test), "val": (steps - n_val - n_test, steps - n_test)}
        bounds["test"] = (steps - n_test, steps)
        train = values[:, : bounds["train"][1]]
        if self.normalize == "per_series":
            mean, std = train.mean(axis=1, keepdims=True), train.std(axis=1, keepdims=True) + 1e-8
        elif self.normalize == "global":
            mean, std = train.mean(axis=(0, 1)), train.std(axis=(0, 1)) + 1e-8
        else:
            mean, std = np.zeros(1, np.float32), np.ones(1, np.float32)
        scaled = ((values - mean) / std).astype(np.float32)
        window = self.context_length + self.horizon
        splits = {}
        for split, (start, end) in bounds.items():
            # a held-out stretch's windows may look back into the stretch before it: only their targets are new
            first = start if split == "train" else max(0, start - self.context_length)
            starts = range(first, end - window + 1, self.stride)
            if len(starts) == 0:
                raise DataError(
                    f"data.horizon={self.horizon} with data.context_length={self.context_length}: the {split} stretch "
                    f"of the series ({end - start} of {steps} steps) holds no window of {window} steps; lower them, "
                    f"or give longer series"
                )
            windows = np.stack([scaled[:, s : s + window] for s in starts], axis=1).reshape(-1, window, values.shape[2])
            splits[split] = InMemoryDataset(
                torch.from_numpy(windows[:, : self.context_length].copy()),
                torch.from_numpy(windows[:, self.context_length :].copy()),
            )
        return splits


def sequence_shape(source: Any, context_length: int | None) -> list[int]:
    """``data.input_shape`` of data=sequences / sequence_forecast: [steps, features] of an example."""
    values = _source(source).read().values
    return [int(context_length) if context_length is not None else values.shape[1], values.shape[2]]


def sequence_outputs(source: Any, horizon: int | None) -> int:
    """What the net outputs per example: a score per class, or ``horizon`` steps of every feature."""
    data = _source(source).read()
    if horizon is not None:
        return int(horizon) * data.values.shape[2]
    if data.labels is None:
        raise _no_labels(source)
    return len(data.class_names)


def _no_labels(source: Any) -> DataError:
    return DataError(
        f"data.source.path={source.path}: the series have no labels to classify by; set data.source.label_column "
        f"(or forecast them: experiment=forecasting)"
    )


def _source(node: Any) -> SequenceFile:
    from omegaconf import OmegaConf

    written = OmegaConf.to_container(node, resolve=True)
    if not isinstance(written, dict):
        raise ConfigError(f"data.source: expected the settings of a sequence file, got {written!r}")
    return SequenceFile(**{str(k): v for k, v in written.items() if not str(k).startswith("_")})
