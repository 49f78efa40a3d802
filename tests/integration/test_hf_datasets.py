"""data=hf_text|hf_labelled_text|hf_images|hf_audio: the Hugging Face datasets library as the loader, on real
files that datasets' own local builders read (json, csv, parquet, imagefolder, a save_to_disk folder)."""

import json

import numpy as np
import pytest
import torch

from genlab import api
from genlab.data.hf_columns import ArrowRows
from genlab.data.token_blocks import StreamedTokenBlocks, TokenBlocks
from genlab.errors import DataError

WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "seven",
    "cats",
    "sleep",
    "in",
    "warm",
    "sun",
]


def write_corpus(path, count: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    texts = [" ".join(rng.choice(WORDS, size=int(rng.integers(4, 20)))) for _ in range(count)]
    path.write_text("\n".join(json.dumps({"text": t, "n": i}) for i, t in enumerate(texts)))
    return texts


def lm(corpus, cache, *extra: str) -> list[str]:
    return [
        "experiment=fortunes_lm",
        "data=hf_text",
        "data.source.path=json",
        f"data.source.data_files={corpus}",
        f"paths.cache_dir={cache}",
        "data.block_size=16",
        "data.tokenizer.vocab_size=300",
        "extras.print_config=false",
        "logger=none",
        *extra,
    ]


def built_data(overrides: list[str], run_dir):
    data = api.build(api.compose(overrides, run_dir)).datamodule
    data.setup("fit")
    return data


def test_a_corpus_is_tokenized_once_into_memory_mapped_token_files(tmp_path):
    texts = write_corpus(tmp_path / "corpus.jsonl", 400)
    cache = tmp_path / "cache"
    data = built_data(lm(tmp_path / "corpus.jsonl", cache), tmp_path / "run")
    train = data.split_dataset("train")
    assert isinstance(train, TokenBlocks) and isinstance(train.stream, np.memmap)
    # the train split's texts, each followed by the end-of-sequence token, in corpus order
    held_out = len(data.split_dataset("val").stream) + len(data.split_dataset("test").stream)
    assert held_out > 0
    tokenizer = data.tokenizer
    decoded = tokenizer.decode(np.asarray(train.stream).tolist()).split(tokenizer.eos_token)
    train_texts = [t for t in decoded if t]
    assert len(train_texts) == 400 - 20 - 20 and set(train_texts) <= set(texts)
    assert [texts.index(t) for t in train_texts] == sorted(texts.index(t) for t in train_texts)
    val_texts = [
        t
        for t in tokenizer.decode(np.asarray(data.split_dataset("val").stream).tolist()).split(tokenizer.eos_token)
        if t
    ]
    assert len(val_texts) == 20 and not set(val_texts) & set(train_texts)
    inputs, targets = train.__getitems__([0, 3])
    assert inputs.shape == targets.shape == (2, 16) and torch.equal(inputs[:, 1:], targets[:, :-1])
    # cached under paths.cache_dir (datasets' map output, the held-out splits' indices and genlab's token files, all
    # read through memory maps): a second build reads them. The training split is never listed row by row: its
    # tokens are written from the whole dataset's, skipping the held-out rows.
    token_files = sorted((cache / "token_streams").glob("*.npy"))
    indices = list((cache / "hf_map").glob("*-indices.arrow"))
    assert len(token_files) == 3 and len(indices) == 2 and len(list((cache / "hf_map").glob("*.arrow"))) == 5
    stamps = [f.stat().st_mtime_ns for f in token_files]
    again = built_data(lm(tmp_path / "corpus.jsonl", cache), tmp_path / "run")
    assert [f.stat().st_mtime_ns for f in token_files] == stamps
    assert np.array_equal(again.split_dataset("train").stream, train.stream)


def test_a_datasets_own_splits_are_used_and_the_missing_ones_drawn(tmp_path):
    write_corpus(tmp_path / "a.jsonl", 200)
    write_corpus(tmp_path / "b.jsonl", 30, seed=1)
    files = f"data.source.data_files={{train:{tmp_path / 'a.jsonl'},test:{tmp_path / 'b.jsonl'}}}"
    data = built_data(lm(tmp_path / "a.jsonl", tmp_path / "cache", files, "data.val_size=10"), tmp_path / "run")
    splits = data.source.load()
    assert len(splits["test"]) == 30  # the dataset's own test split, whole
    tokens = {s: len(data.split_dataset(s).stream) for s in ("train", "val", "test")}
    # chosen by name: the test file becomes the validation split
    chosen = [files, "data.source.splits={train:train,val:test}", "data.test_size=10"]
    swapped = built_data(lm(tmp_path / "a.jsonl", tmp_path / "cache", *chosen), tmp_path / "run2")
    assert len(swapped.split_dataset("val").stream) == tokens["test"]


def test_a_save_to_disk_folder_is_read_as_it_is(tmp_path):
    from datasets import Dataset

    texts = write_corpus(tmp_path / "corpus.jsonl", 100)
    folder = tmp_path / "saved"
    Dataset.from_dict({"body": texts}).save_to_disk(folder)
    before = sorted(p.name for p in folder.iterdir())
    overrides = lm(tmp_path / "corpus.jsonl", tmp_path / "cache", f"data.source.path={folder}", "data.text_column=body")
    overrides.remove(f"data.source.data_files={tmp_path / 'corpus.jsonl'}")
    metrics = api.run([*overrides, "trainer.fast_dev_run=true"], tmp_path / "run")
    assert np.isfinite(metrics["test/loss"])
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written beside the user's data


def test_labels_become_classes_by_name_and_rows_stay_in_arrow(tmp_path, tiny_bert_zip):
    rows = ["review,sentiment"] + [
        f"film {i} was {'great' if i % 3 else 'dull'},{'pos' if i % 3 else 'neg'}" for i in range(60)
    ]
    (tmp_path / "reviews.csv").write_text("\n".join(rows))
    overrides = [
        "task=sequence_classification",
        "model=hf_seqcls",
        f"model.name_or_path={tiny_bert_zip}",
        "data=hf_labelled_text",
        "data.source.path=csv",
        f"data.source.data_files={tmp_path / 'reviews.csv'}",
        "data.text_column=review",
        "data.label_column=sentiment",
        f"paths.cache_dir={tmp_path / 'cache'}",
        "logger=none",
    ]
    composed = api.compose(overrides, tmp_path / "run")
    assert composed.config.data.num_classes == 2
    data = api.build(composed).datamodule
    data.setup("fit")
    assert data.class_names == ("neg", "pos")
    train = data.split_dataset("train")
    assert isinstance(train, ArrowRows)
    assert all(f["filename"].startswith(str(tmp_path / "cache")) for f in train.dataset.cache_files)
    ids, mask, labels = train.__getitems__(list(range(len(train))))
    texts = data.tokenizer.batch_decode(ids, skip_special_tokens=True)
    assert all(("great" in t) == bool(label) for t, label in zip(texts, labels.tolist()))
    assert ids.shape[1] == 128 and mask.dtype == torch.int64


def test_a_hub_id_offline_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(
        DataError,
        match=r"^data.source.path=someone/corpus: cannot reach the Hugging Face hub \(offline\?\); point data.source.path at a local builder",
    ):
        api.run(
            lm(
                tmp_path / "none.jsonl",
                tmp_path / "cache",
                "data.source.path=someone/corpus",
                "trainer.fast_dev_run=true",
            ),
            tmp_path / "run",
        )


def test_unreadable_images_are_skipped_up_to_the_allowed_share(tmp_path, caplog):
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        (tmp_path / "images" / name).mkdir(parents=True)
        for i in range(10):
            Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).save(
                tmp_path / "images" / name / f"{i}.png"
            )
    (tmp_path / "images" / "a" / "broken.png").write_bytes(b"not a png at all")
    overrides = [
        "data=hf_images",
        "data.source.path=imagefolder",
        f"data.source.data_dir={tmp_path / 'images'}",
        "data.image_size=8",
        f"paths.cache_dir={tmp_path / 'cache'}",
        "logger=none",
        "trainer.fast_dev_run=true",
    ]
    with pytest.raises(
        DataError, match=r"^data.max_bad_files=0.0: 1 of 21 files cannot be read as images \((train|val|test) row \d+\)"
    ):
        api.run(overrides, tmp_path / "run")
    data = built_data([*overrides, "data.max_bad_files=0.1"], tmp_path / "run2")
    assert sum(len(data.split_dataset(s)) for s in ("train", "val", "test")) == 20
    inputs, labels = data.split_dataset("train").__getitems__(list(range(len(data.split_dataset("train")))))
    # normalized by the training split's own statistics
    assert inputs.shape[1:] == (3, 8, 8) and abs(float(inputs.mean())) < 1e-3 and abs(float(inputs.std()) - 1) < 0.05
    assert set(labels.tolist()) == {0, 1}


