"""Images and recordings from a ``datasets`` dataset (genlab.data.hf_datasets): each decoded once by
``datasets.map`` (to the pixels of data=image_folder, or the log-mel images of data=audio_folder) into an Arrow
file under the cache folder, then read from there a batch at a time and normalized by the training split's
statistics."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genlab.audio.spectrogram import MelSpectrogram, normalize_peak
from genlab.data.audio_files import UnreadableAudio, check_clip_length, read_wave
from genlab.data.file_folders import unreadable_files
from genlab.data.hf_columns import LABEL, ArrowRows, class_names, encoded, is_class_label, label_encoder, no_streaming
from genlab.data.hf_datasets import SPLITS, HFDatasetSource, check_columns, fingerprint, source_of, split_datasets
from genlab.data.image_classification import ImageClassificationDataModule
from genlab.data.image_files import UnreadableImage, channels_first, decode_image, image_mode
from genlab.errors import DataError
from genlab.integrations.hf_datasets import fingerprint_of

INPUTS, READABLE = "inputs", "readable"
_BATCH = 256


class HFArrayDataModule(ImageClassificationDataModule):
    """Examples of one shape (``input_shape``) decoded from a column of a ``datasets`` dataset, labelled by
    ``label_column`` (a ClassLabel, integers, or names in sorted order; null: one class). Subclasses decode a
    batch of the column (``decode``); rows that cannot be decoded are left out (named in the log, or a one-line
    error past ``max_bad_files``, a share of all rows)."""

    input_key = "input_column"  # the config key that names the decoded column
    kind = "examples"
    stored_dtype = "float32"  # of the decoded arrays in the Arrow cache
    scale = 1.0  # stored inputs / scale are the values in [0, 1] that data.mean and data.std refer to

    def __init__(
        self,
        source: HFDatasetSource,
        input_column: str,
        label_column: str | None = "label",
        test_size: float = 0.1,
        max_bad_files: float = 0.0,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        no_streaming(source)
        self.source, self.input_column, self.label_column = source, input_column, label_column
        self.test_size, self.max_bad_files = test_size, max_bad_files
        self.class_names = ()

    def decode(self, values: list[Any]) -> list[np.ndarray | None]:
        """Arrays of ``input_shape`` (None where a value cannot be decoded)."""
        raise NotImplementedError

    def encoding_key(self) -> tuple:
        """What the decoded arrays depend on besides the data (the cache key's other parts)."""
        return (self.input_shape,)

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        columns = {self.input_key: self.input_column, "label_column": self.label_column}
        splits = split_datasets(self.source, self.val_size, self.test_size, self.split_seed, columns)
        self.class_names = class_names(self.source, self.label_column)
        if len(self.class_names) != self.num_classes:
            raise DataError(
                f"data.num_classes={self.num_classes} but {self.source.describe()} has {len(self.class_names)} classes"
            )
        decoded = {split: self._decoded(splits[split], split) for split in SPLITS}
        self._check_readable(decoded)
        kept = {split: rows.filter(lambda ok: ok, input_columns=READABLE) for split, rows in decoded.items()}
        mean, std = self._channel_stats(kept["train"])
        normalize = _Normalize(torch.from_numpy(mean), torch.from_numpy(std))
        self.splits = {split: ArrowRows(rows, (INPUTS, LABEL), normalize) for split, rows in kept.items()}  # type: ignore[misc]

    def _decoded(self, data: Any, split: str) -> Any:
        from datasets import Array3D, Features, Value

        data = self._undecoded(data)
        labels = label_encoder(self.class_names, is_class_label(data, self.label_column)) if self.label_column else None
        dtype = self.stored_dtype
        empty = np.zeros(self.input_shape, dtype=dtype)

        def encode(batch: dict) -> dict:
            arrays = self.decode(batch[self.input_column])
            count = len(arrays)
            return {
                INPUTS: [a if a is not None else empty for a in arrays],
                LABEL: labels(batch[self.label_column]) if labels else [0] * count,
                READABLE: [a is not None for a in arrays],
            }

        features = Features(
            {INPUTS: Array3D(tuple(self.input_shape), dtype), LABEL: Value("int64"), READABLE: Value("bool")}
        )
        key = fingerprint(
            fingerprint_of(data),
            type(self).__name__,
            self.input_column,
            self.label_column,
            self.class_names,
            *self.encoding_key(),
        )
        return encoded(
            data,
            encode,
            key,
            self.source,
            f"data: decoding the {split} split",
            features=features,
            batch_size=_BATCH,
        )

    def stored_feature(self) -> type:
        """The ``datasets`` feature (Image, Audio) whose values ``decode`` takes as stored."""
        raise NotImplementedError

    def _undecoded(self, data: Any) -> Any:
        return undecoded(data, self.input_column, self.stored_feature())

    def _check_readable(self, decoded: dict[str, Any]) -> None:
        bad: list[Path] = []
        total = 0
        for split, rows in decoded.items():
            readable = np.asarray(rows.with_format("numpy", columns=[READABLE])[READABLE], dtype=bool)
            total += len(readable)
            bad += [Path(f"{split} row {i}") for i in np.flatnonzero(~readable)]
        unreadable_files(bad, total, self.max_bad_files, self.kind)

    def _channel_stats(self, train: Any) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel mean and std in the stored inputs' units: ``data.mean``/``data.std`` (which refer to values
        in [0, 1]) where set, else the training split's, summed a batch at a time."""
        channels = self.input_shape[0]
        mean, std = self.mean, self.std
        if mean is None or std is None:
            sums, count = np.zeros((2, channels)), 0
            for batch in train.with_format("numpy", columns=[INPUTS]).iter(batch_size=1024):
                x = batch[INPUTS].astype(np.float64) / self.scale
                sums += (x.sum(axis=(0, 2, 3)), (x**2).sum(axis=(0, 2, 3)))
                count += x.size // channels
            measured = sums[0] / count
            mean = measured if mean is None else mean
            std = np.sqrt(np.maximum(sums[1] / count - measured**2, 1e-12)) if std is None else std

        def as_stored(value: Any) -> np.ndarray:
            per_channel = np.broadcast_to(np.asarray(value, dtype=np.float32), (channels,))
            return (per_channel * self.scale).reshape(1, -1, 1, 1)

        return as_stored(mean), as_stored(std)

    def train_subset(self, indices: Sequence[int]) -> Any:
        return self.split_dataset("train").subset(indices)  # type: ignore[attr-defined]


