"""data=mixture: several data sets trained as one, sampled by weight, deterministic and resumable, with each
source's validation loss."""

import csv
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from genlab import api
from genlab.data.mixture import MixtureSampler
from genlab.errors import ConfigError


def test_the_sampler_draws_by_weight_and_is_a_function_of_seed_and_epoch():
    sampler = MixtureSampler([100, 1000], [0.7, 0.3], num_samples=5000, seed=3)
    first = list(sampler)
    share = sum(i < 100 for i in first) / len(first)
    assert abs(share - 0.7) < 0.03  # the small source is oversampled to its weight
    assert Counter(i for i in first if i < 100).most_common(1)[0][1] <= 36  # cycling fresh orders, not repeats
    assert list(MixtureSampler([100, 1000], [0.7, 0.3], num_samples=5000, seed=3)) == first
    sampler.set_epoch(1)
    assert list(sampler) != first


@pytest.fixture(scope="module")
def digits_folder(tmp_path_factory):
    """scikit-learn's digits written out as 8×8 PNGs in class folders "0" to "9": a second source of the same
    kind of examples."""
    from sklearn.datasets import load_digits

    root = tmp_path_factory.mktemp("digit_pngs")
    digits = load_digits()
    for i, (image, label) in enumerate(zip(digits.images[:600], digits.target[:600])):
        (root / str(label)).mkdir(exist_ok=True)
        Image.fromarray((image * 255 / 16).astype(np.uint8)).save(root / str(label) / f"{i}.png")
    return root


def mixture(folder, *extra: str) -> list[str]:
    return [
        "data=mixture",
        "+data@data.sources.sklearn=digits",
        "+data@data.sources.pngs=image_folder",
        f"data.sources.pngs.root={folder}",
        "data.sources.pngs.channels=1",
        "data.sources.pngs.image_size=8",
        "extras.print_config=false",
        *extra,
    ]


