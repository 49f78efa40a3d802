import json
import logging
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import BasePredictionWriter
from lightning.pytorch.loggers import WandbLogger

from genlab.generation.chat import replies_of

log = logging.getLogger("genlab")


def decode_rows(tokenizer, tokens, chat: bool = False) -> list[str]:
    """The generated texts; with ``chat``, the replies without what the chat template closes them with."""
    texts = tokenizer.batch_decode(tokens, skip_special_tokens=True)
    return replies_of(tokenizer, texts) if chat else texts


def write_jsonl(path: Path, records: list[dict], mode: str = "w") -> None:
    with open(path, mode, encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def log_text_table(trainer: L.Trainer, key: str, columns: list[str], rows: list[list]) -> None:
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger):
            logger.log_table(key=key, columns=columns, data=rows)


class TextGenerationWriter(BasePredictionWriter):
    """Writes ``generations.jsonl`` (prompt, sample, generation) in the run folder and a W&B table."""

    def __init__(self, output_dir: str, tokenizer, prompts: list[str], chat: bool = False):
        super().__init__(write_interval="epoch")
        self.path = Path(output_dir) / "generations.jsonl"
        self.tokenizer, self.prompts, self.chat = tokenizer, prompts, chat

    def write_on_epoch_end(self, trainer, pl_module, predictions, batch_indices) -> None:
        rows, seen = [], {}
        for batch in predictions:
            for index, text in zip(batch["index"].tolist(), decode_rows(self.tokenizer, batch["tokens"], self.chat)):
                sample = seen[index] = seen.get(index, -1) + 1
                rows.append([self.prompts[index], sample, text])
        if not trainer.is_global_zero:
            return
        write_jsonl(self.path, [{"prompt": p, "sample": n, "generation": t} for p, n, t in rows])
        log_text_table(trainer, "generations", ["prompt", "sample", "generation"], rows)
        for prompt, sample, text in rows[:8]:
            log.info(f"[{sample}] {prompt!r} → {text!r}")
        log.info(f"{len(rows)} generations written to {self.path}")
