"""schedule=curriculum: stage boundaries, per-stage data and learning rate (read from the batches and the
optimizer themselves), stage outputs, mid-stage kill and resume, composition with models and tuning, sweeps,
and the errors."""

import copy
import csv
import json
import math
from pathlib import Path

import lightning as L
import pytest
import torch
from omegaconf import OmegaConf, open_dict
from test_tuning import FAMILIES

from genlab import api
from genlab.errors import ConfigError, DataError
from genlab.schedules import Curriculum
from genlab.schedules.difficulty import ImageComplexity
from helpers import env_with_test_modules, run_cli
from recorder import BatchRecorder, row_keys

QUIET = ["logger=none", "extras.print_config=false", "+trainer.enable_progress_bar=false", "test=false"]
DIGITS = ["data=digits", "model=ffn", "schedule=curriculum", "callbacks=none", *QUIET]
STEP_LR = {"_target_": "torch.optim.lr_scheduler.StepLR", "_partial_": True, "step_size": 1, "gamma": 0.5}


def build_with_stages(overrides: list[str], stages: list[dict], run_dir: Path, **schedule):
    composed = api.compose(overrides, run_dir)
    with open_dict(composed.config):
        composed.config.schedule.stages = stages
        composed.config.schedule.update(schedule)
    L.seed_everything(0)
    return api.build(composed)


def curriculum_of(trainer: L.Trainer) -> Curriculum:
    (curriculum,) = [c for c in trainer.callbacks if isinstance(c, Curriculum)]
    return curriculum


def window_keys(dm, module, high: float | None) -> set[bytes]:
    """The rows of the train split among the `high` share with the lowest image complexity, computed here anew."""
    scores = ImageComplexity()(dm, module)
    inputs = dm.split_dataset("train").tensors[0]
    count = len(scores) if high is None else round(high * len(scores))
    return row_keys(inputs[torch.argsort(scores, stable=True)[:count]])