def test_a_cnn_learns_image_classes_from_a_parquet_file(tmp_path):
    from datasets import load_dataset
    from test_image_folder import PATTERNS, write_images

    write_images(tmp_path / "patterns", per_class=50)
    parquet = tmp_path / "patterns.parquet"
    load_dataset("imagefolder", data_dir=str(tmp_path / "patterns"), cache_dir=str(tmp_path / "hf"))[
        "train"
    ].to_parquet(parquet)
    metrics = api.run(
        [
            "model=cnn",
            "model.channels=[16,32]",
            "model.fc_size=64",
            "data=hf_images",
            "data.source.path=parquet",
            f"data.source.data_files={parquet}",
            "data.image_size=16",
            "data.batch_size=16",
            f"paths.cache_dir={tmp_path / 'cache'}",
            "trainer.max_epochs=8",
            "logger=none",
            "extras.print_config=false",
        ],
        tmp_path / "run",
    )
    assert metrics["test/acc"] > 1 / len(PATTERNS) + 0.3  # the majority class is a third


class _Counting:
    """Passes of numbered blocks: pass p gives blocks 1000p .. 1000p + 9."""

    def __init__(self):
        self.started = []

    def __call__(self, pass_number):
        self.started.append(pass_number)
        return iter(np.full(3, 1000 * pass_number + i, dtype=np.int64) for i in range(10))


