"""trainer=ddp and trainer=fsdp on two CPU processes (gloo), alone and as the jobs of a multirun."""

import json
from pathlib import Path

import pytest
import torch

from genlab.api import load_run, load_run_data, run_checkpoint
from helpers import run_cli

COMMON = [
    "experiment=digits_ffn",
    "trainer.max_epochs=2",
    "logger=csv",
    "extras.print_config=false",
    "callbacks.rich_progress_bar=null",
]


def only_run_folder(cwd: Path) -> Path:
    (folder,) = (cwd / "outputs" / "digits_ffn" / "runs").iterdir()
    return folder


@pytest.fixture(scope="module")
def distributed_runs(tmp_path_factory) -> dict[str, Path]:
    """The same recipe trained by one process, by DDP over two and by FSDP over two."""
    folders = {}
    for name, trainer in (("single", "trainer=cpu"), ("ddp", "trainer=ddp"), ("fsdp", "trainer=fsdp")):
        cwd = tmp_path_factory.mktemp(name)
        result = run_cli([*COMMON, trainer], cwd=cwd, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        folders[name] = only_run_folder(cwd)
        folders[name + "_output"] = result.stdout + result.stderr
    return folders


@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_two_processes_train_into_one_run_folder(distributed_runs, strategy):
    folder, output = distributed_runs[strategy], distributed_runs[strategy + "_output"]
    assert "MEMBER: 1/2" in output and "MEMBER: 2/2" in output
    # one set of files, written by rank 0: the other rank left no folder, log or config of its own
    assert sorted(p.name for p in folder.iterdir()) == [
        ".hydra",
        "checkpoints",
        "config_resolved.yaml",
        "csv",
        "digits_ffn.log",
        "labels.json",
        "metrics.json",
    ]
    assert sorted(p.name for p in (folder / "checkpoints").iterdir()) == [
        "epoch_001.ckpt",
        "epoch_001.ckpt.sha256",
        "last.ckpt",
        "last.ckpt.sha256",
    ]
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["test/acc"] > 0.5


def test_ddp_and_fsdp_train_the_same_model(distributed_runs):
    """Both split each batch of 32 over two ranks and average the gradients: the same updates, the same metrics."""
    ddp = json.loads((distributed_runs["ddp"] / "metrics.json").read_text())
    fsdp = json.loads((distributed_runs["fsdp"] / "metrics.json").read_text())
    assert ddp.keys() == fsdp.keys()
    for name in ddp:
        assert fsdp[name] == pytest.approx(ddp[name], abs=1e-4), name


def test_sharded_training_saves_a_checkpoint_that_loads_anywhere(distributed_runs):
    """FSDP's checkpoint is gathered into one file with the single-process parameter names."""
    single = torch.load(run_checkpoint(distributed_runs["single"]), map_location="cpu", weights_only=True)["state_dict"]
    fsdp = torch.load(run_checkpoint(distributed_runs["fsdp"]), map_location="cpu", weights_only=True)["state_dict"]
    assert fsdp.keys() == single.keys()
    assert all(fsdp[k].shape == single[k].shape for k in single)
    module = load_run(distributed_runs["fsdp"])
    assert module(torch.zeros(3, 1, 8, 8)).shape == (3, 10)


def test_a_multirun_of_ddp_jobs_runs_each_job_once(tmp_path):
    """Each job's second rank runs that job, not the command line: with -m, that would be the whole sweep again."""
    result = run_cli(["-m", *COMMON, "trainer=ddp", "model.hidden_size=16,32"], cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    runs = tmp_path / "outputs" / "digits_ffn"
    assert [p.name for p in runs.iterdir()] == ["multiruns"]
    (sweep,) = (runs / "multiruns").iterdir()
    assert sorted(p.name for p in sweep.iterdir()) == ["0", "1", "multirun.yaml"]
    output = result.stdout + result.stderr
    assert output.count("MEMBER: 2/2") == 2 and output.count("Launching 2 jobs") == 1
    for job, hidden in (("0", 16), ("1", 32)):
        folder = sweep / job
        assert (folder / "metrics.json").is_file()
        assert sorted(p.name for p in (folder / "checkpoints").iterdir()) == [
            "epoch_001.ckpt",
            "epoch_001.ckpt.sha256",
            "last.ckpt",
            "last.ckpt.sha256",
        ]
        weights = torch.load(folder / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
        assert any(v.shape[0] == hidden for k, v in weights.items() if k.endswith("weight"))


@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_test_metrics_are_reduced_over_both_ranks(distributed_runs, strategy):
    """Each rank tests half of the test split; the logged accuracy is that of the whole split, as one process
    computes it from the same checkpoint (not rank 0's half)."""
    folder = distributed_runs[strategy]
    datamodule = load_run_data(folder)
    datamodule.setup("test")
    module = load_run(folder, "epoch_001.ckpt")
    correct = total = 0
    with torch.no_grad():
        for x, y in datamodule.test_dataloader():
            correct += int((module(x).argmax(-1) == y).sum())
            total += len(y)
    assert total % 2 == 0  # no padding by the distributed sampler
    logged = json.loads((folder / "metrics.json").read_text())["test/acc"]
    assert logged == pytest.approx(correct / total, abs=1e-6)


def test_an_optuna_study_of_ddp_trials_prunes_on_every_rank(tmp_path):
    """The pruned trial stops on both ranks (its second rank exits cleanly instead of taking the sweep down) and
    the next trial starts its own two processes."""
    args = [
        "hparams_search=optuna",
        *COMMON,
        "trainer=ddp",
        "hydra/sweeper/sampler=grid",
        "task.optimizer.lr=choice(0.005,0.0000001)",
        "task.optimizer.weight_decay=0",
        "data.batch_size=32",
        "hydra/sweeper/pruner=threshold",
        "hydra.sweeper.pruner.lower=0.5",
    ]
    result = run_cli(args, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    (study,) = (tmp_path / "outputs" / "digits_ffn" / "optuna").iterdir()
    states = {row.split(",")[3]: row.split(",")[1] for row in (study / "trials.csv").read_text().splitlines()[1:]}
    assert states == {"1e-07": "PRUNED", "0.005": "COMPLETE"}
    assert (result.stdout + result.stderr).count("MEMBER: 2/2") == 2


@pytest.mark.gpu
def test_ddp_trains_with_nccl_on_every_visible_gpu(tmp_path):
    result = run_cli([*COMMON, "trainer=ddp", "trainer.accelerator=gpu", "trainer.devices=-1"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "distributed_backend=nccl" in output
    assert f"MEMBER: 1/{torch.cuda.device_count()}" in output
    assert json.loads((only_run_folder(tmp_path) / "metrics.json").read_text())["test/acc"] > 0.5
