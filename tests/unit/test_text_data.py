import functools
import json

import pytest
import torch

from genlab.data.text_corpora import FortunesDataModule, TextFilesDataModule, read_fortunes, read_text_files
from genlab.data.tokenizer import train_or_load_tokenizer
from genlab.errors import DataError


def fortunes(tmp_path, kind="bpe", vocab_size=512, **kwargs) -> FortunesDataModule:
    tokenizer = functools.partial(
        train_or_load_tokenizer, save_dir=str(tmp_path / "tok"), kind=kind, vocab_size=vocab_size
    )
    return FortunesDataModule(
        tokenizer=tokenizer, files=["computers", "science"], block_size=32, cache_dir=str(tmp_path / "cache"), **kwargs
    )


def test_debian_fortunes_corpus():
    texts = read_fortunes("/usr/share/games/fortunes")
    assert len(texts) > 10_000
    # no separator line (a lone %) survives inside an item; a fortune may still start with "%DCL-..."
    assert all(t.strip() and "%" not in [line.strip() for line in t.splitlines()] for t in texts)


def test_packed_blocks_are_the_token_stream_shifted_by_one(tmp_path):
    dm = fortunes(tmp_path)
    dm.setup()
    inputs, targets = next(iter(dm.train_dataloader()))
    assert inputs.shape == targets.shape == (32, 32)
    blocks = dm.blocks["train"]
    assert torch.equal(blocks[1:, 0], blocks[:-1, -1])  # consecutive blocks share their boundary token
    eos = dm.tokenizer.eos_token_id
    assert (blocks == eos).sum() > 0  # texts are separated by the end-of-sequence token
    assert max(int(b.max()) for b in dm.blocks.values()) < 512


def test_splits_are_deterministic_and_disjoint(tmp_path):
    a, b = fortunes(tmp_path / "a"), fortunes(tmp_path / "b")
    a.setup(), b.setup()
    assert a.texts == b.texts
    assert not set(a.texts["train"]) & set(a.texts["val"])
    other = fortunes(tmp_path / "c", split_seed=1)
    other.setup()
    assert other.texts["val"] != a.texts["val"]


def test_tokenizer_is_saved_in_the_run_and_reloaded(tmp_path):
    first = fortunes(tmp_path)
    first.setup()
    assert (tmp_path / "tok" / "tokenizer.json").is_file()
    again = fortunes(tmp_path)  # same path: loads instead of training
    again.setup()
    text = "A computer is a state of mind."
    assert again.tokenizer(text)["input_ids"] == first.tokenizer(text)["input_ids"]
    assert again.tokenizer.decode(first.tokenizer(text)["input_ids"]) == text
    assert list((tmp_path / "cache" / "tokens").glob("*.pt"))  # tokenization cached


def test_char_tokenizer_round_trips(tmp_path):
    dm = fortunes(tmp_path, kind="char", vocab_size=256)
    dm.setup()
    text = "Hello,\n\tworld -- 42!"
    ids = dm.tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(ids) == len(text) and dm.tokenizer.decode(ids) == text
    assert dm.unigram_perplexity() > 10


def test_text_files_in_three_formats(tmp_path):
    (tmp_path / "a.txt").write_text("first\n---\nsecond")
    (tmp_path / "b.jsonl").write_text(json.dumps({"body": "third"}) + "\n\n" + json.dumps({"body": "fourth"}))
    (tmp_path / "c.csv").write_text('id,body\n1,fifth\n2,"sixth, with a comma"\n')
    texts = read_text_files(
        [str(tmp_path / n) for n in ("a.txt", "b.jsonl", "c.csv")], text_column="body", separator="---"
    )
    assert [t.strip() for t in texts] == ["first", "second", "third", "fourth", "fifth", "sixth, with a comma"]


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda p: [], r"data.paths: .*missing.txt does not exist"),
        (lambda p: (p / "missing.txt").write_text(""), r"data.paths: .*missing.txt is empty"),
        (lambda p: (p / "missing.txt").write_text("   \n\n"), r"the corpus has no non-empty texts"),
    ],
)
def test_bad_text_files(tmp_path, setup, message):
    setup(tmp_path)
    tokenizer = functools.partial(train_or_load_tokenizer, save_dir=str(tmp_path / "tok"))
    with pytest.raises(DataError, match=message):
        TextFilesDataModule(paths=[str(tmp_path / "missing.txt")], tokenizer=tokenizer).setup()


def test_wrong_column_and_too_little_text(tmp_path):
    (tmp_path / "x.jsonl").write_text(json.dumps({"body": "hello"}))
    with pytest.raises(DataError, match=r"data.text_column='text': not in record 1 of .*x.jsonl \(fields: body\)"):
        read_text_files([str(tmp_path / "x.jsonl")])
    (tmp_path / "y.txt").write_text("tiny\n%\ntexts\n%\nonly")
    tokenizer = functools.partial(train_or_load_tokenizer, save_dir=str(tmp_path / "tok"), vocab_size=300)
    with pytest.raises(DataError, match=r"fewer than data.block_size\+1=129; lower data.block_size"):
        TextFilesDataModule(paths=[str(tmp_path / "y.txt")], separator="%", tokenizer=tokenizer).setup()