def test_a_mixture_trains_and_reports_each_source(digits_folder, tmp_path):
    run = tmp_path / "run"
    metrics = api.run(
        mixture(
            digits_folder,
            "data.weights={sklearn:0.7,pngs:0.3}",
            "data.num_samples=2000",
            "trainer.max_epochs=3",
            "logger=csv",
        ),
        run,
    )
    assert metrics["test/acc"] > 0.8
    with (run / "csv" / "metrics.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r.get("val/sklearn/loss")]
    assert len(rows) == 3 and all(float(r["val/pngs/loss"]) > 0 for r in rows)
    # accuracy per source too: the overall one is their mean weighted by the sources' sizes, so between them
    for r in rows:
        per_source = [float(r[f"val/{name}/acc"]) for name in ("sklearn", "pngs")]
        assert min(per_source) - 1e-6 <= float(r["val/acc"]) <= max(per_source) + 1e-6
    # an epoch is num_samples long: 2000 / 64 batches
    assert {int(r["step"]) for r in rows} == {31, 63, 95}


def test_mixture_mistakes_are_one_line(digits_folder, tmp_path):
    with pytest.raises(ConfigError, match=r"data=mixture needs two or more sources"):
        api.run(["data=mixture", "trainer.fast_dev_run=true", "logger=none"], tmp_path / "run")
    with pytest.raises(ConfigError, match=r"data.weights=\{'sklearn': 0.5, 'other': 0.5\}: give each of sklearn, pngs"):
        api.run(
            mixture(digits_folder, "data.weights={sklearn:0.5,other:0.5}", "trainer.fast_dev_run=true", "logger=none"),
            tmp_path / "run",
        )
    with pytest.raises(
        Exception, match=r"data.sources.pngs gives examples shaped .*mix sources whose examples have one"
    ):
        api.run(
            mixture(
                digits_folder,
                "data.sources.pngs.image_size=16",
                "model.input_shape=[1,8,8]",
                "trainer.fast_dev_run=true",
                "logger=none",
            ),
            tmp_path / "run",
        )


def test_a_mixture_is_a_curriculum_stages_data(digits_folder, tmp_path):
    """A last stage that mixes in the PNG digits (weights kept), after a stage on the run's own data."""
    conf = tmp_path / "conf" / "experiment"
    conf.mkdir(parents=True)
    (conf / "mixed_stage.yaml").write_text(
        f"""# @package _global_
defaults:
  - override /data: digits
  - override /schedule: curriculum
schedule:
  stages:
    - {{name: plain, max_difficulty: 0.5, epochs: 1, lr: 0.01}}
    - name: mixed
      epochs: 1
      lr: 0.005
      data:
        _target_: genlab.data.MixtureDataModule
        input_shape: [1, 8, 8]
        num_classes: 10
        weights: {{sklearn: 0.5, pngs: 0.5}}
        num_samples: 640
        sources:
          sklearn: {{_target_: genlab.data.DigitsDataModule, input_shape: [1, 8, 8], num_classes: 10}}
          pngs:
            _target_: genlab.data.ImageFolderDataModule
            root: {digits_folder}
            channels: 1
            image_size: 8
            input_shape: [1, 8, 8]
            num_classes: 10
"""
    )
    run = tmp_path / "run"
    api.run(["experiment=mixed_stage", "logger=csv", "extras.print_config=false"], run, config_dir=tmp_path / "conf")
    with (run / "csv" / "metrics.csv").open() as f:
        steps = sorted({int(r["step"]) for r in csv.DictReader(f) if r.get("val/loss")})
    # the mixed stage is the mixture's weighted draw, num_samples long: 640 / 64 (its batch size) = 10 steps
    assert steps[1] - steps[0] == 10


@pytest.mark.subprocess
def test_a_mixture_killed_mid_epoch_resumes_to_identical_weights(digits_folder, tmp_path):
    import torch

    from helpers import env_with_test_modules, run_cli

    common = [
        *mixture(digits_folder, "data.weights={sklearn:0.7,pngs:0.3}", "data.num_samples=1280"),
        "model.dropout=0.2",
        "trainer.max_epochs=2",
        "trainer.num_sanity_val_steps=0",
        "logger=none",
        "callbacks=[last_checkpoint,step_checkpoints]",
        "callbacks.step_checkpoints.every_n_train_steps=5",
    ]
    env = env_with_test_modules()
    assert run_cli([*common, "experiment_name=straight"], cwd=tmp_path, env=env).returncode == 0
    killed = [
        *common,
        "experiment_name=killed",
        "+callbacks.kill._target_=killer.KillAtStep",
        "+callbacks.kill.step=27",  # epoch 1 (20 steps an epoch), after the step checkpoint at 25
        f"+callbacks.kill.marker={tmp_path / 'killed.marker'}",
    ]
    assert run_cli(killed, cwd=tmp_path, env=env).returncode == -9
    resumed = run_cli([*killed, "resume=true"], cwd=tmp_path, env=env)
    assert resumed.returncode == 0 and "step_0000025.ckpt" in resumed.stdout + resumed.stderr
    (straight,), (again,) = ((tmp_path / "outputs" / n / "runs").iterdir() for n in ("straight", "killed"))
    expected, got = (torch.load(f / "checkpoints" / "last.ckpt", weights_only=True) for f in (straight, again))
    assert got["global_step"] == expected["global_step"] == 40
    for name, tensor in expected["state_dict"].items():
        assert torch.equal(got["state_dict"][name], tensor), name


def test_sources_that_cannot_mix_are_one_line(digits_folder, tmp_path):
    fast = ["trainer.fast_dev_run=true", "logger=none"]
    with pytest.raises(ConfigError, match=r"data.sources.pngs has 10 classes, the first source 3; mix sources that"):
        api.run(
            mixture(digits_folder, "data.num_classes=3", "data.sources.sklearn.num_classes=3", *fast), tmp_path / "run"
        )
    with pytest.raises(ConfigError, match=r"data.weights=\{'sklearn': 0.0, 'pngs': 0.0\}: at least one source needs"):
        api.run(mixture(digits_folder, "data.weights={sklearn:0.0,pngs:0.0}", *fast), tmp_path / "run")
