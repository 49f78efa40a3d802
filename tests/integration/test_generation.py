"""Generation as a Lightning prediction step: files in the run folder, W&B tables, prediction from a checkpoint."""

import json

import pytest

from genlab import api
from genlab.errors import ConfigError
from helpers import CONF

LM = [
    "experiment=fortunes_lm",
    "data.files=[computers]",
    "data.block_size=32",
    "data.tokenizer.vocab_size=400",
    "model.embed_dim=32",
    "model.num_layers=1",
    "model.ff_dim=64",
    "trainer.max_epochs=2",
    "+trainer.limit_train_batches=10",
    "trainer.limit_val_batches=2",
    "trainer.limit_test_batches=2",
    "generation.max_new_tokens=12",
    "generation.num_return_sequences=2",
    "extras.print_config=false",
]


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_predict_after_training_writes_files_and_wandb_tables(run_dir):
    api.run([*LM, "predict=true", "logger=[csv,wandb]"], run_dir)
    rows = read_jsonl(run_dir / "generations.jsonl")
    prompts = ["The meaning of life is", "A computer", "Never"]
    assert [(r["prompt"], r["sample"]) for r in rows] == [(p, s) for p in prompts for s in (0, 1)]
    assert all(isinstance(r["generation"], str) for r in rows)
    samples = read_jsonl(run_dir / "samples.jsonl")
    assert sorted({s["epoch"] for s in samples}) == [0, 1]  # every epoch, as generation.every_n_epochs=1
    (segment,) = (run_dir / "wandb").glob("offline-run-*")
    tables = [p.name for p in (segment / "files" / "media" / "table").iterdir()]
    assert any(t.startswith("generations_") for t in tables) and any(t.startswith("samples_") for t in tables)
    table = json.loads(next((segment / "files" / "media" / "table").glob("generations_*.json")).read_text())
    assert table["columns"] == ["prompt", "sample", "generation"] and len(table["data"]) == 6


def test_predict_alone_from_a_checkpoint_is_reproducible(tmp_path):
    trained = tmp_path / "runs" / "trained"
    api.run([*LM, "logger=none"], trained)
    checkpoint = trained / "checkpoints" / "last.ckpt"
    # train=false with ckpt_path: a folder of its own, carrying the trained run's tokenizer
    outputs = []
    for attempt in range(2):
        folder = tmp_path / "runs" / f"generate-{attempt}"
        api.run(
            [
                *LM,
                "train=false",
                "test=false",
                "predict=true",
                f"ckpt_path={checkpoint}",
                "logger=none",
                "generation.prompts=[Unix]",
                "generation.num_return_sequences=1",
            ],
            folder,
        )
        outputs.append(read_jsonl(folder / "generations.jsonl"))
        assert (folder / "tokenizer" / "tokenizer.json").read_bytes() == (
            trained / "tokenizer/tokenizer.json"
        ).read_bytes()
        assert json.loads((folder / "weights_source.json").read_text())["run"] == str(trained.resolve())
    assert not (trained / "generations.jsonl").exists()
    assert outputs[0] == outputs[1] and outputs[0][0]["prompt"] == "Unix"
    assert len(outputs[0][0]["generation"]) > 0


def test_lm_model_with_image_data_says_what_to_pair(run_dir, tmp_path):
    with pytest.raises(
        ConfigError,
        match=r"^model=transformer_lm does not go with task=classification: .*needs task=language_modeling$",
    ):
        api.run(["model=transformer_lm", "trainer.fast_dev_run=true", "logger=none"], run_dir)
    # a model of the user's own (in no family) that does not fit the data: the unresolvable key says what to pair
    own = tmp_path / "conf" / "model"
    own.mkdir(parents=True)
    (own / "my_lm.yaml").write_text((CONF / "model" / "transformer_lm.yaml").read_text())
    with pytest.raises(
        ConfigError,
        match=r"model.max_len=\$\{data.block_size\} cannot be resolved.*experiment=\.\.\. pairs model, task and data",
    ):
        api.run(["model=my_lm", "trainer.fast_dev_run=true", "logger=none"], run_dir, config_dir=tmp_path / "conf")


def test_predict_without_prompts_or_generation_settings(run_dir):
    with pytest.raises(ConfigError, match="predict=true needs generation settings"):
        api.run(["data=digits", "predict=true", "trainer.fast_dev_run=true", "logger=none"], run_dir)
