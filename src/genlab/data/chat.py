"""Conversations for supervised fine-tuning (``data=chat_files``): records read from .jsonl/.csv files, rendered
through a chat template and tokenized with a label mask that trains on the assistant's turns only.

A record is either a ``messages`` list of ``{role, content}`` turns, or prompt/response columns (one user turn and
the assistant's reply; several prompt columns, such as instruction and input, are joined by a blank line).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch.utils.data import Dataset

from genlab.data.hf_datasets import HFDatasetSource
from genlab.data.in_memory import BatchedSplitsDataModule
from genlab.data.record_splits import record_splits
from genlab.errors import ConfigError, DataError

log = logging.getLogger("genlab")

IGNORE = -100  # the label of a token that is not trained on (PyTorch's cross-entropy ignore_index)
ROLES = ("system", "user", "assistant", "tool")
_SPLITS = ("train", "val", "test")

# ChatML, for models whose tokenizer has no chat template of its own: data.chat_template=chatml
CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

Conversation = list[dict[str, str]]


def conversation_of(
    record: dict[str, Any],
    where: str,
    messages_column: str,
    prompt_columns: Sequence[str],
    response_column: str | None,
    system_prompt: str | None,
) -> Conversation:
    """The turns of one record, checked: known roles, text content, at least one assistant turn."""
    if response_column:
        missing = [c for c in (*prompt_columns, response_column) if c not in record]
        if missing:
            raise DataError(f"{where} has no column {missing[0]!r}; set data.prompt_columns / data.response_column")
        prompt = "\n\n".join(str(record[c]) for c in prompt_columns if str(record[c] or "").strip())
        raw: Any = [{"role": "user", "content": prompt}, {"role": "assistant", "content": str(record[response_column])}]
    else:
        raw = record.get(messages_column)
        if isinstance(raw, str):  # a .csv cell holding the JSON list
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError:
                raise DataError(f"{where}: {messages_column!r} is not a JSON list of messages") from None
        if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
            raise DataError(
                f"{where}: {messages_column!r} must be a list of {{role, content}} messages; or name prompt/response "
                f"columns with data.prompt_columns and data.response_column"
            )
    turns: Conversation = [{"role": t.get("role"), "content": t.get("content")} for t in raw]
    for turn in turns:
        if turn["role"] not in ROLES:
            raise DataError(f"{where}: unknown role {turn['role']!r}; a message's role is one of {', '.join(ROLES)}")
        if not isinstance(turn["content"], str):
            raise DataError(f"{where}: a message of role {turn['role']!r} has no text content")
    if not any(t["role"] == "assistant" for t in turns):
        raise DataError(f"{where}: the conversation has no assistant turn, so nothing to learn from")
    if system_prompt and turns[0]["role"] != "system":
        turns = [{"role": "system", "content": system_prompt}, *turns]
    return turns


def template_of(tokenizer: Any, chat_template: str | None, model: str) -> str:
    """The Jinja chat template to render with: ``chat_template`` (``chatml``, a .jinja file or the template
    itself), else the tokenizer's own."""
    if chat_template is None:
        if not getattr(tokenizer, "chat_template", None):
            raise ConfigError(
                f"data.chat_template: the tokenizer of {model} has no chat template; set data.chat_template=chatml "
                f"(or a .jinja file) to render conversations"
            )
        own = tokenizer.chat_template
        # a tokenizer may carry named templates (e.g. default and tool_use): conversations use the default one
        return str(own.get("default", next(iter(own.values()))) if isinstance(own, dict) else own)
    if chat_template == "chatml":
        return CHATML
    if "{{" in chat_template or "{%" in chat_template:
        return chat_template
    path = Path(chat_template)
    if not path.is_file():
        raise ConfigError(f"data.chat_template={chat_template}: not chatml, a template, or a .jinja file that exists")
    return path.read_text(encoding="utf-8")


def keep_template(tokenizer: Any, chat_template: str | None) -> str:
    """The template to render with (``template_of``), set on the tokenizer: it keeps the template it was trained
    with, so generation.chat renders prompts with it and the run folder's copy of the tokenizer carries it."""
    template = template_of(tokenizer, chat_template, getattr(tokenizer, "name_or_path", "model"))
    tokenizer.chat_template = template
    return template


def padding_id(tokenizer: Any) -> int:
    """The tokenizer's padding token, or its end-of-sequence token when it has none (many causal LMs)."""
    return int(tokenizer.eos_token_id if tokenizer.pad_token_id is None else tokenizer.pad_token_id)


