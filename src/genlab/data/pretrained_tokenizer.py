"""A tokenizer the user already has (data/tokenizer=pretrained): a ``tokenizer.json`` file, a Hugging Face
tokenizer folder, a hub id, or GPT-2-style byte-level BPE files (``encoder.json`` + ``vocab.bpe``, or
``vocab.json`` + ``merges.txt``). It is read once, given its special tokens, and saved as a tokenizer folder in the
run, from which a resumed run and a later ``train=false ckpt_path=...`` run read it."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genlab.data.run_tokenizer import save_tokenizer, saved_tokenizer
from genlab.errors import ConfigError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

log = logging.getLogger("genlab")

# GPT-2's original release names its files encoder.json and vocab.bpe; Hugging Face's slow tokenizers call the
# same two files vocab.json and merges.txt
BPE_FILE_PAIRS = (("encoder.json", "vocab.bpe"), ("vocab.json", "merges.txt"))
HF_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")
LOOKED_FOR = "tokenizer.json, tokenizer_config.json, encoder.json + vocab.bpe, vocab.json + merges.txt"

# The names tokenizers commonly give their special tokens, for a bare tokenizer.json or BPE files that do not say
# which token ends a text, which one pads and which one begins one.
KNOWN_SPECIAL_TOKENS = {
    "eos": ("<|endoftext|>", "</s>", "<eos>", "<|end_of_text|>", "<|eot_id|>", "[SEP]", "<|im_end|>"),
    "pad": ("<pad>", "[PAD]", "<|pad|>", "<|padding|>"),
    "bos": ("<s>", "<bos>", "<|begin_of_text|>", "<|startoftext|>", "[CLS]"),
    "unk": ("<unk>", "[UNK]", "<|unk|>"),
}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def load_pretrained_tokenizer(
    texts: list[str] | None = None,
    path: str = "",
    save_dir: str = "",
    eos_token: str | None = None,
    pad_token: str | None = None,
    bos_token: str | None = None,
    max_length: int | None = None,
) -> PreTrainedTokenizerBase:
    """The tokenizer at ``path`` (``texts`` is accepted and ignored: this stands where a tokenizer is trained),
    saved in ``save_dir``, or read from there when this run saved it already. ``eos_token``/``pad_token``/
    ``bos_token`` choose the special tokens where the tokenizer does not name them (a token not in its vocabulary
    is added); ``max_length`` (the model's context) is recorded as its ``model_max_length``."""
    saved = saved_tokenizer(save_dir)
    if saved is not None:
        # a resumed run's own copy, or (train=false ckpt_path=...) the one the checkpoint was trained with
        log.info(f"data: tokenizer read from {save_dir}, the run's copy (data.tokenizer.path={path} is not read again)")
        return saved
    tokenizer = read_tokenizer(path)
    choose_special_tokens(tokenizer, path, {"eos": eos_token, "pad": pad_token, "bos": bos_token})
    if max_length is not None:
        tokenizer.model_max_length = max_length
    save_tokenizer(tokenizer, save_dir)
    log.info(f"data: tokenizer {path} ({len(tokenizer):,} tokens) saved in {save_dir}")
    return tokenizer


def read_tokenizer(path: str) -> PreTrainedTokenizerBase:
    """A tokenizer from a file, a folder or a hub id, as a fast Hugging Face tokenizer."""
    from transformers import PreTrainedTokenizerFast

    source = Path(path).expanduser()
    if source.is_file():
        pair = bpe_pair(source.parent, source.name)
        if pair is not None:
            return PreTrainedTokenizerFast(tokenizer_object=byte_level_bpe(*pair))
        if source.suffix == ".json" and _is_tokenizer_json(source):
            return PreTrainedTokenizerFast(tokenizer_file=str(source))
        raise ConfigError(
            f"data.tokenizer.path={path}: not a tokenizer file; give a tokenizer.json, a folder holding one of "
            f"{LOOKED_FOR}, GPT-2-style encoder.json/vocab.json (its vocab.bpe/merges.txt beside it), or a hub id"
        )
    if source.is_dir():
        if (source / "tokenizer_config.json").is_file():
            return _from_pretrained(str(source), path)
        if (source / "tokenizer.json").is_file():
            return PreTrainedTokenizerFast(tokenizer_file=str(source / "tokenizer.json"))
        pair = bpe_pair(source)
        if pair is not None:
            return PreTrainedTokenizerFast(tokenizer_object=byte_level_bpe(*pair))
        raise ConfigError(f"data.tokenizer.path={path}: the folder holds no tokenizer (looked for {LOOKED_FOR})")
    if _HUB_ID.match(path) and not source.suffix:
        return _from_pretrained(path, path)
    raise ConfigError(f"data.tokenizer.path={path}: no such file or folder ({source.resolve()})")


def bpe_pair(folder: Path, named: str | None = None) -> tuple[Path, Path] | None:
    """The (vocabulary, merges) files of a GPT-2-style BPE in ``folder``; with ``named``, the pair that file is in."""
    for vocab, merges in BPE_FILE_PAIRS:
        if named is not None and named not in (vocab, merges):
            continue
        if (folder / vocab).is_file() and (folder / merges).is_file():
            return folder / vocab, folder / merges
        if named is not None:
            missing = merges if named == vocab else vocab
            raise ConfigError(f"data.tokenizer.path={folder / named}: its pair {missing} is not beside it in {folder}")
    return None


def byte_level_bpe(vocab: Path, merges: Path) -> Any:
    """GPT-2's tokenizer from its two files: byte-level pre-tokenization, BPE, byte-level decoding."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

    try:
        model = models.BPE.from_file(str(vocab), str(merges))
    except Exception as e:
        raise ConfigError(
            f"data.tokenizer.path: {vocab} and {merges} are not a BPE vocabulary and merges ({e})"
        ) from None
    tokenizer = Tokenizer(model)
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    return tokenizer


def choose_special_tokens(tokenizer: Any, path: str, chosen: dict[str, str | None]) -> None:
    """The end-of-sequence (required: it separates packed texts), padding and beginning tokens: as chosen, else
    as the tokenizer names them, else a commonly named token of its vocabulary; padding falls back to the
    end-of-sequence token. Chosen tokens the vocabulary lacks are added as special tokens."""
    vocab = tokenizer.get_vocab()
    special: dict[str, str] = {}
    for kind in ("eos", "pad", "bos", "unk"):
        token = chosen.get(kind) or getattr(tokenizer, f"{kind}_token", None)
        if token is None:
            token = next((t for t in KNOWN_SPECIAL_TOKENS[kind] if t in vocab), None)
        if token is not None:
            special[f"{kind}_token"] = token
    if "eos_token" not in special:
        named = sorted(str(t) for t in tokenizer.all_special_tokens) or "none"
        raise ConfigError(
            f"data.tokenizer.path={path}: the tokenizer names no end-of-sequence token (its special tokens: {named}); "
            f"set data.tokenizer.eos_token to the token that ends a text"
        )
    special.setdefault("pad_token", special["eos_token"])
    added = [t for t in special.values() if t not in vocab]
    if added:
        log.info(f"data: tokens {added} are not in the tokenizer's vocabulary; added as special tokens")
    # registered as special even when in the vocabulary, so that a text's own "<|endoftext|>" is one token
    tokenizer.add_special_tokens(special)


def _is_tokenizer_json(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as f:
            content = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(content, dict) and "model" in content


def _from_pretrained(name_or_path: str, path: str) -> PreTrainedTokenizerBase:
    from transformers import AutoTokenizer

    from genlab.hf.loading import from_folder_or_hub

    return from_folder_or_hub(
        lambda: AutoTokenizer.from_pretrained(name_or_path),
        "data.tokenizer.path",
        path,
        "file or folder",
        ' --include "tokenizer*"',
    )
