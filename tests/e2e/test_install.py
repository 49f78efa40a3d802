"""genlab as a package: a wheel installed into a fresh environment runs from a folder outside the checkout, and a
user's own project adds its config groups and classes on top of genlab's (examples/own_project)."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from genlab import api
from helpers import REPO

OWN_PROJECT = REPO / "examples" / "own_project"
pytestmark = pytest.mark.subprocess


def run(command: list[str], cwd: Path, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    result = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, "WANDB_MODE": "offline", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory) -> Path:
    """A new virtual environment holding genlab from its wheel (not the checkout). Its dependencies come from this
    test's environment through a .pth file: installing torch and the rest again would test pip, not genlab."""
    root = tmp_path_factory.mktemp("wheel")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(root / "dist"),
            str(REPO),
        ],
        cwd=root,
    )
    (wheel,) = (root / "dist").glob("genlab-*.whl")
    venv = root / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=root)
    python = venv / "bin" / "python"
    run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], cwd=root)
    site = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root
    ).stdout.strip()
    (Path(site) / "genlab_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def test_the_wheel_carries_its_configs_and_runs_outside_the_checkout(wheel_env, tmp_path):
    where = run(
        [str(wheel_env / "python"), "-c", "import genlab.conf; print(genlab.conf.__file__)"], cwd=tmp_path
    ).stdout
    assert str(REPO) not in where and "site-packages" in where
    help_text = run([str(wheel_env / "genlab-train"), "--help"], cwd=tmp_path).stdout
    assert "experiment: " in help_text and "Which model goes with which task and data" in help_text
    # the default job (Fashion-MNIST, the feed-forward net), one epoch of its three
    run(
        [str(wheel_env / "genlab-train"), "trainer.max_epochs=1", "logger=csv", "extras.print_config=false"],
        cwd=tmp_path,
    )
    (run_dir,) = (tmp_path / "outputs" / "train" / "runs").iterdir()
    assert json.loads((run_dir / "metrics.json").read_text())["test/acc"] > 0.8
    run([str(wheel_env / "genlab-report"), str(run_dir)], cwd=tmp_path)
    assert "test/acc" in (run_dir / "report" / "report.md").read_text()


def test_own_project_adds_its_data_and_experiment_to_genlabs(wheel_env, tmp_path):
    project = tmp_path / "own_project"
    shutil.copytree(OWN_PROJECT, project)
    args = ["--config-dir", "conf", "experiment=iris_ffn", "logger=csv", "extras.print_config=false"]
    run([str(wheel_env / "genlab-train"), *args], cwd=project, env={"PYTHONPATH": str(project)})
    (run_dir,) = (project / "outputs" / "iris_ffn" / "runs").iterdir()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test/acc"] >= 0.8  # three classes of 10 test rows each: chance is 1/3


def test_own_config_folder_composes_through_the_api(tmp_path):
    composed = api.compose(["experiment=iris_ffn"], tmp_path / "run", config_dir=OWN_PROJECT / "conf")
    assert composed.config.data._target_ == "my_project.tables.CsvTableDataModule"
    assert composed.config.model.input_shape == [4] and composed.context.choices["data"] == "iris_table"


def test_a_class_not_on_the_path_names_pythonpath(tmp_path):
    from genlab.errors import ConfigError

    with pytest.raises(
        ConfigError, match=r"data\._target_: cannot import 'my_project\.tables\.CsvTableDataModule' .*PYTHONPATH"
    ):
        api.run(["experiment=iris_ffn", "logger=none"], tmp_path / "run", config_dir=OWN_PROJECT / "conf")
