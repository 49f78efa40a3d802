import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from genlab.data.in_memory import InMemoryDataModule, InMemoryDataset
from genlab.data.splits import random_splits
from genlab.errors import DataError

TokenizerFactory = Callable[..., object]
_SPLITS = ("train", "val", "test")

log = logging.getLogger("genlab")


def enough_texts_to_split(texts: list[str]) -> list[str]:
    """A corpus of one or two texts (a single .txt file without data.separator) cannot give train, val and test a
    text each: it is cut into its paragraphs (blank-line separated), or its lines if it has too few paragraphs."""
    for unit, pattern in (("paragraphs", r"\n\s*\n"), ("lines", r"\n")):
        if len(texts) >= len(_SPLITS):
            break
        pieces = [p for t in texts for p in re.split(pattern, t) if p.strip()]
        if len(pieces) > len(texts):
            log.info(
                f"data: {len(texts)} text(s) cannot be split into {', '.join(_SPLITS)}; using their {len(pieces)} "
                f"{unit} as the texts"
            )
            texts = pieces
    return texts


class LanguageModelingDataModule(InMemoryDataModule):
    """Texts split deterministically into train/val/test, tokenized (cached) and packed into blocks.

    Packing joins the texts of a split, each followed by the end-of-sequence token, and cuts the stream into
    ``block_size + 1`` token blocks: no padding is trained on. Subclasses only read their texts (``load_texts``).
    A curriculum's training items are the train split's texts: ``train_subset`` packs a chosen few of them.
    """

    def __init__(
        self,
        tokenizer: TokenizerFactory,
        block_size: int = 128,
        batch_size: int = 32,
        val_size: float = 0.05,
        test_size: float = 0.05,
        split_seed: int = 0,
        cache_dir: str | None = None,
        num_workers: int = 0,
    ):
        super().__init__()
        self.tokenizer_factory = tokenizer
        self.block_size = block_size
        self.batch_size = batch_size
        self.val_size, self.test_size = val_size, test_size
        self.split_seed = split_seed
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.num_workers = num_workers
        self.tokenizer: Any = None  # a Hugging Face tokenizer once set up (or set by a curriculum)
        self.texts: dict[str, list[str]] = {}
        self.blocks: dict[str, torch.Tensor] = {}
        self.streams: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}  # split -> (token ids, tokens per text)

    def load_texts(self) -> list[str]:
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if self.blocks:
            return
        self.prepare_tokenizer()
        for split in _SPLITS:
            self.streams[split] = self._token_stream(split)
            self.blocks[split] = self._packed(self.streams[split][0], f"the {split} split")

    def prepare_tokenizer(self) -> Any:
        """The texts read and split, and the tokenizer made from the training split's (once)."""
        if not self.texts:
            texts = [t for t in self.load_texts() if t.strip()]
            if not texts:
                raise DataError(f"{type(self).__name__}: the corpus has no non-empty texts")
            texts = enough_texts_to_split(texts)
            index = random_splits(len(texts), self.val_size, self.test_size, self.split_seed, "the corpus's texts")
            self.texts = {split: [texts[i] for i in idx] for split, idx in index.items()}
        if self.tokenizer is None:  # a curriculum stage's own corpus gets the run's tokenizer beforehand
            self.tokenizer = self.tokenizer_factory(texts=self.texts["train"])
        return self.tokenizer

    def _packed(self, ids: torch.Tensor, what: str) -> torch.Tensor:
        n_blocks = (len(ids) - 1) // self.block_size
        if n_blocks < 1:
            raise DataError(
                f"{what} has {len(ids)} tokens, fewer than data.block_size+1={self.block_size + 1}; "
                f"lower data.block_size or give it more text"
            )
        # Blocks overlap by one token, so every token but the first is a target exactly once.
        stream = ids[: n_blocks * self.block_size + 1]
        return stream.unfold(0, self.block_size + 1, self.block_size)

    def train_items(self) -> int:
        return len(self.texts["train"])

    def train_token_lengths(self) -> torch.Tensor:
        """Tokens per training text (its end-of-sequence token included)."""
        return self.streams["train"][1]

    def train_subset(self, indices: Sequence[int]) -> InMemoryDataset:
        """The chosen training texts, in corpus order, packed into blocks."""
        ids, lengths = self.streams["train"]
        ends = lengths.cumsum(0)
        chosen = sorted(int(i) for i in indices)
        stream = torch.cat([ids[ends[i] - lengths[i] : ends[i]] for i in chosen]) if chosen else ids[:0]
        return shifted(self._packed(stream, f"a selection of {len(chosen)} training texts"))

    def _token_stream(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        texts = self.texts[split]
        cache = None
        if self.cache_dir is not None:
            key = hashlib.sha1(b"ids+lengths")
            key.update(self.tokenizer.backend_tokenizer.to_str().encode())
            for text in texts:
                key.update(text.encode())
                key.update(b"\0")
            cache = self.cache_dir / "tokens" / f"{key.hexdigest()[:16]}.pt"
            if cache.is_file():
                return torch.load(cache, weights_only=True)
        eos = self.tokenizer.eos_token_id
        encoded = encode_texts(self.tokenizer, texts)
        ids = torch.tensor([token for seq in encoded for token in (*seq, eos)], dtype=torch.long)
        lengths = torch.tensor([len(seq) + 1 for seq in encoded], dtype=torch.long)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            torch.save((ids, lengths), cache)
        return ids, lengths

    def split_dataset(self, name: str) -> InMemoryDataset:
        return shifted(self.blocks[name])

    def unigram_log_probs(self) -> torch.Tensor:
        """Each token's log-probability by its frequency among the training targets (add-one smoothed): the
        unigram model, the baseline a language model has to beat."""
        vocab = max(len(self.tokenizer), int(self.blocks["train"].max()) + 1)
        counts = torch.bincount(self.blocks["train"][:, 1:].flatten(), minlength=vocab).double() + 1.0
        return (counts / counts.sum()).log()

    def unigram_perplexity(self, split: str = "val") -> float:
        """The unigram model's perplexity on every target token of a split's blocks."""
        targets = self.blocks[split][:, 1:].flatten()
        return float(torch.exp(-self.unigram_log_probs()[targets].mean()))


def encode_texts(tokenizer: Any, texts: list[str]) -> list[list[int]]:
    """Each text's token ids, however long: packing cuts them into blocks, so transformers' warning about texts
    longer than the tokenizer's model_max_length (verbose) does not apply."""
    return tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]


def shifted(blocks: torch.Tensor) -> InMemoryDataset:
    """(inputs, targets): each packed block without its last token, and shifted by one."""
    return InMemoryDataset(blocks[:, :-1].contiguous(), blocks[:, 1:].contiguous())
