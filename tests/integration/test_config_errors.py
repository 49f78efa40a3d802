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
