"""Bad input: one line naming the key or file and the fix, exit code 2, no traceback."""

import pytest

from genlab import api
from genlab.errors import ConfigError
from helpers import FAST, run_cli


@pytest.mark.subprocess
@pytest.mark.parametrize(
    "args, expected",
    [
        (["model=fnn"], "model=fnn: no such option (did you mean"),
        (["model.hiden_size=3"], "model.hiden_size is not a config key; did you mean model.hidden_size?"),
        (["seed=abc"], "key: seed"),
        (["model=[ffn"], "no viable alternative"),
        (["-m", "model=ffn,cnn", "--cfg", "job"], "--cfg shows one job's config: drop -m"),
        (["hparams_search=optuna", "experiment=nope"], "experiment=nope: no such option"),
        (["paths.log_dir=/etc/hostname/runs"], "paths.log_dir: cannot create the run folder /etc/hostname/runs/"),
    ],
)
def test_composition_errors_are_one_line(args, expected, tmp_path):
    result = run_cli(args, cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("genlab: error: ") and expected in lines[0], result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.subprocess
def test_errors_found_after_composition_are_one_line_too(tmp_path):
    result = run_cli(["data.root=/nowhere", *FAST], cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("genlab: error")]
    assert errors == [
        "genlab: error: data.root: /nowhere/train-images-idx3-ubyte.gz not found; install Fashion-MNIST with "
        "'apt-get install dataset-fashion-mnist' or set data.root to a folder holding train-images-idx3-ubyte.gz, "
        "train-labels-idx1-ubyte.gz"
    ]
    assert "Traceback" not in result.stdout + result.stderr


def test_settings_that_cannot_apply_fail_before_training(run_dir):
    """predict=true checked up front: a whole training is not lost to a generation setting (docs/bad_inputs.md
    lists the messages; here, that nothing trained)."""
    cases = [
        (["experiment=digits_diffusion", "predict=true", "generation.prompts=[banana]"], "unknown class 'banana'"),
        (["experiment=fortunes_lm", "generation=audio", "predict=true"], "does not generate audio"),
        (["predict=true"], "predict=true needs generation settings"),
    ]
    for overrides, message in cases:
        with pytest.raises(ConfigError, match=message):
            api.run([*overrides, "trainer.max_epochs=1", "logger=csv", "extras.print_config=false"], run_dir)
        assert not (run_dir / "checkpoints").exists() and not (run_dir / "csv").exists()


def test_a_one_file_corpus_without_separator_trains(run_dir, tmp_path):
    """A single .txt is one text (the documented default): it is split into its paragraphs for train/val/test."""
    corpus = tmp_path / "book.txt"
    corpus.write_text("\n\n".join(f"Paragraph {i}: " + "words of the book " * 20 for i in range(30)))
    metrics = api.run(
        [
            "experiment=fortunes_lm",
            "data=text_files",
            f"data.paths=[{corpus}]",
            "data.block_size=32",
            "trainer.max_epochs=1",
            "logger=none",
            "extras.print_config=false",
        ],
        run_dir,
    )
    assert metrics["test/loss"] > 0


def test_a_diverging_run_stops_at_once_with_the_step_and_the_fix(run_dir):
    from genlab.callbacks import TrainingDiverged

    # Adam at lr 1e30 throws the weights to ±1e30 in one step: the next logits overflow and the loss is NaN
    overrides = ["experiment=digits_ffn", "task.optimizer.lr=1e30", "logger=csv", "extras.print_config=false"]
    with pytest.raises(
        TrainingDiverged, match=r"training loss became (nan|inf) at step \d+ \(epoch 0\): lower task.optimizer.lr"
    ):
        api.run(overrides, run_dir)
    assert not (run_dir / "metrics.json").exists()


def test_a_data_problem_ends_the_run_before_the_model_is_built_and_wandb_starts(run_dir, monkeypatch):
    """The data is read and checked first: a model that would be built, and a W&B run that would be started, are
    neither when the files do not hold what the config says."""
    from genlab.errors import DataError
    from genlab.nets import FeedForward

    built = []
    monkeypatch.setattr(FeedForward, "__init__", lambda self, *a, **k: built.append(1) or None)
    with pytest.raises(
        DataError, match=r"^data.input_shape=\[1, 32, 32\] but the files hold images shaped \[1, 28, 28\]"
    ):
        api.run(["data.input_shape=[1,32,32]", "logger=[wandb,csv]", "trainer.fast_dev_run=true"], run_dir)
    assert built == [] and not (run_dir / "wandb").exists()
