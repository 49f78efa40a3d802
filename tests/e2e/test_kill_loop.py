"""A run SIGKILLed 20 times at random moments (checkpoint writes included), with TMPDIR on another filesystem,
resumes every time and ends with the weights of a run never killed.

Checkpoints are written every 2 optimizer steps and at epoch ends (5 steps with batch 256 and
limit_train_batches), and a kill comes 1 to 12 steps after each start plus up to 50 ms (at most 2 more steps), so
many land in or right after a save, and most resumes start in the middle of an epoch after the first."""

import shutil
import tempfile
from pathlib import Path

import torch

from helpers import env_with_test_modules, run_cli

KILLS = 20
COMMON = [
    "data=digits",
    "data.batch_size=256",
    "model=ffn",
    # 500 steps: 20 starts cannot finish them (a start trains at most 12 + 2 steps: KillAtRandomMoment)
    "trainer.max_epochs=100",
    "trainer.num_sanity_val_steps=0",
    "logger=none",
    "extras.print_config=false",
    "trainer.limit_train_batches=0.9",
    "callbacks=[last_checkpoint,step_checkpoints]",
    "callbacks.step_checkpoints.every_n_train_steps=2",
    "+callbacks.kill._target_=killer.KillAtRandomMoment",
    "+callbacks.kill.max_steps=12",
]


def only_run(outputs: Path, name: str) -> Path:
    (folder,) = (outputs / name / "runs").iterdir()
    return folder


def test_twenty_kills_at_random_moments_always_resume(tmp_path):
    other_fs = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    tmpdir = Path(tempfile.mkdtemp(prefix="genlab-kill-tmp-", dir=other_fs))
    env = {**env_with_test_modules(), "TMPDIR": str(tmpdir)}
    straight = run_cli([*COMMON, "experiment_name=straight"], cwd=tmp_path, env=env)
    assert straight.returncode == 0, straight.stderr[-3000:]

    outcomes = []
    for kill in range(KILLS):
        args = [*COMMON, "experiment_name=killed", *(["resume=true"] if kill else [])]
        result = run_cli(args, cwd=tmp_path, env={**env, "GENLAB_TEST_KILL_SEED": str(kill)})
        assert result.returncode in (0, -9), f"start {kill}: {result.stderr[-3000:]}"
        outcomes.append(result.returncode)
        if result.returncode == 0:
            break
    finished = run_cli([*COMMON, "experiment_name=killed", "resume=true"], cwd=tmp_path, env=env)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert outcomes.count(-9) == KILLS, outcomes  # the loop really killed it, every time

    folder = only_run(tmp_path / "outputs", "killed")
    assert not list(folder.rglob("*.partial")), "a killed save left its temporary file"
    # torch keeps a compile cache folder in TMPDIR; no file of a checkpoint save is left there
    assert not [p for p in tmpdir.iterdir() if p.is_file()], "checkpoints went through TMPDIR"
    expected = torch.load(only_run(tmp_path / "outputs", "straight") / "checkpoints" / "last.ckpt", weights_only=True)
    got = torch.load(folder / "checkpoints" / "last.ckpt", weights_only=True)
    assert got["global_step"] == expected["global_step"]
    for name, tensor in expected["state_dict"].items():
        assert torch.equal(got["state_dict"][name], tensor), name
    shutil.rmtree(tmpdir)