def tokenize_conversation(
    tokenizer: Any, turns: Conversation, template: str, train_on_prompt: bool = False
) -> tuple[list[int], list[int], list[int]]:
    """Token ids, their labels (the id where it is trained on, IGNORE elsewhere) and the token index where each
    assistant turn ends.

    The assistant's spans are found in the rendered text: the conversation up to a reply, rendered with the
    generation prompt, is a prefix of the conversation rendered with it; the reply's characters (with what the
    template closes it with, such as an end-of-turn token) are the rest up to the next turn. A token is trained on
    when it starts inside such a span. Templates whose renderings are not prefixes of each other are refused.
    """

    def render(messages: Conversation, generation_prompt: bool) -> str:
        return tokenizer.apply_chat_template(
            messages, chat_template=template, tokenize=False, add_generation_prompt=generation_prompt
        )

    text = render(turns, False)
    spans = []
    for i, turn in enumerate(turns):
        if turn["role"] != "assistant":
            continue
        before, through = render(turns[:i], True), render(turns[: i + 1], False)
        start, end = len(before), len(through)
        if not (text.startswith(before) and text.startswith(through) and start <= end):
            raise ConfigError(
                "data.chat_template: the template renders a conversation differently from its beginning, so the "
                "assistant's turns cannot be found in it; use another template (e.g. data.chat_template=chatml)"
            )
        spans.append((start, end))
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = list(encoded["input_ids"]), encoded["offset_mapping"]
    eos = tokenizer.eos_token_id
    if eos is not None and (not ids or ids[-1] != eos):
        # the conversation ends: a model learns to stop where the last reply ends
        ids.append(eos)
        offsets = [*offsets, (len(text), len(text))]
        if turns[-1]["role"] == "assistant":
            spans[-1] = (spans[-1][0], len(text) + 1)
    trained = [any(s <= start < e for s, e in spans) for start, _ in offsets]
    labels = [t if (train_on_prompt or keep) else IGNORE for t, keep in zip(ids, trained)]
    ends = [max((k + 1 for k, (start, _) in enumerate(offsets) if start < e), default=0) for _, e in spans]
    return ids, labels, ends


class ChatDataset(Dataset):
    """Tokenized conversations of varying length, fetched a batch at a time (``__getitems__``): right-padded
    input ids, attention mask and labels (IGNORE on padding)."""

    def __init__(self, items: list[tuple[torch.Tensor, torch.Tensor]], pad_id: int):
        self.items, self.pad_id = items, pad_id

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.items[index]

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rows = [self.items[i] for i in indices]
        length = max(len(ids) for ids, _ in rows)
        input_ids = torch.full((len(rows), length), self.pad_id, dtype=torch.long)
        labels = torch.full((len(rows), length), IGNORE, dtype=torch.long)
        attention_mask = torch.zeros((len(rows), length), dtype=torch.long)
        for row, (ids, lab) in enumerate(rows):
            input_ids[row, : len(ids)], labels[row, : len(ids)], attention_mask[row, : len(ids)] = ids, lab, 1
        return input_ids, attention_mask, labels


class PackedBatch(NamedTuple):
    """Rows that each hold several whole conversations: their position ids restart at 0 where one begins, which is
    how the model tells them apart (transformers builds a block-diagonal attention mask from them for SDPA and
    eager attention, and passes the boundaries to flash attention's variable-length kernels), so no conversation
    attends to another."""

    input_ids: torch.Tensor
    position_ids: torch.Tensor
    labels: torch.Tensor


def pack(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    """Indices of examples grouped into rows of at most ``capacity`` tokens: first fit, longest first (a function of
    the lengths alone). Each row keeps its examples in index order."""
    rows: list[list[int]] = []
    room: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: (-lengths[i], i)):
        row = next((r for r, free in enumerate(room) if free >= lengths[i]), None)
        if row is None:
            rows.append([])
            room.append(capacity)
            row = len(rows) - 1
        rows[row].append(i)
        room[row] -= lengths[i]
    return [sorted(row) for row in rows]


