"""A run killed (SIGKILL) after epoch 1 and resumed with resume=true ends bit-identical to an uninterrupted run."""

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from genlab.core.run_folder import overrides_hash, run_dir
from helpers import env_with_test_modules, load, only_run, run_cli, straight_then_killed_and_resumed
from wandb_recorder import wandb_sync

COMMON = [
    "data=digits",
    "model=ffn",
    "model.dropout=0.2",
    "trainer.max_epochs=3",
    "logger=[csv,wandb]",
    "extras.print_config=false",
]


def killed_mid_epoch_and_resumed(extra: list[str], tmp_path: Path) -> dict[str, Path]:
    """debug=limit-style runs (12 batches an epoch) with a checkpoint every 3 steps, one killed after the last batch
    of epoch 1 and resumed from step 21, in the middle of that epoch: it must end with the weights and step count
    of the run never killed. Returns the two run folders."""
    common = [
        *COMMON,
        *extra,
        "logger=csv",
        "trainer.limit_train_batches=0.3",
        "trainer.num_sanity_val_steps=0",
        "callbacks=[last_checkpoint,step_checkpoints]",
        "callbacks.step_checkpoints.every_n_train_steps=3",
    ]
    kill = ["+callbacks.kill.step=24", "+callbacks.kill.at=validation_start"]
    folders, expected, got = straight_then_killed_and_resumed(common, kill, "step_0000021.ckpt", tmp_path)
    assert got["global_step"] == expected["global_step"] == 36
    for name, tensor in expected["state_dict"].items():
        assert torch.equal(got["state_dict"][name], tensor), name
    return folders


def test_a_killed_compiled_bf16_run_resumes_to_identical_weights(tmp_path):
    """compile=true and bf16-mixed on CPU: the compiled net's checkpoints carry the eager names and resume exactly."""
    killed_mid_epoch_and_resumed(["trainer=cpu", "trainer.precision=bf16-mixed", "compile=true"], tmp_path)


@pytest.mark.gpu
def test_a_killed_gpu_run_resumes_to_identical_weights(tmp_path, monkeypatch):
    """The mid-epoch case on CUDA in bf16-mixed, with deterministic kernels (which cuBLAS allows only with its
    workspace setting)."""
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    killed_mid_epoch_and_resumed(["model=cnn", "trainer=gpu", "trainer.deterministic=true"], tmp_path)


