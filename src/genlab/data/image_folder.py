from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from genlab.data.folder_data import FolderDataModule
from genlab.data.image_files import decode_images, scan_image_folder


class ImageFolderDataModule(FolderDataModule):
    """The user's own images (genlab.data.file_folders for the layouts): labelled by class folder or one class,
    resized and centre-cropped to ``image_size`` (null: as they are, one size for all), gray (``channels=1``) or
    colour (3), scaled to [0, 1] and normalized like every image data module (``mean``/``std``, null: from the
    training split)."""

    def __init__(
        self,
        root: str,
        input_shape: Sequence[int],
        num_classes: int,
        image_size: int | None = 32,
        channels: int = 3,
        max_bad_files: float = 0.0,
        **kwargs: Any,
    ):
        super().__init__(partial(scan_image_folder, root), input_shape=input_shape, num_classes=num_classes, **kwargs)
        self.image_size, self.channels, self.max_bad_files = image_size, channels, max_bad_files

    def read_inputs(self, paths: Sequence[Path]) -> tuple[np.ndarray, list[int]]:
        images, kept = decode_images(paths, self.channels, self.image_size, self.max_bad_files)
        return images.astype(np.float32) / 255.0, kept