def test_stages_switch_data_learning_rate_and_accumulation_at_their_boundaries(run_dir):
    stages = [
        {"name": "easy", "max_difficulty": 0.3, "epochs": 1, "lr": 0.02},
        {"name": "middle", "max_difficulty": 0.6, "steps": 5, "lr": 0.01, "accumulate_grad_batches": 2},
        {"name": "all", "epochs": 2, "lr": 0.005, "scheduler": STEP_LR, "scheduler_interval": "epoch"},
    ]
    exp = build_with_stages([*DIGITS, "+callbacks.record._target_=recorder.BatchRecorder"], stages, run_dir)
    exp.trainer.fit(exp.module, datamodule=exp.datamodule)
    records, dm, bs = BatchRecorder.records, exp.datamodule, exp.datamodule.batch_size

    by_epoch = {e: [r for r in records if r["epoch"] == e] for e in range(4)}
    assert set(by_epoch) == {r["epoch"] for r in records} and exp.trainer.current_epoch == 4
    seen = {e: set().union(*(row_keys(r["inputs"]) for r in rs)) for e, rs in by_epoch.items()}
    easy, middle, everything = (window_keys(dm, exp.module, q) for q in (0.3, 0.6, None))
    assert len(easy) < len(middle) < len(everything) == dm.train_items()

    # easy: one pass over exactly the easiest 30%, at its lr
    assert seen[0] == easy and len(by_epoch[0]) == math.ceil(len(easy) / bs)
    assert all(r["lr"] == 0.02 and r["accumulate"] == 1 for r in by_epoch[0])
    # middle: exactly 5 optimizer steps of 2 batches each, drawn from the 60% window only
    n0 = len(by_epoch[0])
    assert len(by_epoch[1]) == 10 and [r["step"] for r in by_epoch[1]] == [n0 + i // 2 for i in range(10)]
    assert seen[1] <= middle and not seen[1] <= easy
    assert all(r["lr"] == 0.01 and r["accumulate"] == 2 for r in by_epoch[1])
    # all: every training row, each epoch; the stage's StepLR halves the lr after its first epoch
    assert seen[2] == seen[3] == everything
    assert {r["lr"] for r in by_epoch[2]} == {0.005} and {r["lr"] for r in by_epoch[3]} == {0.0025}
    assert all(r["accumulate"] == 1 for r in by_epoch[2] + by_epoch[3])
    assert exp.trainer.global_step == n0 + 5 + 2 * math.ceil(len(everything) / bs)
    assert exp.trainer.optimizers[0].param_groups[0]["lr"] == 0.0025

    for name, last_epoch in (("easy", 0), ("middle", 1), ("all", 3)):
        folder = run_dir / "stages" / name
        assert json.loads((folder / "metrics.json").read_text())["epoch"] == last_epoch
        assert torch.load(folder / "last.ckpt", weights_only=True)["epoch"] == last_epoch


def test_reset_optimizer_clears_the_moments_at_each_stage(run_dir):
    stages = [{"name": "a", "max_difficulty": 0.5, "steps": 3, "lr": 0.01}, {"name": "b", "steps": 1, "lr": 0.01}]
    exp = build_with_stages(DIGITS, stages, run_dir, reset_optimizer=True)
    exp.trainer.fit(exp.module, datamodule=exp.datamodule)
    # Adam's step count restarts: one step into stage b
    steps = {float(s["step"]) for s in exp.trainer.optimizers[0].state.values()}
    assert steps == {1.0}


def test_reference_loss_puts_what_a_trained_model_gets_right_first(tmp_path):
    reference_run = tmp_path / "reference"
    reference_run.mkdir()
    api.run(["data=digits", "model=ffn", "trainer.max_epochs=1", "callbacks=[last_checkpoint]", *QUIET], reference_run)
    checkpoint = reference_run / "checkpoints" / "last.ckpt"
    stages = [{"name": "easy", "max_difficulty": 0.25, "steps": 1, "lr": 0.01}, {"name": "all", "steps": 1, "lr": 0.01}]
    measure = {"_target_": "genlab.schedules.difficulty.ReferenceLoss", "checkpoint": str(checkpoint)}
    exp = build_with_stages(DIGITS, stages, tmp_path / "run", difficulty=measure)
    exp.trainer.fit(exp.module, datamodule=exp.datamodule)

    state = torch.load(checkpoint, weights_only=True)["state_dict"]
    net = copy.deepcopy(exp.module.net)
    net.load_state_dict({k.removeprefix("net."): v for k, v in state.items() if k.startswith("net.")})
    inputs, targets = exp.datamodule.split_dataset("train").tensors
    with torch.no_grad():
        losses = torch.nn.functional.cross_entropy(net.eval()(inputs), targets, reduction="none")
    easiest = torch.argsort(losses, stable=True)[: round(0.25 * len(losses))]
    assert row_keys(curriculum_of(exp.trainer).datasets[0].tensors[0]) == row_keys(inputs[easiest])
    assert losses[easiest].max() < losses.mean() < losses.max()


def test_stage_with_its_own_data_shares_the_tokenizer(run_dir):
    lm = FAMILIES["transformer_lm"]
    own = {
        "_target_": "genlab.data.FortunesDataModule",
        "files": ["science"],
        "block_size": 32,
        "batch_size": 16,
        "tokenizer": {
            "_target_": "genlab.data.tokenizer.train_or_load_tokenizer",
            "_partial_": True,
            "save_dir": str(run_dir / "unused"),
            "kind": "bpe",
            "vocab_size": 300,
        },
    }
    stages = [{"name": "science", "data": own, "steps": 3, "lr": 0.01}, {"name": "computers", "steps": 2, "lr": 0.005}]
    exp = build_with_stages(
        [*lm, "schedule=curriculum", "callbacks=none", "+callbacks.record._target_=recorder.BatchRecorder", *QUIET],
        stages,
        run_dir,
    )
    exp.trainer.fit(exp.module, datamodule=exp.datamodule)
    curriculum = curriculum_of(exp.trainer)
    science = curriculum.data_modules[0]
    assert science is not exp.datamodule and science.tokenizer is exp.datamodule.tokenizer
    assert not (run_dir / "unused").exists()
    records = BatchRecorder.records
    assert [r["epoch"] for r in records] == [0, 0, 0, 1, 1]
    assert set().union(*(row_keys(r["inputs"]) for r in records[:3])) <= row_keys(
        science.split_dataset("train").tensors[0]
    )
    assert set().union(*(row_keys(r["inputs"]) for r in records[3:])) <= row_keys(
        exp.datamodule.split_dataset("train").tensors[0]
    )


def test_text_windows_pack_only_the_chosen_texts(run_dir):
    cfg = api.compose([*FAMILIES["transformer_lm"], *QUIET], run_dir).config
    from hydra.utils import instantiate

    dm = instantiate(cfg.data)
    dm.setup("fit")
    lengths = dm.train_token_lengths()
    assert len(lengths) == dm.train_items() == len(dm.texts["train"]) and int(lengths.sum()) == len(
        dm.streams["train"][0]
    )
    short = (lengths <= torch.quantile(lengths.double(), 0.5)).nonzero().flatten()
    subset = dm.train_subset(short)
    expected = [
        t
        for i in short.tolist()
        for t in (*dm.tokenizer(dm.texts["train"][i], add_special_tokens=False)["input_ids"], dm.tokenizer.eos_token_id)
    ]
    # blocks overlap by one token: the first input token, then every target, is the packed stream
    got = torch.cat([subset.tensors[0][0, :1], subset.tensors[1].flatten()])
    assert got.tolist() == expected[: len(got)] and len(expected) - len(got) < dm.block_size + 1


@pytest.mark.subprocess
def test_killed_in_stage_two_resumes_to_identical_weights(tmp_path):
    env = env_with_test_modules()
    stages = (
        "schedule.stages=[{name:easy,max_difficulty:0.3,epochs:1,lr:0.02},"
        "{name:middle,max_difficulty:0.7,steps:12,lr:0.01,accumulate_grad_batches:2,"
        "scheduler:{_target_:torch.optim.lr_scheduler.StepLR,_partial_:true,step_size:3,gamma:0.5}},"
        "{name:all,epochs:1,lr:0.005}]"
    )
    common = [
        "data=digits",
        "model=ffn",
        "model.dropout=0.2",
        "schedule=curriculum",
        stages,
        "logger=[csv]",
        "callbacks=[default,step_checkpoints]",
        "callbacks.step_checkpoints.every_n_train_steps=4",
        "extras.print_config=false",
        "test=false",
    ]
    straight = run_cli([*common, "experiment_name=straight"], cwd=tmp_path, env=env)
    assert straight.returncode == 0, straight.stderr[-3000:]
    (straight_run,) = (tmp_path / "outputs" / "straight" / "runs").iterdir()
    easy_steps = torch.load(straight_run / "stages" / "easy" / "last.ckpt", weights_only=True)["global_step"]
    kill_step = 4 * (easy_steps // 4 + 2)  # a step checkpoint well inside stage 2 (12 steps)
    assert easy_steps < kill_step < easy_steps + 12

    marker = tmp_path / "killed.marker"
    killed_args = [
        *common,
        "experiment_name=killed",
        "+callbacks.kill._target_=killer.KillAtStep",
        f"+callbacks.kill.step={kill_step}",
        f"+callbacks.kill.marker={marker}",
    ]
    killed = run_cli(killed_args, cwd=tmp_path, env=env)
    assert killed.returncode == -9 and marker.exists(), killed.stderr[-3000:]
    (folder,) = (tmp_path / "outputs" / "killed" / "runs").iterdir()
    assert not (folder / "stages" / "middle").exists()

    resumed = run_cli([*killed_args, "resume=true"], cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resuming from {folder}/checkpoints/steps/step_{kill_step:07d}.ckpt" in resumed.stdout + resumed.stderr

    for name in ("checkpoints/last.ckpt", "stages/middle/last.ckpt", "stages/all/last.ckpt"):
        expected = torch.load(straight_run / name, weights_only=True)
        got = torch.load(folder / name, weights_only=True)
        assert (got["epoch"], got["global_step"]) == (expected["epoch"], expected["global_step"]), name
        for key, tensor in expected["state_dict"].items():
            assert torch.equal(got["state_dict"][key], tensor), f"{name}: {key}"
        for a, b in zip(
            expected["optimizer_states"][0]["state"].values(), got["optimizer_states"][0]["state"].values()
        ):
            assert torch.equal(a["exp_avg"], b["exp_avg"]) and torch.equal(a["exp_avg_sq"], b["exp_avg_sq"]), name
        assert got["optimizer_states"][0]["param_groups"] == expected["optimizer_states"][0]["param_groups"], name
        curriculum_state = [v for k, v in expected["callbacks"].items() if k.startswith("Curriculum")]
        assert curriculum_state == [v for k, v in got["callbacks"].items() if k.startswith("Curriculum")], name
    # the step checkpoints keep the newest two, as the straight run's (and, as Lightning does, the one the run
    # resumed from)
    steps, straight_steps = (
        {p.name for p in (f / "checkpoints" / "steps").glob("*.ckpt")} for f in (folder, straight_run)
    )
    assert len(straight_steps) == 2 and steps == {*straight_steps, f"step_{kill_step:07d}.ckpt"}
    # the stage is in the CSV log, step by step
    (metrics,) = folder.glob("csv/**/metrics.csv")
    with metrics.open() as f:
        stage_by_step = {
            int(r["step"]): float(r["curriculum/stage"]) for r in csv.DictReader(f) if r.get("curriculum/stage")
        }
    assert stage_by_step[min(stage_by_step)] == 0.0 and stage_by_step[max(stage_by_step)] == 2.0
    assert sorted(set(stage_by_step.values())) == [0.0, 1.0, 2.0]


def test_language_model_stages_write_samples(run_dir):
    overrides = [
        "experiment=curriculum_fortunes",
        "data.files=[computers]",
        "data.block_size=32",
        "data.tokenizer.vocab_size=300",
        "model.embed_dim=32",
        "model.ff_dim=64",
        "model.num_layers=2",
        "schedule.stages.0.steps=2",
        "schedule.stages.1.steps=2",
        "schedule.stages.2.steps=2",
        "trainer.val_check_interval=4",
        "generation.max_new_tokens=5",
        "callbacks=[step_checkpoints]",
        *QUIET,
    ]
    api.run(overrides, run_dir)
    for name in ("short", "medium", "all"):
        rows = [json.loads(line) for line in (run_dir / "stages" / name / "samples.jsonl").read_text().splitlines()]
        assert len(rows) == 3 and all(r["prompt"] and "generation" in r for r in rows)
    assert json.loads((run_dir / "stages" / "all" / "metrics.json").read_text())["step"] == 6


COMPOSE = {
    "ffn": ["full", "lora"],
    "cnn": ["full"],
    "rnn": ["full"],
    "transformer": ["full"],
    "transformer_lm": ["full", "qlora"],
    "hf_causal": ["lora", "qlora"],
    "hf_seqcls": ["lora"],
}


@pytest.mark.parametrize("family,tuning", [(f, t) for f, ts in COMPOSE.items() for t in ts])
def test_curriculum_composes_with_every_model_and_tuning(family, tuning, run_dir, tiny_llama, tiny_bert_zip):
    source = {"hf_causal": [f"model.name_or_path={tiny_llama}"], "hf_seqcls": [f"model.name_or_path={tiny_bert_zip}"]}
    stages = [{"name": "easy", "max_difficulty": 0.5, "steps": 2, "lr": 0.01}, {"name": "all", "steps": 2, "lr": 0.002}]
    overrides = [
        *FAMILIES[family],
        *source.get(family, []),
        f"tuning={tuning}",
        "schedule=curriculum",
        "callbacks=none",
        "trainer.limit_val_batches=1",
        *QUIET,
    ]
    exp = build_with_stages(overrides, stages, run_dir)
    exp.trainer.fit(exp.module, datamodule=exp.datamodule)
    assert exp.trainer.global_step == 4 and exp.trainer.optimizers[0].param_groups[0]["lr"] == 0.002
    assert len(curriculum_of(exp.trainer).datasets[0]) < len(curriculum_of(exp.trainer).datasets[1])
    assert (run_dir / "stages" / "easy" / "last.ckpt").is_file() and (
        run_dir / "stages" / "all" / "last.ckpt"
    ).is_file()


@pytest.mark.subprocess
def test_stages_can_be_swept(tmp_path):
    args = [
        "-m",
        "data=digits",
        "model=ffn",
        "schedule=curriculum",
        "schedule.stages.0.lr=0.01,0.002",
        "trainer.fast_dev_run=true",
        "logger=none",
        "extras.print_config=false",
    ]
    result = run_cli(args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    resolved = sorted((tmp_path / "outputs").rglob("config_resolved.yaml"))
    assert sorted(OmegaConf.load(p).schedule.stages[0].lr for p in resolved) == [0.002, 0.01]


@pytest.mark.parametrize(
    "stages,error,message",
    [
        ([{"name": "a", "epochs": 1}], ConfigError, r"schedule.stages.0 \(a\): no lr"),
        ([{"name": "a", "lr": 0.1}], ConfigError, r"give either epochs or steps"),
        ([{"name": "a", "lr": 0.1, "epochs": 1, "steps": 3}], ConfigError, r"give either epochs or steps"),
        (
            [{"name": "a", "lr": 0.1, "epoch": 1}],
            ConfigError,
            r"schedule.stages.0.epoch: .*did you mean schedule.stages.0.epochs",
        ),
        (
            [
                {"name": "a", "lr": 0.1, "epochs": 1, "max_difficulty": 0.6},
                {"name": "b", "lr": 0.1, "epochs": 1, "max_difficulty": 0.4},
            ],
            ConfigError,
            r"schedule.stages.1 \(b\): max_difficulty=0.4 does not go beyond stage a's 0.6",
        ),
        ([{"name": "a", "lr": 0.1, "epochs": 1, "max_difficulty": 1.5}], ConfigError, r"must lie in \[0, 1\]"),
        (
            [{"name": "a", "lr": 0.1, "epochs": 1}, {"name": "a", "lr": 0.1, "epochs": 1}],
            ConfigError,
            r"names must differ",
        ),
        (
            [{"name": "a", "lr": 0.1, "epochs": 1, "max_difficulty": 0.0001}],
            DataError,
            r"schedule.stages.0 \(a\): no training items in the difficulty window",
        ),
    ],
)
def test_bad_stages_fail_before_training(stages, error, message, run_dir):
    composed = api.compose(DIGITS, run_dir)
    with open_dict(composed.config):
        composed.config.schedule.stages = stages
    from genlab.core.run import run

    with pytest.raises(error, match=message):
        run(composed.config, composed.context)
    assert not (run_dir / "checkpoints").exists()


def test_a_text_window_too_small_to_pack_is_reported(run_dir):
    stages = [
        {"name": "tiny", "max_difficulty": 0.001, "steps": 1, "lr": 0.01},
        {"name": "all", "steps": 1, "lr": 0.01},
    ]
    exp = build_with_stages(
        [*FAMILIES["transformer_lm"], "schedule=curriculum", "data.block_size=128", "callbacks=none", *QUIET],
        stages,
        run_dir,
    )
    with pytest.raises(
        DataError, match=r"schedule.stages.0 \(tiny\): a selection of \d+ training texts has \d+ tokens"
    ):
        exp.trainer.fit(exp.module, datamodule=exp.datamodule)


@pytest.mark.subprocess
def test_a_bad_stage_is_one_line_on_the_command_line(tmp_path):
    result = run_cli([*DIGITS, "schedule.stages.1.lr=null"], cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "genlab: error: schedule.stages.1 (medium): no lr; give each stage its learning rate, e.g. schedule.stages.1.lr=0.001"
    ]
