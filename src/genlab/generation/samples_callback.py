import logging
from pathlib import Path

import lightning as L
import torch

from genlab.generation.chat import chat_prompt
from genlab.generation.prompts import PromptCollator
from genlab.generation.settings import GenerationSettings
from genlab.generation.text_writer import decode_rows, log_text_table, write_jsonl

log = logging.getLogger("genlab")


class GenerationSamples(L.Callback):
    """Every ``settings.every_n_epochs`` epochs, generates from the prompts and logs them (a W&B table that grows
    epoch by epoch, the console, and ``samples.jsonl`` in the run folder), so the model can be watched improving."""

    def __init__(self, settings: GenerationSettings, output_dir: str):
        self.settings, self.path = settings, Path(output_dir) / "samples.jsonl"
        self.rows: list[list] = []

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.settings.chat:  # a model without a chat template fails now, not after its first epoch of training
            chat_prompt(trainer.datamodule.tokenizer, "")  # type: ignore[attr-defined]

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or (trainer.current_epoch + 1) % self.settings.every_n_epochs:
            return
        epoch = trainer.current_epoch
        new_rows = [[epoch, prompt, text] for prompt, text in generate_samples(trainer, pl_module, self.settings)]
        self.rows += new_rows
        if not trainer.is_global_zero:
            return
        write_jsonl(self.path, [dict(zip(("epoch", "prompt", "generation"), row)) for row in new_rows], mode="a")
        log_text_table(trainer, "samples", ["epoch", "prompt", "generation"], self.rows)
        for _, prompt, text in new_rows[:4]:
            log.info(f"epoch {epoch} sample: {prompt!r} → {text!r}")


def generate_samples(
    trainer: L.Trainer, pl_module: L.LightningModule, settings: GenerationSettings
) -> list[tuple[str, str]]:
    """(prompt, generated text) for each of the settings' prompts and return sequences, from the model in hand."""
    tokenizer = trainer.datamodule.tokenizer
    prompts = settings.all_prompts()
    batch = PromptCollator(tokenizer, prompts, settings)(list(range(len(prompts))))
    batch = {k: v.to(pl_module.device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
    tokens = pl_module.generate_ids(
        batch["input_ids"], batch["attention_mask"], settings, batch["eos_id"], batch["pad_id"]
    )
    prompt_of = [p for p in prompts for _ in range(settings.num_return_sequences)]
    return list(zip(prompt_of, decode_rows(tokenizer, tokens, settings.chat)))
