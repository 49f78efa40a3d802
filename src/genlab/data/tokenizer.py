"""Tokenizers trained offline with Hugging Face `tokenizers`, saved as a standard tokenizer folder in the run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

from genlab.data.run_tokenizer import save_tokenizer, saved_tokenizer

SPECIAL_TOKENS = ["<pad>", "<eos>", "<unk>"]


def train_or_load_tokenizer(
    texts: list[str], save_dir: str, kind: str = "bpe", vocab_size: int = 2048, max_length: int | None = None
) -> PreTrainedTokenizerFast:
    """The run's tokenizer: loaded from ``save_dir`` if this run already trained it (resume, predict), else trained
    on ``texts`` and saved there. ``kind`` is ``bpe`` (byte-level, GPT-2 style) or ``char``; at most ``vocab_size``
    tokens (the model is sized from the tokenizer's actual count). ``max_length`` (the model's context) is recorded
    as its ``model_max_length``."""
    from transformers import PreTrainedTokenizerFast

    saved = saved_tokenizer(save_dir)
    if saved is not None:
        return saved
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_train(texts, kind, vocab_size), pad_token="<pad>", eos_token="<eos>", unk_token="<unk>"
    )
    if max_length is not None:
        tokenizer.model_max_length = max_length
    save_tokenizer(tokenizer, save_dir)
    return tokenizer


def _train(texts: list[str], kind: str, vocab_size: int) -> Tokenizer:
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    trainer: Any
    if kind == "bpe":
        tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        )
    elif kind == "char":
        tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
        tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
        tokenizer.decoder = decoders.Fuse()
        trainer = trainers.WordLevelTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS)
    else:
        raise ValueError(f"kind={kind!r}: use bpe or char")
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer
