"""Pretrained diffusers pipelines (text-to-image, text-to-video) from a hub id or a local folder (imported lazily)."""

import json
from pathlib import Path

import torch
from torch import nn

from genlab.errors import ConfigError
from genlab.hf.loading import resolve_dtype


class DiffusersPipeline(nn.Module):
    """A diffusers pipeline whose torch components are submodules, so Lightning moves them to the run's device
    and counts their parameters; ``pipeline`` is called to generate."""

    def __init__(self, pipeline):
        super().__init__()
        self.components = nn.ModuleDict({k: v for k, v in pipeline.components.items() if isinstance(v, nn.Module)})
        self.pipeline = pipeline
        pipeline.set_progress_bar_config(disable=True)  # Lightning's prediction bar counts the batches

    @property
    def default_size(self) -> int:
        size = self.pipeline.unet.config.sample_size
        return (size if isinstance(size, int) else size[0]) * self.pipeline.vae_scale_factor


def pipeline_dtype(dtype: str) -> torch.dtype:
    """``auto``: fp16 on a CUDA GPU (how Stable Diffusion is usually run), fp32 on CPU (no fast fp16 there)."""
    if dtype == "auto":
        return torch.float16 if torch.cuda.is_available() else torch.float32
    return resolve_dtype(dtype)


def check_pipeline_folder(folder: Path) -> None:
    """Every component that model_index.json lists must have its folder: say which are missing before diffusers
    fails on the first of them."""
    index_file = folder / "model_index.json"
    if not index_file.is_file():
        raise ConfigError(
            f"model.name_or_path={folder}: no model_index.json, so this is not a diffusers pipeline folder "
            f"(save one with pipeline.save_pretrained(folder))"
        )
    index = json.loads(index_file.read_text())
    listed = [
        name for name, value in index.items() if not name.startswith("_") and isinstance(value, list) and value[0]
    ]
    missing = [name for name in listed if not (folder / name).is_dir()]
    if missing:
        raise ConfigError(
            f"model.name_or_path={folder}: pipeline components missing: {', '.join(missing)} "
            f"(model_index.json lists {', '.join(listed)}); copy the whole pipeline folder"
        )
    for name in listed:
        expected, found = index[name][-1], _saved_class(folder / name / "config.json")
        if found is not None and found != expected:
            raise ConfigError(
                f"model.name_or_path={folder}: {name}/ holds a {found} but model_index.json says {name} is a "
                f"{expected}; put the {found} in the component folder it belongs to"
            )


def _saved_class(config_file: Path) -> str | None:
    """The class a diffusers model folder was saved from (``_class_name`` in its config.json), if it says."""
    try:
        found = json.loads(config_file.read_text()).get("_class_name")
    except (OSError, ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None


def load_stable_diffusion(name_or_path: str, dtype: str = "auto", variant: str | None = None) -> DiffusersPipeline:
    """Any ``StableDiffusionPipeline``-compatible folder or hub id."""
    return load_pipeline("StableDiffusionPipeline", name_or_path, dtype, variant)


def load_text_to_video(name_or_path: str, dtype: str = "auto", variant: str | None = None) -> DiffusersPipeline:
    """Any ``TextToVideoSDPipeline``-compatible folder or hub id (ModelScope's text-to-video, zeroscope)."""
    return load_pipeline("TextToVideoSDPipeline", name_or_path, dtype, variant)


def load_pipeline(
    class_name: str, name_or_path: str, dtype: str = "auto", variant: str | None = None
) -> DiffusersPipeline:
    """A diffusers pipeline of class ``class_name`` from a folder (checked component by component first) or a hub id."""
    import diffusers

    folder = Path(name_or_path).expanduser()
    if folder.is_dir():
        check_pipeline_folder(folder)
        name_or_path = str(folder)
    elif name_or_path.startswith((".", "/", "~")):
        raise ConfigError(f"model.name_or_path={name_or_path}: no such folder")
    try:
        pipeline = getattr(diffusers, class_name).from_pretrained(
            name_or_path, dtype=pipeline_dtype(dtype), variant=variant
        )
    except OSError as e:
        raise ConfigError(
            f"model.name_or_path={name_or_path}: cannot load a {class_name} ({str(e).splitlines()[0]}); "
            f"without the hub, point it at a local pipeline folder"
        ) from None
    return DiffusersPipeline(pipeline)