def test_a_stream_is_read_in_fixed_epochs_and_resumes_where_it_stopped():
    passes = _Counting()
    stream = StreamedTokenBlocks(passes, length=4)
    first = [int(x[0]) for x, _ in stream] + [int(x[0]) for x, _ in stream] + [int(x[0]) for x, _ in stream]
    assert first == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1000, 1001]  # epochs continue the stream, then its next pass
    consumed = iter(stream)
    [next(consumed) for _ in range(2)]
    state = stream.state_dict()
    rest = [int(x[0]) for x, _ in consumed]
    resumed = StreamedTokenBlocks(_Counting(), length=4)
    resumed.load_state_dict(state)
    assert [int(x[0]) for x, _ in resumed] == rest == [1004, 1005]


def test_a_streamed_run_killed_mid_epoch_resumes_to_identical_weights(tmp_path):
    from helpers import env_with_test_modules, run_cli

    write_corpus(tmp_path / "corpus.jsonl", 60)
    common = [
        *lm(tmp_path / "corpus.jsonl", tmp_path / "cache"),
        "data.source.streaming=true",
        "data.val_size=10",
        "data.test_size=10",
        "data.shuffle_buffer=50",
        "data.batch_size=8",
        # 80 blocks an epoch: more than the 40 training texts make, so the run goes on into the stream's next pass
        "data.steps_per_epoch=10",
        "model.embed_dim=32",
        "model.num_layers=1",
        "trainer.max_epochs=2",
        "trainer.num_sanity_val_steps=0",
        "callbacks=[last_checkpoint,step_checkpoints]",
        "callbacks.step_checkpoints.every_n_train_steps=5",
    ]
    env = env_with_test_modules()
    straight = run_cli([*common, "experiment_name=straight"], cwd=tmp_path, env=env)
    assert straight.returncode == 0, straight.stderr[-2000:]
    killed = [
        *common,
        "experiment_name=killed",
        "+callbacks.kill._target_=killer.KillAtStep",
        "+callbacks.kill.step=17",  # epoch 1, after the step checkpoint at 15
        f"+callbacks.kill.marker={tmp_path / 'killed.marker'}",
    ]
    assert run_cli(killed, cwd=tmp_path, env=env).returncode == -9
    resumed = run_cli([*killed, "resume=true"], cwd=tmp_path, env=env)
    assert resumed.returncode == 0 and "step_0000015.ckpt" in resumed.stdout + resumed.stderr, resumed.stderr[-2000:]
    (first,), (again,) = ((tmp_path / "outputs" / n / "runs").iterdir() for n in ("straight", "killed"))
    expected, got = (torch.load(f / "checkpoints" / "last.ckpt", weights_only=True) for f in (first, again))
    assert got["global_step"] == expected["global_step"] == 20
    for name, tensor in expected["state_dict"].items():
        assert torch.equal(got["state_dict"][name], tensor), name


def test_a_curriculum_orders_arrow_images_by_complexity(tmp_path):
    from test_image_folder import write_images

    from genlab.schedules.difficulty import ImageComplexity

    write_images(tmp_path / "patterns", per_class=10)
    overrides = [
        "data=hf_images",
        "data.source.path=imagefolder",
        f"data.source.data_dir={tmp_path / 'patterns'}",
        "data.image_size=12",
        f"paths.cache_dir={tmp_path / 'cache'}",
        "logger=none",
    ]
    data = built_data(overrides, tmp_path / "built")
    train = data.split_dataset("train")
    images, _ = train.__getitems__(list(range(len(train))))
    smooth = (images[..., :, 1:] - images[..., :, :-1]).abs().mean(dim=(1, 2, 3))
    smooth += (images[..., 1:, :] - images[..., :-1, :]).abs().mean(dim=(1, 2, 3))
    assert torch.allclose(ImageComplexity()(data, None), smooth)
    api.run(
        [*overrides, "experiment=curriculum_fashion", "data=hf_images", "trainer.fast_dev_run=true"], tmp_path / "run"
    )
