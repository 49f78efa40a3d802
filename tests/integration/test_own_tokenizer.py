"""A user's own tokenizer (data/tokenizer=pretrained) in each form it comes in, the model sized from it, and the
ways it can go wrong. The GPT-2-style files are made with `tokenizers` itself: a byte-level BPE trained on a few
fortunes, saved as tokenizer.json, as GPT-2's original encoder.json + vocab.bpe, as vocab.json + merges.txt, and
as a Hugging Face tokenizer folder."""

import json
from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from genlab import api
from genlab.config.errors import describe
from genlab.errors import ConfigError
from helpers import CONF, FAST

EOS = "<|endoftext|>"
LM = [
    "experiment=fortunes_lm",
    "data.files=[science]",
    "data.block_size=32",
    "model.embed_dim=32",
    "model.num_layers=1",
]
OWN = [*LM, "data/tokenizer=pretrained"]
SAMPLE = "Science is what we understand well enough to explain to a computer.\nArt is everything else."


def _byte_level_bpe(texts: list[str], special: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


@pytest.fixture(scope="module")
def own_tokenizers(tmp_path_factory) -> dict[str, Path]:
    """Each form of one 500-token GPT-2-style tokenizer, by name."""
    from transformers import PreTrainedTokenizerFast

    from genlab.data.text_corpora import read_fortunes

    root = tmp_path_factory.mktemp("tokenizers")
    tokenizer = _byte_level_bpe(read_fortunes("/usr/share/games/fortunes", ["computers"]), [EOS], 500)
    tokenizer.save(str(root / "tokenizer.json"))
    forms = {"tokenizer.json file": root / "tokenizer.json"}
    for name, (vocab, merges) in {
        "gpt2": ("encoder.json", "vocab.bpe"),
        "vocab+merges": ("vocab.json", "merges.txt"),
    }.items():
        folder = root / name
        folder.mkdir()
        tokenizer.model.save(str(folder))  # vocab.json and merges.txt (with its "#version" line, as GPT-2's)
        (folder / "vocab.json").rename(folder / vocab)
        (folder / "merges.txt").rename(folder / merges)
        forms[f"{vocab} + {merges} folder"] = folder
    forms["encoder.json file"] = root / "gpt2" / "encoder.json"
    hf = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=EOS, model_max_length=1024)
    hf.save_pretrained(str(root / "hf"))
    forms["Hugging Face folder"] = root / "hf"
    return forms


def _config(run_dir: Path) -> dict:
    return OmegaConf.to_container(OmegaConf.load(run_dir / "config_resolved.yaml"))  # type: ignore[return-value]


@pytest.mark.parametrize(
    "form",
    [
        "tokenizer.json file",
        "Hugging Face folder",
        "encoder.json + vocab.bpe folder",
        "vocab.json + merges.txt folder",
        "encoder.json file",
    ],
)
def test_each_form_trains_a_model_sized_from_it_and_is_saved_in_the_run(own_tokenizers, form, run_dir):
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    metrics = api.run([*OWN, f"data.tokenizer.path={own_tokenizers[form]}", *FAST], run_dir)
    assert metrics["test/loss"] > 0
    assert _config(run_dir)["model"]["vocab_size"] == 500  # taken from the tokenizer, typed nowhere
    saved = AutoTokenizer.from_pretrained(str(run_dir / "tokenizer"))
    assert (len(saved), saved.eos_token, saved.pad_token) == (500, EOS, EOS)
    assert saved.model_max_length == 32  # the model's context, data.block_size
    # the converted tokenizer splits text exactly as the original does, its end-of-text marker as one token
    original = Tokenizer.from_file(str(own_tokenizers["tokenizer.json file"]))
    assert saved(SAMPLE + EOS, add_special_tokens=False)["input_ids"] == original.encode(SAMPLE + EOS).ids
    assert saved.decode(original.encode(SAMPLE).ids) == SAMPLE


def test_a_pretrained_model_s_tokenizer_folder_sizes_a_model_genlab_builds(own_tokenizers, run_dir):
    folder = own_tokenizers["Hugging Face folder"]
    api.run([*LM, "data/tokenizer=hf", f"data.tokenizer.name_or_path={folder}", *FAST], run_dir)
    assert _config(run_dir)["model"]["vocab_size"] == 500