class _Normalize:
    """(inputs, labels) with the inputs as float32 (x - mean) / std."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor):
        self.mean, self.std = mean, std

    def __call__(self, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        inputs, labels = batch
        return (inputs.float() - self.mean) / self.std, labels


def _stored(value: Any) -> Any:
    """A value of an undecoded Image/Audio column ({bytes, path}) or a path string, as something to open."""
    if isinstance(value, dict):
        if value.get("bytes"):
            return io.BytesIO(value["bytes"])
        value = value.get("path")
    if not value:
        return None
    return Path(str(value)).expanduser()


class HFImagesDataModule(HFArrayDataModule):
    """Images of a ``datasets`` column (an ``Image`` feature, e.g. from the ``imagefolder`` builder, or file
    paths): gray (``channels=1``) or colour (3), resized and centre-cropped to ``image_size`` (null: as they are,
    one size for all), as data=image_folder reads them."""

    input_key = "image_column"
    kind = "images"
    stored_dtype = "uint8"
    scale = 255.0

    def __init__(self, image_column: str = "image", image_size: int | None = 32, channels: int = 3, **kwargs: Any):
        super().__init__(input_column=image_column, **kwargs)
        self.image_size, self.mode = image_size, image_mode(channels)

    def encoding_key(self) -> tuple:
        return (self.input_shape, self.image_size, self.mode)

    def stored_feature(self) -> type:
        from datasets import Image

        return Image

    def decode(self, values: list[Any]) -> list[np.ndarray | None]:
        arrays: list[np.ndarray | None] = []
        for value in values:
            source = _stored(value)
            try:
                array = channels_first(decode_image(source, self.mode, self.image_size)[None])[0] if source else None
            except UnreadableImage:
                array = None
            if array is not None and array.shape != tuple(self.input_shape):
                raise DataError(
                    f"data.image_size=null but the images differ in size ({list(array.shape)} against "
                    f"data.input_shape={list(self.input_shape)}); set data.image_size to resize them"
                )
            arrays.append(array)
        return arrays


class HFAudioDataModule(HFArrayDataModule):
    """Recordings of a ``datasets`` column (an ``Audio`` feature, e.g. from the ``audiofolder`` builder, or file
    paths) as the log-mel spectrogram images of data=audio_folder: mono, resampled, peak-normalized and cut or
    zero-padded to the spectrogram's clip length."""

    input_key = "audio_column"
    kind = "audio"

    def __init__(
        self, spectrogram: MelSpectrogram, audio_column: str = "audio", clip_seconds: float | None = None, **kwargs: Any
    ):
        check_clip_length(spectrogram, clip_seconds)
        super().__init__(input_column=audio_column, **kwargs)
        self.spectrogram = spectrogram

    def encoding_key(self) -> tuple:
        return (self.input_shape, repr(self.spectrogram))

    def stored_feature(self) -> type:
        from datasets import Audio

        return Audio

    def decode(self, values: list[Any]) -> list[np.ndarray | None]:
        waves: list[np.ndarray | None] = []
        for value in values:
            source = _stored(value)
            try:
                waves.append(normalize_peak(read_wave(source, self.spectrogram.sample_rate)) if source else None)
            except UnreadableAudio:
                waves.append(None)
        readable = [w for w in waves if w is not None]
        images = iter(self.spectrogram.to_images(readable)[:, None]) if readable else iter(())
        return [next(images) if w is not None else None for w in waves]


def undecoded(data: Any, column: str, feature: type) -> Any:
    """The dataset with ``column`` as stored (bytes or a path) where it is a ``feature`` (Image, Audio): genlab
    decodes it itself, as it decodes files (datasets would decode audio through torchcodec)."""
    if data.features and isinstance(data.features[column], feature):
        return data.cast_column(column, feature(decode=False))
    return data


def image_shape(node: Any, image_column: str, channels: int, image_size: int | None) -> list[int]:
    """``data.input_shape`` of data=hf_images: [channels, size, size], or, without ``image_size``, the size of the
    dataset's first image."""
    if image_size is not None:
        return [int(channels), int(image_size), int(image_size)]
    source = source_of(node)
    train = source.load()["train"]
    check_columns(train, {"image_column": image_column}, source)
    from datasets import Image

    first = _stored(undecoded(train.select([0]), image_column, Image)[0][image_column])
    try:
        array = decode_image(first, image_mode(channels), None)
    except UnreadableImage:
        raise DataError(f"{source.describe()}: its first image cannot be read; set data.image_size") from None
    return [int(channels), int(array.shape[0]), int(array.shape[1])]
