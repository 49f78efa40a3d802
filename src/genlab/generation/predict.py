"""The prediction step of a run (predict=true): prompts in, generations written to the run folder."""

from pathlib import Path

import lightning as L

from genlab.errors import ConfigError
from genlab.generation.prompts import prompt_dataloader
from genlab.generation.settings import GenerationSettings
from genlab.generation.text_writer import TextGenerationWriter


def predict_text(
    trainer: L.Trainer, module: L.LightningModule, datamodule: L.LightningDataModule, settings: GenerationSettings | None,
    output_dir: Path, ckpt_path: str | None,
) -> Path:
    if settings is None:
        raise ConfigError("predict=true needs generation settings: add generation=text (or an experiment that has them)")
    if not hasattr(module, "generate_ids"):
        raise ConfigError(f"predict=true: task {type(module).__name__} does not generate; use a language-model task")
    datamodule.setup("predict")
    prompts = settings.all_prompts()
    writer = TextGenerationWriter(str(output_dir), datamodule.tokenizer, prompts)
    trainer.callbacks.append(writer)
    trainer.predict(module, dataloaders=prompt_dataloader(datamodule.tokenizer, prompts, settings), ckpt_path=ckpt_path, return_predictions=False)
    return writer.path