def test_a_resumed_run_reads_the_tokenizer_saved_in_its_folder(own_tokenizers, tmp_path, run_dir):
    copy = tmp_path / "mine.json"
    copy.write_text(own_tokenizers["tokenizer.json file"].read_text())
    args = [*OWN, f"data.tokenizer.path={copy}", "logger=none", "trainer.max_steps=2", "+trainer.limit_val_batches=1"]
    api.run(args, run_dir)
    copy.unlink()  # the user's file is gone: the run folder has its own copy
    api.run([*args, "trainer.max_steps=3", f"ckpt_path={run_dir / 'checkpoints' / 'last.ckpt'}"], run_dir)
    assert _config(run_dir)["model"]["vocab_size"] == 500


def test_genlab_trained_tokenizers_size_the_model_by_what_they_learnt(run_dir):
    api.run([*LM, "data/tokenizer=char", *FAST], run_dir)
    characters = len(json.loads((run_dir / "tokenizer" / "tokenizer.json").read_text())["model"]["vocab"])
    assert _config(run_dir)["model"]["vocab_size"] == characters < 256  # not data.tokenizer.vocab_size, a ceiling


def test_a_tokenizer_that_names_no_end_of_text_token_gets_the_chosen_one(tmp_path, run_dir):
    from genlab.data.text_corpora import read_fortunes

    plain = tmp_path / "plain.json"
    _byte_level_bpe(read_fortunes("/usr/share/games/fortunes", ["computers"]), [], 400).save(str(plain))
    with pytest.raises(ConfigError, match=r"names no end-of-sequence token .*set data.tokenizer.eos_token"):
        api.run([*OWN, f"data.tokenizer.path={plain}", *FAST], run_dir)
    assert not (run_dir / "tokenizer").exists()
    api.run([*OWN, f"data.tokenizer.path={plain}", "data.tokenizer.eos_token='<end>'", *FAST], run_dir.parent / "b")
    # the chosen token was not in the vocabulary: added, and the model has room for it
    assert _config(run_dir.parent / "b")["model"]["vocab_size"] == 401


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["data.tokenizer.path={empty}"],
            r"^data.tokenizer.path=.*empty: the folder holds no tokenizer \(looked for "
            r"tokenizer.json, tokenizer_config.json, encoder.json \+ vocab.bpe, vocab.json \+ merges.txt\)$",
        ),
        (["data.tokenizer.path={empty}/tokenizer.json"], r"^data.tokenizer.path=.*: no such file or folder"),
        (
            ["data.tokenizer.path=genlab-tests/no-such-tokenizer"],
            r"^data.tokenizer.path=genlab-tests/no-such-tokenizer: not a local file or folder \(.*\) and not loadable from the "
            r"Hugging Face hub .*hf download genlab-tests/no-such-tokenizer",
        ),
    ],
)
def test_a_tokenizer_that_cannot_be_read_is_one_line_and_nothing_is_written(overrides, message, tmp_path, run_dir):
    empty = tmp_path / "empty"
    empty.mkdir()
    args = [o.format(empty=empty) for o in overrides]
    with pytest.raises(ConfigError, match=message):
        api.run([*OWN, *args, *FAST], run_dir)
    assert list(empty.iterdir()) == []  # never a tokenizer trained into the user's folder
    assert not (run_dir / "tokenizer").exists()


def test_half_a_bpe_pair_names_the_missing_file(own_tokenizers, tmp_path, run_dir):
    alone = tmp_path / "encoder.json"
    alone.write_text(own_tokenizers["encoder.json file"].read_text())
    with pytest.raises(ConfigError, match=r"encoder.json: its pair vocab.bpe is not beside it"):
        api.run([*OWN, f"data.tokenizer.path={alone}", *FAST], run_dir)


def test_the_key_of_a_trained_tokenizer_points_to_the_pretrained_choice(run_dir, own_tokenizers):
    with pytest.raises(ConfigCompositionException) as unknown:
        api.run([*LM, f"data.tokenizer.path={own_tokenizers['tokenizer.json file']}", *FAST], run_dir)
    assert describe(unknown.value).startswith(
        "data.tokenizer.path is the key of your own tokenizer: choose it with data/tokenizer=pretrained "
    )
    with pytest.raises(
        ConfigError,
        match=r"^data/tokenizer=hf is a pretrained model's own tokenizer and this model "
        r"has none; give your tokenizer with data/tokenizer=pretrained",
    ):
        api.run([*LM, "data/tokenizer=hf", *FAST], run_dir)


