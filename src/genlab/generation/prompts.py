import torch
from torch.utils.data import DataLoader

from genlab.generation.chat import chat_prompt
from genlab.generation.settings import GenerationSettings


def ensure_pad_token(tokenizer) -> None:
    """Batched prompts need a pad token; a tokenizer without one pads with its end-of-sequence token."""
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token


class PromptCollator:
    """Left-pads a batch of prompts (a decoder-only model continues from the right end)."""

    def __init__(self, tokenizer, prompts: list[str], settings: GenerationSettings):
        ensure_pad_token(tokenizer)
        self.tokenizer, self.prompts, self.settings = tokenizer, prompts, settings

    def __call__(self, indices: list[int]) -> dict:
        texts = [self.prompts[i] for i in indices]
        if self.settings.chat:
            texts = [chat_prompt(self.tokenizer, text) for text in texts]
        encoded = self.tokenizer(
            texts,
            padding=True,
            padding_side="left",
            add_special_tokens=False,
            return_tensors="pt",
        )
        return {
            "input_ids": encoded["input_ids"],
            "attention_mask": encoded["attention_mask"],
            "index": torch.tensor(indices),
            "settings": self.settings,
            "eos_id": self.tokenizer.eos_token_id,
            "pad_id": self.tokenizer.pad_token_id,
        }


def prompt_dataloader(tokenizer, prompts: list[str], settings: GenerationSettings) -> DataLoader:
    return DataLoader(
        list(range(len(prompts))),
        batch_size=settings.batch_size,
        collate_fn=PromptCollator(tokenizer, prompts, settings),
    )
