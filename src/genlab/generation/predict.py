"""The prediction step of a run (predict=true): prompts in, generations written to the run folder."""

from pathlib import Path

import lightning as L
from torch.utils.data import DataLoader

from genlab.core.checkpoints import saved_class_names
from genlab.core.protocols import (
    AudioGenerator,
    ImageGenerator,
    LabelledData,
    TextGenerator,
    TokenizedData,
    VideoGenerator,
)
from genlab.errors import ConfigError
from genlab.generation.audio_settings import AudioGenerationSettings
from genlab.generation.audio_writer import AudioGenerationWriter
from genlab.generation.image_settings import ImageGenerationSettings
from genlab.generation.image_writer import ImageGenerationWriter
from genlab.generation.prompts import prompt_dataloader
from genlab.generation.requests import class_requests, text_requests
from genlab.generation.settings import GenerationSettings
from genlab.generation.text_writer import TextGenerationWriter
from genlab.generation.video_settings import VideoGenerationSettings
from genlab.generation.video_writer import VideoGenerationWriter

NO_SETTINGS = (
    "predict=true needs generation settings: add generation=text (language models), generation=image "
    "(diffusion models), generation=audio (audio models) or generation=video (video models), or an experiment "
    "that has them"
)


def check_generation(
    module: L.LightningModule,
    datamodule: L.LightningDataModule,
    settings: GenerationSettings | ImageGenerationSettings | None,
    predict_after_training: bool = False,
) -> None:
    """Before anything runs: the generation settings apply to this task (text to a text generator, images to an
    image generator, audio to an audio generator) and, when a training comes first, they exist and their prompts
    name classes the data has, so predict=true cannot fail after a whole training. (Without training, the
    prompts are checked against the class names kept in the checkpoint, when it is loaded.)"""
    if settings is None:
        if predict_after_training:
            raise ConfigError(NO_SETTINGS)
        return
    name = type(module).__name__
    if isinstance(settings, VideoGenerationSettings):
        if not isinstance(module, VideoGenerator):
            raise ConfigError(
                f"generation=video: task {name} does not generate video; use experiment=video_diffusion or experiment=text_to_video"
            )
    elif isinstance(module, VideoGenerator):
        raise ConfigError(f"task {name} generates video: use generation=video (not {_settings_name(settings)})")
    elif isinstance(settings, AudioGenerationSettings):
        if not isinstance(module, AudioGenerator):
            raise ConfigError(
                f"generation=audio: task {name} does not generate audio; use experiment=audio_diffusion (or one built on it) or experiment=musicgen"
            )
    elif isinstance(settings, ImageGenerationSettings):
        if not isinstance(module, ImageGenerator) or isinstance(module, AudioGenerator):
            raise ConfigError(
                f"generation=image: task {name} does not generate images; use experiment=diffusion or experiment=stable_diffusion"
            )
    elif not isinstance(module, TextGenerator):
        raise ConfigError(
            f"predict=true: task {name} does not generate text; use a language-model task, or generation=image for a diffusion model"
        )
    elif not isinstance(datamodule, TokenizedData):
        raise ConfigError(
            f"generation=text: data {type(datamodule).__name__} has no tokenizer to read prompts with; use text data (data=fortunes, data=text_files)"
        )
    if predict_after_training and isinstance(settings, ImageGenerationSettings) and not module.takes_text:
        # prompts that name classes: known now when the data names its classes (or the model has none)
        class_names = tuple(datamodule.class_names) if isinstance(datamodule, LabelledData) else ()
        if class_names or module.num_classes is None:
            class_requests(settings, class_names, module.num_classes)


def _settings_name(settings: object) -> str:
    if isinstance(settings, AudioGenerationSettings):
        return "generation=audio"
    return "generation=image" if isinstance(settings, ImageGenerationSettings) else "generation=text"


def predict(
    trainer: L.Trainer,
    module: L.LightningModule,
    datamodule: L.LightningDataModule,
    settings: GenerationSettings | ImageGenerationSettings | None,
    output_dir: Path,
    ckpt_path: str | None,
) -> Path:
    if settings is None:
        raise ConfigError(NO_SETTINGS)
    # that the settings fit the task was checked when the run was built (check_generation)
    if isinstance(settings, VideoGenerationSettings):
        video_writer = VideoGenerationWriter(str(output_dir), settings)
        _predict_requests(trainer, module, datamodule, settings, video_writer, ckpt_path)
        return video_writer.grid_path
    if isinstance(settings, AudioGenerationSettings):
        writer: AudioGenerationWriter | ImageGenerationWriter = AudioGenerationWriter(str(output_dir))
        _predict_requests(trainer, module, datamodule, settings, writer, ckpt_path)
        return writer.path
    if isinstance(settings, ImageGenerationSettings):
        image_writer = ImageGenerationWriter(str(output_dir))
        _predict_requests(trainer, module, datamodule, settings, image_writer, ckpt_path)
        return image_writer.grid_path
    return predict_text(trainer, module, datamodule, settings, output_dir, ckpt_path)


def predict_text(
    trainer: L.Trainer,
    module: L.LightningModule,
    datamodule: L.LightningDataModule,
    settings: GenerationSettings,
    output_dir: Path,
    ckpt_path: str | None,
) -> Path:
    datamodule.setup("predict")
    prompts = settings.all_prompts()
    writer = TextGenerationWriter(str(output_dir), datamodule.tokenizer, prompts, settings.chat)
    trainer.callbacks.append(writer)
    trainer.predict(
        module,
        dataloaders=prompt_dataloader(datamodule.tokenizer, prompts, settings),
        ckpt_path=ckpt_path,
        return_predictions=False,
    )
    return writer.path


def _predict_requests(trainer, module, datamodule, settings, writer, ckpt_path) -> None:
    """One prediction step per batch of requests (prompts × n_per_prompt), handed to ``writer``."""
    if module.takes_text:
        requests = text_requests(settings)
    else:
        # the names the weights were trained with, if their checkpoint kept them, else the data's
        class_names = saved_class_names(ckpt_path) if ckpt_path else None
        if class_names is None and isinstance(datamodule, LabelledData):
            class_names = tuple(datamodule.class_names)
        requests = class_requests(settings, class_names, module.num_classes)
    loader = DataLoader(
        requests, batch_size=settings.batch_size, collate_fn=lambda rows: {"requests": rows, "settings": settings}
    )
    trainer.callbacks.append(writer)
    trainer.predict(module, dataloaders=loader, ckpt_path=ckpt_path, return_predictions=False)
