"""Every model on every dataset, and every experiment file, runs one batch of fit, validate and test."""

import pickle
from pathlib import Path

import numpy as np
import pytest
from helpers import FAST, REPO, run_in_process

MODELS = sorted(p.stem for p in (REPO / "conf" / "model").glob("*.yaml"))
DATASETS = sorted(p.stem for p in (REPO / "conf" / "data").glob("*.yaml"))
EXPERIMENTS = sorted(p.stem for p in (REPO / "conf" / "experiment").glob("*.yaml"))


@pytest.fixture(scope="session")
def cifar_root(tmp_path_factory) -> Path:
    """A small CIFAR-10 folder in the real python-pickle layout (the real one needs a download)."""
    root = tmp_path_factory.mktemp("cifar10")
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (40, 3072), dtype=np.uint8), b"labels": list(rng.integers(0, 10, 40))}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
    return root


def data_overrides(data: str, cifar_root: Path) -> list[str]:
    return [f"data.root={cifar_root}", "data.val_size=20"] if data == "cifar10" else []


def test_the_groups_hold_what_the_issue_names():
    assert {"ffn", "cnn", "rnn", "transformer"} <= set(MODELS)
    assert {"fashion_mnist", "digits", "cifar10"} <= set(DATASETS)


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize("model", MODELS)
def test_model_on_data_fast_dev_run(model, data, run_dir, cifar_root):
    metrics = run_in_process([f"model={model}", f"data={data}", *FAST, *data_overrides(data, cifar_root)], run_dir)
    assert np.isfinite(metrics["test/loss"])
    assert 0.0 <= metrics["test/acc"] <= 1.0


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_fast_dev_run(experiment, run_dir, cifar_root):
    data = (REPO / "conf" / "experiment" / f"{experiment}.yaml").read_text()
    extra = data_overrides("cifar10", cifar_root) if "override /data: cifar10" in data else []
    metrics = run_in_process([f"experiment={experiment}", *FAST, *extra], run_dir)
    assert np.isfinite(metrics["test/loss"])