class PackedChatDataset(Dataset):
    """Conversations packed into rows of up to ``capacity`` tokens (``pack``), fetched a batch of rows at a time as
    a ``PackedBatch``. A conversation's first token gets no label: it would be predicted from the end of the one
    before it, and unpacked it is never predicted at all. Padding after the last conversation is a segment of its
    own, never trained on."""

    def __init__(self, items: list[tuple[torch.Tensor, torch.Tensor]], pad_id: int, capacity: int):
        self.items, self.pad_id = items, pad_id
        self.rows = pack([len(ids) for ids, _ in items], capacity)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [self.items[i] for i in self.rows[index]]

    def __getitems__(self, indices: list[int]) -> PackedBatch:
        rows = [self[i] for i in indices]
        length = max(sum(len(ids) for ids, _ in row) for row in rows)
        input_ids = torch.full((len(rows), length), self.pad_id, dtype=torch.long)
        labels = torch.full((len(rows), length), IGNORE, dtype=torch.long)
        position_ids = torch.zeros((len(rows), length), dtype=torch.long)
        for r, row in enumerate(rows):
            at = 0
            for ids, lab in row:
                end = at + len(ids)
                input_ids[r, at:end], labels[r, at + 1 : end] = ids, lab[1:]
                position_ids[r, at:end] = torch.arange(len(ids))
                at = end
            position_ids[r, at:] = torch.arange(length - at)
        return PackedBatch(input_ids, position_ids, labels)


class ChatDataModule(BatchedSplitsDataModule):
    """Conversations from ``paths`` (.jsonl or .csv, split into train/val/test by conversation) or from ``source``
    (a Hugging Face ``datasets`` dataset, data=hf_chat), rendered with the model's chat template (or
    ``chat_template``) and tokenized up to ``max_length`` tokens.

    A conversation longer than ``max_length`` keeps its turns up to the last assistant reply that fits; one whose
    first reply does not fit is left out. Both are counted in the log, never cut silently inside a reply.

    ``packing``: several whole conversations per row of ``max_length`` tokens, each attending only to itself
    (``PackedChatDataset``); ``batch_size`` then counts rows.
    """

    def __init__(
        self,
        tokenizer: Any,
        paths: Sequence[str] | None = None,
        source: HFDatasetSource | None = None,
        messages_column: str = "messages",
        prompt_columns: Sequence[str] | str | None = None,
        response_column: str | None = None,
        system_prompt: str | None = None,
        chat_template: str | None = None,
        train_on_prompt: bool = False,
        max_length: int = 512,
        packing: bool = False,
        batch_size: int = 8,
        val_size: float = 0.1,
        test_size: float = 0.1,
        split_seed: int = 0,
        encoding: str = "utf-8",
        num_workers: int = 0,
    ):
        super().__init__()
        self.tokenizer_factory = tokenizer
        self.paths, self.source = list(paths or []), source
        self.messages_column, self.response_column, self.system_prompt = messages_column, response_column, system_prompt
        self.prompt_columns = [prompt_columns] if isinstance(prompt_columns, str) else list(prompt_columns or [])
        if bool(self.response_column) != bool(self.prompt_columns):
            raise ConfigError("data.prompt_columns and data.response_column go together: set both, or neither")
        self.chat_template, self.train_on_prompt, self.max_length = chat_template, train_on_prompt, max_length
        self.packing = packing
        self.batch_size, self.val_size, self.test_size, self.split_seed = batch_size, val_size, test_size, split_seed
        self.encoding, self.num_workers = encoding, num_workers
        self.tokenizer: Any = None

    def conversations(self) -> dict[str, list[Conversation]]:
        """The checked conversations of each split (train, val, test)."""
        columns = (self.messages_column, self.prompt_columns, self.response_column, self.system_prompt)
        return record_splits(
            self.paths,
            self.source,
            lambda record, where: conversation_of(record, where, *columns),
            self.encoding,
            self.val_size,
            self.test_size,
            self.split_seed,
            "conversations",
        )

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        conversations = self.conversations()
        if self.tokenizer is None:
            self.tokenizer = self.tokenizer_factory()
        template = keep_template(self.tokenizer, self.chat_template)
        pad_id = padding_id(self.tokenizer)
        shortened = dropped = 0
        for split in _SPLITS:
            items = []
            for conversation in conversations[split]:
                ids, labels, ends = tokenize_conversation(self.tokenizer, conversation, template, self.train_on_prompt)
                if len(ids) > self.max_length:
                    fitting = [end for end in ends if end <= self.max_length]
                    if not fitting:
                        dropped += 1
                        continue
                    shortened += 1
                    ids, labels = ids[: fitting[-1]], labels[: fitting[-1]]
                items.append((torch.tensor(ids), torch.tensor(labels)))
            if not items:
                raise DataError(
                    f"data.max_length={self.max_length}: no conversation of the {split} split fits; raise it"
                )
            self.datasets[split] = (
                PackedChatDataset(items, pad_id, self.max_length) if self.packing else ChatDataset(items, pad_id)
            )
        if shortened or dropped:
            log.warning(
                f"data.max_length={self.max_length}: {shortened} conversation(s) kept up to their last reply that "
                f"fits, {dropped} left out (their first reply does not fit)"
            )
