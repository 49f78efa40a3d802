"""A run folder carries what its weights need to be used without the data they were trained on: the class names
and their indices (labels.json), the tokenizer (tokenizer/), and the normalization of their inputs (the resolved
config). ``train=false ckpt_path=...`` reads them from a copied folder whose original data and run are gone, and
genlab-report names the classes."""

import json
import logging
import shutil

import numpy as np
import pytest

from genlab import api
from genlab.core.run_folder import read_labels
from genlab.errors import ConfigError, DataError
from genlab.report.render import write_report
from genlab.report.runs import find_runs
from integration.test_image_folder import PATTERNS, base, write_images

CNN = ["model=cnn", "model.channels=[16,32]", "model.fc_size=64", "data.batch_size=16"]


def copy_away(run, tmp_path):
    """The run folder copied elsewhere, the original deleted (with it, the data's only other trace)."""
    copy = tmp_path / "elsewhere" / run.name
    shutil.copytree(run, copy)
    shutil.rmtree(run)
    return copy


@pytest.fixture(scope="module")
def trained_cnn(tmp_path_factory):
    """A CNN trained on three pattern classes, its run folder copied elsewhere, its data and original run gone."""
    tmp = tmp_path_factory.mktemp("carried")
    data = tmp / "patterns"
    write_images(data, per_class=40)
    run = tmp / "cnn"
    metrics = api.run(base(data, *CNN, "trainer.max_epochs=8", "logger=none"), run)
    assert metrics["test/acc"] > 0.7
    resolved = api.read_run_config(run)
    shutil.rmtree(data)
    return copy_away(run, tmp), data, resolved


def test_the_run_folder_holds_the_labels_and_the_normalization(trained_cnn):
    run, _, resolved = trained_cnn
    labels = json.loads((run / "labels.json").read_text())
    assert labels == {
        "num_classes": 3,
        "id2label": {"0": "checks", "1": "horizontal", "2": "vertical"},
        "label2id": {"checks": 0, "horizontal": 1, "vertical": 2},
    }
    assert read_labels(run) == PATTERNS
    # data.mean/std were null: the statistics the training split gave are recorded
    assert len(resolved.data.mean) == 3 and all(0.1 < m < 0.9 for m in resolved.data.mean)
    assert len(resolved.data.std) == 3 and all(s > 0.05 for s in resolved.data.std)


def test_new_data_of_fewer_classes_is_scored_by_the_trained_indices(trained_cnn, tmp_path, caplog):
    """A folder of only two of the classes sorts them to indices 0 and 1; the weights call them 1 and 2. Scored
    by name, the trained CNN is right on them; scored by the folder's own order it would be wrong on nearly all."""
    run, _, _ = trained_cnn
    new = tmp_path / "new"
    write_images(new, per_class=15, seed=7)
    shutil.rmtree(new / "checks")
    overrides = base(new, *CNN, "train=false", f"ckpt_path={run}/checkpoints/last.ckpt", "logger=none")
    with caplog.at_level(logging.INFO, logger="genlab"):
        metrics = api.run(overrides, tmp_path / "evaluation")
    assert metrics["test/acc"] > 0.7
    assert "data.num_classes, data.input_shape, data.mean, data.std: as" in caplog.text
    data = api.build(api.compose(overrides, tmp_path / "built")).datamodule
    data.setup("test")
    assert sorted(set(data.splits["test"].tensors[1].tolist())) == [1, 2]  # every file is test data
    assert len(data.splits["test"]) == 30 and set(data.splits) == {"test"}
    assert read_labels(tmp_path / "evaluation") == PATTERNS


def test_a_class_the_weights_never_saw_is_one_line(trained_cnn, tmp_path):
    run, _, _ = trained_cnn
    new = tmp_path / "new"
    write_images(new, per_class=3, seed=3)
    (new / "horizontal").rename(new / "diagonal")
    with pytest.raises(DataError, match=r"data.root=.*new: class 'diagonal' is not one the weights were trained on"):
        api.run(base(new, *CNN, "train=false", f"ckpt_path={run}/checkpoints/last.ckpt", "logger=none"), tmp_path / "e")


