"""Preference pairs for preference tuning (``data=preference_files``): a prompt with a chosen and a rejected reply,
read from .jsonl/.csv files, the prompt rendered as the user's turn of the chat template (or kept as plain text to
be continued) and each reply tokenized after it, with labels on the reply's tokens only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import Dataset

from genlab.data.chat import IGNORE, keep_template, padding_id
from genlab.data.hf_datasets import HFDatasetSource
from genlab.data.in_memory import BatchedSplitsDataModule
from genlab.data.record_splits import record_splits
from genlab.errors import DataError

log = logging.getLogger("genlab")

_SPLITS = ("train", "val", "test")
# data.chat_template=plain: no template; the reply continues the prompt's text (a base model's completions)
PLAIN = "plain"

Pair = tuple[str, str, str]  # prompt, chosen, rejected


def pair_of(record: dict[str, Any], where: str, columns: tuple[str, str, str]) -> Pair:
    """The prompt, chosen and rejected texts of one record, checked: present, not empty, the replies different."""
    values = []
    for column in columns:
        if column not in record:
            raise DataError(
                f"{where} has no column {column!r}; name the columns with data.prompt_column, data.chosen_column "
                f"and data.rejected_column"
            )
        value = record[column]
        if not isinstance(value, str) or not value.strip():
            raise DataError(f"{where}: {column!r} is empty; a preference pair needs a prompt and two replies")
        values.append(value)
    if values[1] == values[2]:
        raise DataError(f"{where}: the chosen and rejected replies are the same text, so there is nothing to prefer")
    return values[0], values[1], values[2]


class PreferenceDataset(Dataset):
    """Tokenized pairs fetched a batch at a time (``__getitems__``): the chosen sequences then the rejected ones
    (prompt + reply, right-padded), as ``(input_ids, attention_mask, labels)`` with ``2 × batch`` rows and labels
    IGNORE outside the replies."""

    def __init__(self, items: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]], pad_id: int):
        self.items, self.pad_id = items, pad_id

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.items[index]

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rows = [self.items[i] for i in indices]
        sequences = [(prompt, chosen) for prompt, chosen, _ in rows] + [(p, rejected) for p, _, rejected in rows]
        length = max(len(p) + len(r) for p, r in sequences)
        input_ids = torch.full((len(sequences), length), self.pad_id, dtype=torch.long)
        labels = torch.full((len(sequences), length), IGNORE, dtype=torch.long)
        attention_mask = torch.zeros((len(sequences), length), dtype=torch.long)
        for row, (prompt, reply) in enumerate(sequences):
            end = len(prompt) + len(reply)
            input_ids[row, :end] = torch.cat([prompt, reply])
            labels[row, len(prompt) : end] = reply
            attention_mask[row, :end] = 1
        return input_ids, attention_mask, labels


class PreferenceDataModule(BatchedSplitsDataModule):
    """Preference pairs from ``paths`` (.jsonl or .csv, split into train/val/test by pair) or from ``source`` (a
    Hugging Face ``datasets`` dataset, data=hf_preferences).

    The prompt becomes the user's turn of the model's chat template (or ``chat_template``: ``chatml``, a .jinja
    file, or ``plain`` for text that the reply continues), and each reply is what the template renders after it,
    ended by the end-of-sequence token. A pair longer than ``max_length`` tokens has its replies cut to fit and is
    counted in the log; one whose prompt leaves no room for a reply is left out and counted too.
    """

    def __init__(
        self,
        tokenizer: Any,
        paths: Sequence[str] | None = None,
        source: HFDatasetSource | None = None,
        prompt_column: str = "prompt",
        chosen_column: str = "chosen",
        rejected_column: str = "rejected",
        system_prompt: str | None = None,
        chat_template: str | None = None,
        max_length: int = 512,
        batch_size: int = 4,
        val_size: float = 0.1,
        test_size: float = 0.1,
        split_seed: int = 0,
        encoding: str = "utf-8",
        num_workers: int = 0,
    ):
        super().__init__()
        self.tokenizer_factory = tokenizer
        self.paths, self.source = list(paths or []), source
        self.columns = (prompt_column, chosen_column, rejected_column)
        self.system_prompt, self.chat_template, self.max_length = system_prompt, chat_template, max_length
        self.batch_size, self.val_size, self.test_size, self.split_seed = batch_size, val_size, test_size, split_seed
        self.encoding, self.num_workers = encoding, num_workers
        self.tokenizer: Any = None

    def pairs(self) -> dict[str, list[Pair]]:
        """The checked pairs of each split (train, val, test)."""
        return record_splits(
            self.paths,
            self.source,
            lambda record, where: pair_of(record, where, self.columns),
            self.encoding,
            self.val_size,
            self.test_size,
            self.split_seed,
            "preference pairs",
        )

    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def tokenize(self, pair: Pair, template: str | None) -> tuple[list[int], list[int], list[int]]:
        """The prompt's token ids and each reply's, the reply ending with the end-of-sequence token."""
        prompt, *replies = pair
        if template is None:
            prompt_text, reply_texts = prompt, replies
        else:
            turns = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
            turns.append({"role": "user", "content": prompt})
            prompt_text = self.tokenizer.apply_chat_template(
                turns, chat_template=template, tokenize=False, add_generation_prompt=True
            )
            reply_texts = []
            for reply in replies:
                full = self.tokenizer.apply_chat_template(
                    [*turns, {"role": "assistant", "content": reply}], chat_template=template, tokenize=False
                )
                if not full.startswith(prompt_text):
                    raise DataError(
                        "data.chat_template: the template renders the prompt differently once a reply follows it; "
                        "use another template (e.g. data.chat_template=chatml)"
                    )
                reply_texts.append(full[len(prompt_text) :])
        eos = self.tokenizer.eos_token_id
        ends = [] if eos is None else [int(eos)]
        chosen, rejected = (self._encode(text) for text in reply_texts)
        chosen = chosen if chosen[-1:] == ends else chosen + ends
        rejected = rejected if rejected[-1:] == ends else rejected + ends
        return self._encode(prompt_text), chosen, rejected

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        pairs = self.pairs()
        if self.tokenizer is None:
            self.tokenizer = self.tokenizer_factory()
        template = None if self.chat_template == PLAIN else keep_template(self.tokenizer, self.chat_template)
        pad_id = padding_id(self.tokenizer)
        shortened = dropped = 0
        for split in _SPLITS:
            items = []
            for pair in pairs[split]:
                prompt, chosen, rejected = self.tokenize(pair, template)
                room = self.max_length - len(prompt)
                if room < 1:
                    dropped += 1
                    continue
                if max(len(chosen), len(rejected)) > room:
                    shortened += 1
                    chosen, rejected = chosen[:room], rejected[:room]
                items.append((torch.tensor(prompt), torch.tensor(chosen), torch.tensor(rejected)))
            if not items:
                raise DataError(f"data.max_length={self.max_length}: no pair of the {split} split fits; raise it")
            self.datasets[split] = PreferenceDataset(items, pad_id)
        if shortened or dropped:
            log.warning(
                f"data.max_length={self.max_length}: {shortened} pair(s) had their replies cut to fit, {dropped} "
                f"left out (the prompt leaves no room for a reply)"
            )
