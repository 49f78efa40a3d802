"""Bad input: one line naming the key or file and the fix, exit code 2, no traceback."""

import pytest

from genlab import api
from genlab.errors import ConfigError, DataError
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


@pytest.mark.parametrize(
    "overrides, error, message",
    [
        # a misspelled key added by an experiment file (here with +) is caught against the class signature
        (
            ["+model.hiden_size=3"],
            ConfigError,
            r"model.hiden_size: genlab.nets.FeedForward has no argument 'hiden_size' \(did you mean model.hidden_size\?\)",
        ),
        (["model.hidden_size=abc"], ConfigError, r"model.hidden_size='abc': genlab.nets.FeedForward expects int"),
        (
            ["task.optimizer.lr=fast"],
            ConfigError,
            r"task.optimizer.lr='fast': torch.optim.Adam expects float or Tensor",
        ),
        (
            ["trainer.max_epochs=abc"],
            ConfigError,
            r"^trainer.max_epochs='abc': lightning.pytorch.Trainer expects int or None",
        ),
        (["model._target_=genlab.nets.Nope"], ConfigError, r"model._target_: cannot import 'genlab.nets.Nope'"),
        (["monitor_mode=up"], ConfigError, r"monitor_mode='up': use min or max"),
        (["data.root=/nowhere"], DataError, r"data.root: /nowhere/train-images-idx3-ubyte.gz not found; install"),
        (
            ["data.input_shape=[1,32,32]"],
            DataError,
            r"data.input_shape=\[1, 32, 32\] but the files hold images shaped \[1, 28, 28\]",
        ),
        (
            ["model=transformer", "model.patch_size=5"],
            ConfigError,
            r"model \(genlab.nets.TransformerClassifier\): patch_size=5 does not divide a 28×28 image; choose one of \[1, 2, 4, 7, 14, 28\]",
        ),
        (
            ["model=cnn", "data=digits", "model.channels=[8,8,8,8]"],
            ConfigError,
            r"4 pooling stages shrink a 8×8 image to nothing",
        ),
        (
            ["model.input_shape=[1,20,20]"],
            ConfigError,
            r"model=ffn cannot take data.input_shape=\[1, 28, 28\].*check the model.\* sizes",
        ),
        (
            ["data=cifar10", "data.root=/nowhere"],
            DataError,
            r"data.root: no cifar-10-batches-py folder under /nowhere; set data.root",
        ),
        (["ckpt_path=/nowhere/last.ckpt"], ConfigError, r"ckpt_path=/nowhere/last.ckpt: no such file"),
        (
            ["resume=true"],
            ConfigError,
            r"resume=true: no earlier run of experiment_name=train with these same overrides",
        ),
    ],
)
def test_bad_input_names_the_key_and_the_fix(overrides, error, message, run_dir):
    with pytest.raises(error, match=message):
        api.run([*overrides, *FAST], run_dir)


def test_cifar10_download_without_torchvision_says_how_to_install(run_dir):
    try:
        import torchvision  # noqa: F401
    except Exception:
        with pytest.raises(DataError, match=r"data.download=true needs torchvision .*pip install 'genlab\[vision\]'"):
            api.run(["data=cifar10", f"data.root={run_dir}/none", "data.download=true", *FAST], run_dir)
    else:
        pytest.skip("torchvision is importable here")


def test_a_diverging_run_stops_at_once_with_the_step_and_the_fix(run_dir):
    from genlab.callbacks import TrainingDiverged

    # Adam at lr 1e30 throws the weights to ±1e30 in one step: the next logits overflow and the loss is NaN
    overrides = ["experiment=digits_ffn", "task.optimizer.lr=1e30", "logger=csv", "extras.print_config=false"]
    with pytest.raises(
        TrainingDiverged, match=r"training loss became (nan|inf) at step \d+ \(epoch 0\): lower task.optimizer.lr"
    ):
        api.run(overrides, run_dir)
    assert not (run_dir / "metrics.json").exists()