def test_data_that_names_other_classes_is_refused(tmp_path):
    """Data whose classes are fixed (digits 0-9) cannot be mapped onto another run's: one line, before the model."""
    run = tmp_path / "patterns"
    data = tmp_path / "data"
    write_images(data, per_class=4)
    api.run(base(data, "model=ffn", "trainer.max_epochs=1", "logger=none"), run)
    ckpt = f"ckpt_path={run}/checkpoints/last.ckpt"
    with pytest.raises(ConfigError, match="was trained on the classes checks, horizontal, vertical, but the data's"):
        api.run(["data=digits", "model=ffn", "train=false", ckpt, "logger=none"], tmp_path / "digits")


def test_a_copied_diffusion_run_generates_by_class_name_without_its_data(tmp_path):
    data = tmp_path / "patterns"
    write_images(data, per_class=6)
    diffusion = [
        "experiment=diffusion",
        "data=image_folder",
        "model.block_out_channels=[16,32]",
        "model.attention_levels=[]",
        "generation.n_per_prompt=1",
        "generation.num_inference_steps=2",
        "logger=none",
    ]
    trained = tmp_path / "diffusion"
    api.run(base(data, *diffusion, "trainer.max_epochs=1", "trainer.limit_train_batches=2", "test=false"), trained)
    shutil.rmtree(data)
    run = copy_away(trained, tmp_path)
    generated = tmp_path / "generated"
    api.run(
        base(
            data,  # gone: nothing reads it
            *diffusion,
            "train=false",
            "test=false",
            "predict=true",
            "generation.prompts=[vertical,0]",
            f"ckpt_path={run}/checkpoints/last.ckpt",
        ),
        generated,
    )
    records = [json.loads(line) for line in (generated / "generations.jsonl").read_text().splitlines()]
    assert [(r["prompt"], r["label"]) for r in records] == [("vertical", 2), ("0", 0)]
    assert read_labels(generated) == PATTERNS  # carried into the generating run's own folder
    write_report(find_runs(generated), tmp_path / "report")
    report = (tmp_path / "report" / "report.md").read_text()
    assert "**0 (checks)**" in report and "Classes: 0 checks, 1 horizontal, 2 vertical" in report


def test_a_text_classifier_run_carries_its_tokenizer_and_label_names(tiny_bert_zip, tmp_path, caplog):
    """The model's own tokenizer is copied into the run; a test run of its checkpoint on a new file holding one of
    the labels reads the tokenizer from the checkpoint's run and indexes the label as it was trained."""
    rng = np.random.default_rng(0)
    words = {"bad": ["awful", "dull", "poor"], "good": ["great", "fine", "lovely"], "meh": ["okay", "plain", "so-so"]}

    def write(path, labels, n):
        rows = [(" ".join(rng.choice(words[label], size=4)), label) for label in rng.choice(labels, size=n)]
        path.write_text("text,label\n" + "".join(f"{text},{label}\n" for text, label in rows))

    write(tmp_path / "train.csv", list(words), 60)
    common = ["model=hf_seqcls", "task=sequence_classification", f"model.name_or_path={tiny_bert_zip}"]
    common += ["data=labelled_files", "data.num_classes=3", "extras.print_config=false"]
    trained = tmp_path / "trained"
    api.run([*common, f"data.paths=[{tmp_path / 'train.csv'}]", "trainer.max_epochs=1", "logger=none"], trained)
    assert (trained / "tokenizer" / "tokenizer.json").is_file()
    assert read_labels(trained) == ("bad", "good", "meh")
    (tmp_path / "train.csv").unlink()
    run = copy_away(trained, tmp_path)

    write(tmp_path / "new.csv", ["meh"], 20)
    overrides = [*common, f"data.paths=[{tmp_path / 'new.csv'}]", "train=false", "logger=none"]
    with caplog.at_level(logging.INFO, logger="genlab"):
        metrics = api.run([*overrides, f"ckpt_path={run}/checkpoints/last.ckpt"], tmp_path / "tested")
    assert "test/acc" in metrics
    assert f"tokenizer read from {tmp_path / 'tested' / 'tokenizer'}, the run's copy" in caplog.text
    assert (tmp_path / "tested" / "tokenizer" / "tokenizer.json").is_file()
    data = api.build(api.compose([*overrides, f"ckpt_path={run}/checkpoints/last.ckpt"], tmp_path / "b")).datamodule
    data.setup("test")
    assert data.class_names == ["bad", "good", "meh"]
    assert set(data.splits) == {"test"} and set(data.splits["test"].tensors[2].tolist()) == {2}
