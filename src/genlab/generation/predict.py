"""The prediction step of a run (predict=true): prompts in, generations written to the run folder."""

from pathlib import Path

import lightning as L
from torch.utils.data import DataLoader

from genlab.errors import ConfigError
from genlab.generation.audio_settings import AudioGenerationSettings
from genlab.generation.audio_writer import AudioGenerationWriter
from genlab.generation.image_settings import ImageGenerationSettings, class_requests, text_requests
from genlab.generation.image_writer import ImageGenerationWriter
from genlab.generation.prompts import prompt_dataloader
from genlab.generation.settings import GenerationSettings
from genlab.generation.text_writer import TextGenerationWriter


def predict(
    trainer: L.Trainer, module: L.LightningModule, datamodule: L.LightningDataModule,
    settings: GenerationSettings | ImageGenerationSettings | None, output_dir: Path, ckpt_path: str | None,
) -> Path:
    if settings is None:
        raise ConfigError(
            "predict=true needs generation settings: add generation=text (language models), generation=image "
            "(diffusion models) or generation=audio (audio models), or an experiment that has them"
        )
    if isinstance(settings, AudioGenerationSettings):
        return predict_audio(trainer, module, datamodule, settings, output_dir, ckpt_path)
    if isinstance(settings, ImageGenerationSettings):
        return predict_images(trainer, module, datamodule, settings, output_dir, ckpt_path)
    return predict_text(trainer, module, datamodule, settings, output_dir, ckpt_path)


def predict_text(
    trainer: L.Trainer, module: L.LightningModule, datamodule: L.LightningDataModule, settings: GenerationSettings,
    output_dir: Path, ckpt_path: str | None,
) -> Path:
    if not hasattr(module, "generate_ids"):
        raise ConfigError(f"predict=true: task {type(module).__name__} does not generate text; use a language-model task, or generation=image for a diffusion model")
    datamodule.setup("predict")
    prompts = settings.all_prompts()
    writer = TextGenerationWriter(str(output_dir), datamodule.tokenizer, prompts)
    trainer.callbacks.append(writer)
    trainer.predict(module, dataloaders=prompt_dataloader(datamodule.tokenizer, prompts, settings), ckpt_path=ckpt_path, return_predictions=False)
    return writer.path


def predict_images(
    trainer: L.Trainer, module: L.LightningModule, datamodule: L.LightningDataModule, settings: ImageGenerationSettings,
    output_dir: Path, ckpt_path: str | None,
) -> Path:
    if not hasattr(module, "generate") or not hasattr(module, "num_classes") or hasattr(module, "sample_rate"):
        raise ConfigError(f"generation=image: task {type(module).__name__} does not generate images; use model=diffusion or model=stable_diffusion")
    writer = ImageGenerationWriter(str(output_dir))
    _predict_requests(trainer, module, datamodule, settings, writer, ckpt_path)
    return writer.grid_path


def predict_audio(
    trainer: L.Trainer, module: L.LightningModule, datamodule: L.LightningDataModule, settings: AudioGenerationSettings,
    output_dir: Path, ckpt_path: str | None,
) -> Path:
    if not hasattr(module, "sample_rate"):
        raise ConfigError(f"generation=audio: task {type(module).__name__} does not generate audio; use model=audio_diffusion or model=musicgen")
    writer = AudioGenerationWriter(str(output_dir))
    _predict_requests(trainer, module, datamodule, settings, writer, ckpt_path)
    return writer.path


def _predict_requests(trainer, module, datamodule, settings, writer, ckpt_path) -> None:
    """One prediction step per batch of requests (prompts × n_per_prompt), handed to ``writer``."""
    if getattr(module, "takes_text", False):
        requests = text_requests(settings)
    else:
        requests = class_requests(settings, getattr(datamodule, "class_names", None), module.num_classes)
    loader = DataLoader(requests, batch_size=settings.batch_size, collate_fn=lambda rows: {"requests": rows, "settings": settings})
    trainer.callbacks.append(writer)
    trainer.predict(module, dataloaders=loader, ckpt_path=ckpt_path, return_predictions=False)
