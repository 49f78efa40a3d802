"""Files genlab reads never run code, and damaged checkpoints are named, skipped or refused in one line.

Each crafted payload would create a marker file if it ran; every test checks that it did not.
"""

import logging
import os
import pickle

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from genlab import api
from genlab.core.checkpoints import (
    checkpoint_problem,
    load_net_weights,
    newest_good_checkpoint,
    read_checkpoint,
    save_checkpoint_atomically,
)
from genlab.data.cifar10 import CIFAR10DataModule
from genlab.errors import ConfigError, DataError
from genlab.nets import FeedForward


class _RunsACommand:
    """Unpickling this calls os.system: what a hostile pickle does."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


class _Execs:
    def __init__(self, source: str):
        self.source = source

    def __reduce__(self):
        return exec, (self.source,)


def cifar_folder(root, batch) -> None:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    good = {b"data": np.zeros((4, 3072), dtype=np.uint8), b"labels": [0, 1, 2, 3]}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps(batch if name == "data_batch_1" else good, protocol=2))


@pytest.mark.parametrize("payload", ["os.system", "builtins.exec"])
def test_a_cifar_batch_that_runs_code_is_refused_unrun(payload, tmp_path):
    marker = tmp_path / "ran"
    hostile = _RunsACommand(f"touch {marker}") if payload == "os.system" else _Execs(f"open({str(marker)!r}, 'w')")
    cifar_folder(tmp_path, {b"data": hostile, b"labels": [0]})
    module = CIFAR10DataModule(root=str(tmp_path), input_shape=[3, 32, 32], num_classes=10)
    with pytest.raises(
        DataError, match=r"^data\.root: .*data_batch_1 is not a CIFAR-10 batch \(it names .*\); it was not read"
    ):
        module.setup("fit")
    assert not marker.exists()


def test_a_real_cifar_layout_still_loads(tmp_path):
    rng = np.random.default_rng(0)
    batch = {b"data": rng.integers(0, 256, (40, 3072), dtype=np.uint8), b"labels": list(rng.integers(0, 10, 40))}
    cifar_folder(tmp_path, batch)
    module = CIFAR10DataModule(root=str(tmp_path), input_shape=[3, 32, 32], num_classes=10, val_size=4)
    module.setup("fit")
    assert len(module.splits["train"]) > 0


def test_a_run_config_naming_os_system_is_not_built(tmp_path):
    marker = tmp_path / "ran"
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    config = {
        "tuning": {"_target_": "genlab.tuning.FullTuning"},
        "model": {"_target_": "os.system", "_args_": [f"touch {marker}"]},
        "task": {"_target_": "genlab.tasks.Classification"},
        "data": {"_target_": "builtins.exec", "_args_": [f"open({str(marker)!r}, 'w')"]},
    }
    OmegaConf.save(OmegaConf.create(config), run / "config_resolved.yaml")
    with pytest.raises(
        ConfigError, match=r"config_resolved\.yaml: model\._target_=os\.system is not one of genlab's classes"
    ):
        api.load_run(run)
    with pytest.raises(
        ConfigError, match=r"config_resolved\.yaml: data\._target_=builtins\.exec is not one of genlab's classes"
    ):
        api.load_run_data(run)
    assert not marker.exists()


def test_a_checkpoint_that_runs_code_is_refused_unrun(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "hostile.ckpt"
    torch.save({"state_dict": {}, "extra": _RunsACommand(f"touch {marker}")}, path)
    with pytest.raises(
        ConfigError, match=r"^ckpt_path=.*hostile\.ckpt: it cannot be read as a checkpoint: UnpicklingError"
    ):
        read_checkpoint(path, "ckpt_path")
    with pytest.raises(ConfigError, match=r"^tuning\.base_weights=.*hostile\.ckpt: it cannot be read as a checkpoint"):
        load_net_weights(FeedForward([1, 4, 4], 2), path)
    assert not marker.exists()


def test_ckpt_path_to_a_hostile_checkpoint_stops_the_run_in_one_line(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "hostile.ckpt"
    torch.save({"state_dict": {}, "extra": _RunsACommand(f"touch {marker}")}, path)
    with pytest.raises(ConfigError, match=r"^ckpt_path=.*hostile\.ckpt: it cannot be read as a checkpoint"):
        api.run(
            ["data=digits", "train=false", f"ckpt_path={path}", "logger=none", "extras.print_config=false"],
            tmp_path / "out",
        )
    assert not marker.exists()


def saved(tmp_path, name: str = "last.ckpt", value: float = 1.0):
    path = tmp_path / "checkpoints" / name
    save_checkpoint_atomically({"state_dict": {"w": torch.full((64,), value)}, "global_step": int(value)}, path)
    return path


@pytest.mark.parametrize(
    "damage, problem",
    [
        (lambda p: p.write_bytes(b""), "the file is empty"),
        (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "does not match the sha256 recorded"),
        (lambda p: p.write_bytes(p.read_bytes()[:-40] + bytes(40)), "does not match the sha256 recorded"),
    ],
    ids=["empty", "truncated", "overwritten"],
)
def test_a_damaged_checkpoint_is_named_in_one_line(damage, problem, tmp_path):
    path = saved(tmp_path)
    assert checkpoint_problem(path) is None
    damage(path)
    assert problem in checkpoint_problem(path)
    with pytest.raises(
        ConfigError, match=f"^ckpt_path={path}: .*{problem}.*; point it at another checkpoint of the run$"
    ):
        read_checkpoint(path, "ckpt_path")


def test_garbage_without_a_hash_record_is_named_too(tmp_path):
    path = tmp_path / "garbage.ckpt"
    path.write_bytes(os.urandom(4096))
    assert checkpoint_problem(path).startswith("it cannot be read as a checkpoint")
    torch.save({"weights": torch.zeros(2)}, path)
    assert checkpoint_problem(path) == "it holds no state_dict: not a Lightning checkpoint"


def test_resume_skips_a_damaged_newest_checkpoint_and_says_so(tmp_path, caplog):
    older = saved(tmp_path, "steps/step_0000001.ckpt", 1.0)
    newest = saved(tmp_path, "last.ckpt", 2.0)
    os.utime(older, ns=(1, 1))
    assert newest_good_checkpoint(tmp_path) == newest
    newest.write_bytes(newest.read_bytes()[:100])
    with caplog.at_level(logging.WARNING, logger="genlab"):
        assert newest_good_checkpoint(tmp_path) == older
    assert f"resume: skipping {newest} (its content does not match the sha256" in caplog.text


def test_checkpoints_are_written_beside_their_target_whatever_tmpdir_is(tmp_path, monkeypatch):
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.setenv("TMPDIR", str(other))
    renames = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (renames.append((src, dst)), real_replace(src, dst))[1])
    path = saved(tmp_path)
    assert renames and all(os.path.dirname(src) == os.path.dirname(dst) == str(path.parent) for src, dst in renames)
    assert not list(other.iterdir()) and not list(path.parent.glob(".*.partial"))


def test_a_save_killed_before_its_rename_leaves_the_previous_checkpoint_valid(tmp_path, monkeypatch):
    path = saved(tmp_path, value=1.0)

    def killed(src, dst):
        if str(dst) == str(path):
            raise KeyboardInterrupt  # stands for the process dying between the hash record and the rename
        os.rename(src, dst)

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        saved(tmp_path, value=2.0)
    monkeypatch.undo()
    assert checkpoint_problem(path) is None and read_checkpoint(path, "ckpt_path")["global_step"] == 1
