"""A language model and a classifier trained from text files as users have them: compressed, in folders, in
Latin-1 (see tests/unit/test_text_file_forms.py for each form alone)."""

import bz2
import gzip
import json

from genlab import api
from genlab.data.text_corpora import read_fortunes
from helpers import FAST


def test_a_language_model_trains_on_a_folder_of_compressed_files(tmp_path, run_dir):
    texts = read_fortunes("/usr/share/games/fortunes", ["science"])
    corpus = tmp_path / "corpus"
    (corpus / "more").mkdir(parents=True)
    half = len(texts) // 2
    (corpus / "first.jsonl.gz").write_bytes(
        gzip.compress("".join(json.dumps({"text": t}) + "\n" for t in texts[:half]).encode())
    )
    (corpus / "more" / "second.txt.bz2").write_bytes(bz2.compress("\n%\n".join(texts[half:]).encode()))
    overrides = ["experiment=fortunes_lm", "data=text_files", f"data.paths=[{corpus}]", "data.separator=%"]
    metrics = api.run([*overrides, "data.block_size=32", "data.tokenizer.vocab_size=300", *FAST], run_dir)
    assert metrics["test/loss"] > 0
    data = api.load_run_data(run_dir)
    data.setup("fit")
    assert sum(len(t) for t in data.texts.values()) == len(texts)  # every fortune of both files, none twice


def test_a_classifier_trains_on_latin_1_labelled_text_detected(tiny_bert_zip, tmp_path, run_dir):
    rows = [("très bon film, je l'ai adoré", 1), ("mauvais, ennuyeux et déjà vu", 0)] * 20
    (tmp_path / "avis.csv").write_bytes(("texte,note\n" + "".join(f'"{t}",{n}\n' for t, n in rows)).encode("latin-1"))
    overrides = [
        "experiment=minilm_movie_reviews",
        f"model.name_or_path={tiny_bert_zip}",
        "data=labelled_files",
        f"data.paths=[{tmp_path / 'avis.csv'}]",
        "data.text_column=texte",
        "data.label_column=note",
        "data.encoding=auto",
    ]
    assert api.run([*overrides, *FAST], run_dir)["test/acc"] >= 0
    texts, labels = api.load_run_data(run_dir).load_examples()
    assert (texts[:2], labels[:2]) == ([rows[0][0], rows[1][0]], [1, 0])  # the accents read right