def test_a_model_smaller_than_its_tokenizer_is_refused_before_training(own_tokenizers, tiny_llama, run_dir):
    tokenizer = f"data.tokenizer.path={own_tokenizers['tokenizer.json file']}"
    with pytest.raises(
        ConfigError,
        match=r"^model.vocab_size=300 but the tokenizer has 500 tokens; leave "
        r"model.vocab_size=null",
    ):
        api.run([*OWN, tokenizer, "model.vocab_size=300", *FAST], run_dir)
    # a pretrained model with 300 token embeddings given a 500-token tokenizer
    hf = [
        "experiment=smollm2_fortunes",
        f"model.name_or_path={tiny_llama}",
        "model.gguf_file=null",
        "data.files=[science]",
        "data/tokenizer=pretrained",
        tokenizer,
    ]
    with pytest.raises(ConfigError, match=r"^model=hf_causal embeds 300 token ids but the data's tokenizer has 500"):
        api.run([*hf, *FAST], run_dir)
    assert not (run_dir / "checkpoints").exists()


def test_a_checkpoint_of_another_vocabulary_names_the_tokenizer_that_fits(own_tokenizers, tmp_path, run_dir):
    trained = tmp_path / "runs" / "char"
    once = ["logger=none", "trainer.max_steps=1", "+trainer.limit_val_batches=1", "test=false"]
    api.run([*LM, "data/tokenizer=char", *once], trained)
    checkpoint = trained / "checkpoints" / "last.ckpt"
    own = f"data.tokenizer.path={own_tokenizers['tokenizer.json file']}"
    go_on = [f"ckpt_path={checkpoint}", *once[:-1], "trainer.max_steps=2", "test=false"]
    with pytest.raises(
        ConfigError,
        match=rf"^ckpt_path={checkpoint} was trained with a tokenizer of \d+ tokens, and "
        rf"the data's tokenizer has 500; use the tokenizer it was trained with \(data/tokenizer="
        rf"pretrained data.tokenizer.path={trained}/tokenizer\)$",
    ):
        api.run([*OWN, own, *go_on], run_dir)
    # as it says: the run's own tokenizer fits
    api.run([*OWN, f"data.tokenizer.path={trained}/tokenizer", *go_on], run_dir.parent / "fits")
    # evaluating a checkpoint (train=false) takes the tokenizer of the run that trained it
    api.run([*OWN, own, "train=false", f"ckpt_path={checkpoint}", *FAST[1:]], run_dir.parent / "eval")
    assert _config(run_dir.parent / "eval")["model"]["vocab_size"] == _config(trained)["model"]["vocab_size"]


def test_a_net_sized_from_a_tokenizer_needs_text_data(tmp_path, run_dir):
    own = tmp_path / "conf" / "model"
    own.mkdir(parents=True)
    (own / "my_lm.yaml").write_text(
        (CONF / "model" / "transformer_lm.yaml").read_text().replace("${data.block_size}", "16")
    )
    with pytest.raises(
        ConfigError,
        match=r"^model=my_lm takes model.vocab_size from the data's tokenizer, and data "
        r"FashionMNISTDataModule has none; use text data",
    ):
        api.run(["model=my_lm", *FAST], run_dir, config_dir=tmp_path / "conf")


def test_texts_longer_than_the_tokenizer_maximum_are_packed_without_a_warning(own_tokenizers, tmp_path, capfd):
    from genlab.data import TextFilesDataModule
    from genlab.data.pretrained_tokenizer import load_pretrained_tokenizer

    corpus = tmp_path / "long.jsonl"
    corpus.write_text("".join(json.dumps({"text": SAMPLE * 40}) + "\n" for _ in range(12)))  # ~800 tokens each
    tokenizer = load_pretrained_tokenizer(path=str(own_tokenizers["Hugging Face folder"]), save_dir=str(tmp_path / "t"))
    assert tokenizer.model_max_length == 1024
    tokenizer.model_max_length = 64
    data = TextFilesDataModule(paths=[str(corpus)], tokenizer=lambda texts: tokenizer, block_size=32)
    data.setup("fit")
    assert len(data.split_dataset("train")) > 12 * 64 // 32  # every text cut into many blocks
    out, err = capfd.readouterr()
    assert "longer than the specified maximum" not in out + err
