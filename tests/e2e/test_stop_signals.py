"""A run stopped by SIGTERM or SIGINT (Ctrl+C) saves a checkpoint where it is safe to, says in one line how to
continue, and exits non-zero; the continued run ends where a run never stopped ends."""

import shlex
import signal

import pytest
import torch

from genlab import api
from genlab.callbacks.interruption import STOP_SIGNALS, RunStopped
from helpers import env_with_test_modules, load, only_run, run_cli

COMMON = [
    "data=digits",
    "model=ffn",
    "model.dropout=0.2",
    "trainer.max_epochs=3",
    "trainer.limit_train_batches=0.3",  # 12 batches an epoch
    "trainer.num_sanity_val_steps=0",
    "logger=csv",
    "extras.print_config=false",
]


def stopped(tmp_path, name: str, signal_name: str, step: int, at: str = "batch_start"):
    marker = tmp_path / f"{name}.marker"
    args = [
        *COMMON,
        f"experiment_name={name}",
        "+callbacks.stop._target_=killer.KillAtStep",
        f"+callbacks.stop.step={step}",
        f"+callbacks.stop.at={at}",
        f"+callbacks.stop.signal_name={signal_name}",
        f"+callbacks.stop.marker={marker}",
    ]
    result = run_cli(args, cwd=tmp_path, env=env_with_test_modules())
    assert marker.exists(), result.stderr[-3000:]
    return result


def last_line(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]


def test_sigterm_mid_epoch_saves_a_checkpoint_and_the_continued_run_matches_one_never_stopped(tmp_path):
    straight = run_cli([*COMMON, "experiment_name=straight"], cwd=tmp_path)
    assert straight.returncode == 0, straight.stderr[-3000:]
    result = stopped(tmp_path, "stopped", "SIGTERM", step=17)  # sent as the batch of step 18 starts
    assert result.returncode == 143, result.stderr[-3000:]
    line = last_line(result.stderr)
    folder = only_run(tmp_path / "outputs", "stopped")
    saved = folder / "checkpoints" / "steps" / "interrupted-step=18.ckpt"
    assert line.startswith(f"genlab: stopped by SIGTERM at step 18 (epoch 1); checkpoint saved: {saved}; "), line
    assert saved.is_file() and not (folder / "metrics.json").exists()
    command = shlex.split(line.split("; continue with: ", 1)[1])
    assert command[0] == "genlab-train" and command[-1] == "resume=true"
    continued = run_cli(command[1:], cwd=tmp_path, env=env_with_test_modules())
    assert continued.returncode == 0, continued.stderr[-3000:]
    assert only_run(tmp_path / "outputs", "stopped") == folder  # continued in the same folder
    expected, got = (
        load(f / "checkpoints" / "last.ckpt") for f in (only_run(tmp_path / "outputs", "straight"), folder)
    )
    assert got["global_step"] == expected["global_step"] == 36
    for name, tensor in expected["state_dict"].items():
        assert torch.equal(got["state_dict"][name], tensor), name


def test_ctrl_c_during_validation_lets_the_epoch_end_and_stops_after_its_checkpoint(tmp_path):
    result = stopped(tmp_path, "interrupted", "SIGINT", step=24, at="validation_start")  # epoch 1's validation
    assert result.returncode == 130, result.stderr[-3000:]
    folder = only_run(tmp_path / "outputs", "interrupted")
    line = last_line(result.stderr)
    assert line.startswith(
        f"genlab: stopped by SIGINT after epoch 1; its newest checkpoint: {folder}/checkpoints/last.ckpt; "
        "continue with: genlab-train "
    ), line
    assert load(folder / "checkpoints" / "last.ckpt")["global_step"] == 24  # epoch 1's, validated


def test_a_stopped_run_in_a_python_session_gives_the_signals_back(tmp_path):
    """In a notebook or script (genlab.api), a stopped run raises RunStopped and leaves Ctrl+C and SIGTERM as they
    were: the next Ctrl+C interrupts Python again."""
    before = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    args = [*COMMON, "+callbacks.stop._target_=killer.KillAtStep", "+callbacks.stop.step=3"]
    args += ["+callbacks.stop.signal_name=SIGTERM", f"+callbacks.stop.marker={tmp_path / 'marker'}"]
    with pytest.raises(RunStopped, match=r"stopped by SIGTERM at step 4 \(epoch 0\)") as stopped_run:
        api.run(args, tmp_path / "run")
    assert stopped_run.value.checkpoint == tmp_path / "run" / "checkpoints" / "steps" / "interrupted-step=4.ckpt"
    assert {signum: signal.getsignal(signum) for signum in STOP_SIGNALS} == before