def test_killed_run_resumes_to_identical_weights(tmp_path):
    env = env_with_test_modules()
    straight = run_cli([*COMMON, "experiment_name=straight"], cwd=tmp_path, env=env)
    assert straight.returncode == 0, straight.stderr[-3000:]

    marker = tmp_path / "killed.marker"
    killed_args = [
        *COMMON,
        "experiment_name=killed",
        "+callbacks.kill._target_=killer.KillAtEpoch",
        "+callbacks.kill.epoch=1",
        f"+callbacks.kill.marker={marker}",
    ]
    killed = run_cli(killed_args, cwd=tmp_path, env=env)
    assert killed.returncode == -9 and marker.exists(), killed.stderr[-3000:]
    folder = only_run(tmp_path / "outputs", "killed")
    assert load(folder / "checkpoints" / "last.ckpt")["epoch"] == 0
    wandb_id = (folder / "wandb_id").read_text()

    resumed = run_cli([*killed_args, "resume=true"], cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert only_run(tmp_path / "outputs", "killed") == folder, "resume must continue in the killed run's folder"
    assert "resuming from" in resumed.stdout + resumed.stderr

    expected = load(only_run(tmp_path / "outputs", "straight") / "checkpoints" / "last.ckpt")
    got = load(folder / "checkpoints" / "last.ckpt")
    assert got["epoch"] == expected["epoch"] == 2
    assert got["global_step"] == expected["global_step"]
    for name, tensor in expected["state_dict"].items():
        assert torch.equal(got["state_dict"][name], tensor), name
    for a, b in zip(expected["optimizer_states"][0]["state"].values(), got["optimizer_states"][0]["state"].values()):
        assert torch.equal(a["exp_avg"], b["exp_avg"]) and torch.equal(a["exp_avg_sq"], b["exp_avg_sq"])
    assert got["lr_schedulers"] == expected["lr_schedulers"]

    # the CSV log keeps the killed segment's epochs (Lightning's own CSVLogger deletes them on resume)
    with (folder / "csv" / "metrics.csv").open() as f:
        assert {int(row["epoch"]) for row in csv.DictReader(f) if row.get("val/loss")} == {0, 1, 2}

    # the same W&B run continues: one id, two offline segments carrying it
    assert (folder / "wandb_id").read_text() == wandb_id
    segments = sorted((folder / "wandb").glob("offline-run-*"))
    assert len(segments) == 2 and all(s.name.endswith(wandb_id) for s in segments)
    # Killed within W&B's first 15 s, the first segment's log never got past its header: on resume it is set aside
    # (W&B's sync fails on the whole folder otherwise) and `wandb sync <run>/wandb`, the command the run prints,
    # uploads the resumed segment as the same run (tests/wandb_recorder.py records what it sends)
    assert "holds no records" in resumed.stdout + resumed.stderr
    assert [p.name for p in segments[0].glob("run-*")] == [f"run-{wandb_id}.wandb.empty"]
    assert f"wandb sync {folder / 'wandb'}" in resumed.stdout
    sent = wandb_sync([folder / "wandb"])
    assert sent.runs == {f"entity/genlab/{wandb_id}"}, sent.output
    assert {row["epoch"] for row in sent.history if "val/loss" in row} == {1, 2}


def test_mid_epoch_resume_with_limited_batches_trains_exactly_the_missing_batches(tmp_path):
    """Killed mid-epoch, resumed: the weights, step count and per-epoch validation of a run never killed."""
    folders = killed_mid_epoch_and_resumed([], tmp_path)
    for name, folder in folders.items():
        with (folder / "csv" / "metrics.csv").open() as f:
            validated = sorted(int(row["step"]) for row in csv.DictReader(f) if row.get("val/loss"))
        assert validated == [11, 23, 35], (name, validated)


def test_run_folder_identity(tmp_path):
    overrides = ["model=cnn", "trainer.max_epochs=5"]
    assert overrides_hash(overrides) == overrides_hash([*reversed(overrides), "resume=true"])
    assert overrides_hash(overrides) != overrides_hash(["model=cnn", "trainer.max_epochs=6"])
    runs = tmp_path / "runs"
    fresh = Path(run_dir(str(runs), overrides, True, None))
    # nothing to resume yet: a new folder, created at once so that no other run takes it
    assert fresh.name.endswith(overrides_hash(overrides)) and fresh.is_dir() and not list(fresh.iterdir())
    fresh.rmdir()
    older, newer = (
        runs / f"2026-01-01_00-00-00_{overrides_hash(overrides)}",
        runs / f"2026-01-02_00-00-00_{overrides_hash(overrides)}",
    )
    for folder in (older, newer):
        (folder / "checkpoints").mkdir(parents=True)
        (folder / "config_resolved.yaml").touch()
    (older / "checkpoints" / "last.ckpt").touch()
    assert Path(run_dir(str(runs), overrides, True, None)) == older  # the newest with a checkpoint
    (newer / "checkpoints" / "last.ckpt").touch()
    assert Path(run_dir(str(runs), overrides, True, None)) == newer
    assert Path(run_dir(str(runs), ["other=1"], False, str(older / "checkpoints" / "last.ckpt"))) == older
    # testing or generating from another run's checkpoint only reads that run: a folder of its own
    reader = Path(run_dir(str(runs), ["other=1"], False, str(older / "checkpoints" / "last.ckpt"), False))
    assert reader not in (older, newer) and reader.parent == runs
    assert Path(run_dir(str(runs), overrides, False, None)) not in (older, newer)


def test_training_loader_resumes_inside_the_epoch_it_was_saved_in():
    from genlab.data.in_memory import InMemoryDataset, in_memory_loader

    dataset = InMemoryDataset(torch.arange(50), torch.arange(50))
    loader = in_memory_loader(dataset, batch_size=8, shuffle=True)
    loader.sampler.set_epoch(3)
    batches = iter(loader)
    first = [next(batches)[0] for _ in range(3)]
    state = loader.state_dict()
    assert state == {"batches_done": 3, "epoch": 3}
    rest = [b[0] for b in batches]

    resumed = in_memory_loader(dataset, batch_size=8, shuffle=True)
    resumed.load_state_dict(state)
    resumed.sampler.set_epoch(3)
    assert [b[0].tolist() for b in resumed] == [b.tolist() for b in rest]
    assert torch.cat(first + rest).sort().values.tolist() == list(range(50))

    # a state saved after an epoch's last batch must not shorten the next epoch
    finished = in_memory_loader(dataset, batch_size=8, shuffle=True)
    finished.load_state_dict({"batches_done": 7, "epoch": 3})
    finished.sampler.set_epoch(4)
    assert sum(len(b[0]) for b in finished) == 50


def test_a_fixed_number_of_samples_cycles_through_fresh_orders():
    from genlab.data.in_memory import EpochShuffleSampler

    sampler = EpochShuffleSampler(10, seed=1, num_samples=25)
    order = list(sampler)
    assert len(order) == len(sampler) == 25
    assert sorted(order[:10]) == sorted(order[10:20]) == list(range(10)) and order[:10] != order[10:20]
    assert list(EpochShuffleSampler(10, seed=1))[:10] == order[:10]  # the first pass is the plain epoch order


def test_resume_while_the_run_still_trains_is_refused_naming_its_pid(tmp_path):
    """The first run waits at its second epoch until a file appears: the second start (resume=true) comes while it
    holds its folder, at a known point, not after a sleep."""
    release = tmp_path / "release"
    args = [
        *COMMON,
        "logger=csv",
        "experiment_name=busy",
        "+callbacks.wait._target_=killer.WaitAtEpoch",
        "+callbacks.wait.epoch=1",
        f"+callbacks.wait.release={release}",
    ]
    first = subprocess.Popen(
        [sys.executable, "-m", "genlab.train", *args],
        cwd=tmp_path,
        env={**os.environ, **env_with_test_modules()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        waiting = release.with_suffix(".waiting")
        while not waiting.exists():
            assert first.poll() is None, first.stdout.read()[-3000:]
            time.sleep(0.1)  # polls for a file, the verdict does not depend on how long it takes
        second = run_cli([*args, "resume=true"], cwd=tmp_path, env=env_with_test_modules())
        assert second.returncode == 2
        assert f"is in use by another run (PID {first.pid}); wait for it to finish or stop it" in second.stderr
    finally:
        release.touch()
        assert first.wait(timeout=300) == 0
    folder = only_run(tmp_path / "outputs", "busy")
    assert not (folder / ".genlab.lock").exists()
    resumed = run_cli([*args, "resume=true"], cwd=tmp_path, env=env_with_test_modules())
    assert resumed.returncode == 0, resumed.stderr[-3000:]  # the lock went with the first run


@pytest.mark.parametrize("experiment, data_file", [("chat_sft", "chat_file"), ("preference", "preference_file")])
def test_a_killed_chat_sft_or_dpo_run_resumes_mid_epoch_to_identical_adapters(
    experiment, data_file, request, tmp_path, tiny_llama
):
    """LoRA chat fine-tuning or DPO (4 steps an epoch) killed at step 7, in the middle of epoch 1: resumed from its
    step-6 checkpoint, it ends with the adapters and step count of a run never killed."""
    common = [
        f"experiment={experiment}",
        "tuning=lora",
        f"model.name_or_path={tiny_llama}",
        f"data.paths=[{request.getfixturevalue(data_file)}]",
        "data.chat_template=chatml",
        "data.max_length=128",
        "data.batch_size=8",
        "task.optimizer.lr=0.01",
        "trainer.max_epochs=3",
        "trainer.num_sanity_val_steps=0",
        "logger=csv",
        "extras.print_config=false",
        "callbacks=[last_checkpoint,step_checkpoints]",
        "callbacks.step_checkpoints.every_n_train_steps=2",
    ]
    # mid-epoch 1
    _, expected, got = straight_then_killed_and_resumed(
        common, ["+callbacks.kill.step=7"], "step_0000006.ckpt", tmp_path
    )
    assert got["global_step"] == expected["global_step"] == 12
    assert expected["state_dict"] and all("lora_" in name for name in expected["state_dict"])
    for name, tensor in expected["state_dict"].items():
        assert torch.equal(got["state_dict"][name], tensor), name
