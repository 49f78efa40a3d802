"""The offline W&B run holds the metrics, the resolved config, the overrides and the choices as tags."""

import json

from genlab import api
from helpers import env_with_test_modules, leet_inspect, run_cli
from wandb_recorder import recording_server, wandb_sync


def test_offline_wandb_run_reads_back(run_dir):
    overrides = ["data=digits", "trainer.max_epochs=2", "logger=[wandb,csv]", "extras.print_config=false"]
    metrics = api.run(overrides, run_dir)
    record = json.loads(leet_inspect(run_dir, "--summary"))
    assert record["run_id"] == (run_dir / "wandb_id").read_text()
    assert record["state"] == "finished"
    summary = record["summary"]
    assert abs(summary["test/acc"] - metrics["test/acc"]) < 1e-6
    assert {"train/loss", "train/loss_step", "val/acc", "val/acc_best", "lr-Adam"} <= set(summary)
    config = record["config"]
    assert config["model"]["_target_"] == "genlab.nets.FeedForward"
    assert config["data"]["_target_"] == "genlab.data.DigitsDataModule"
    assert config["trainer"]["max_epochs"] == 2
    assert config["overrides"] == overrides
    assert config["choices"]["data"] == "digits"
    assert {"model:ffn", "data:digits", "tuning:full"} <= set(record["tags"])
    # and the CSV log, readable without W&B
    csv = (run_dir / "csv" / "metrics.csv").read_text().splitlines()
    assert "test/acc" in csv[0] and len(csv) > 2


def test_a_multirun_is_one_wandb_group_with_the_swept_values_as_columns(tmp_path):
    args = [
        "-m",
        "data=digits",
        "trainer.max_epochs=1",
        "logger=[wandb,csv]",
        "extras.print_config=false",
        "model.hidden_size=16,32",
        "task.optimizer.lr=0.003",
    ]
    result = run_cli(args, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep,) = (tmp_path / "outputs" / "train" / "multiruns").iterdir()
    records = [[json.loads(line) for line in leet_inspect(sweep / job).splitlines()] for job in ("0", "1")]
    runs = [next(r["run"] for r in job if r["type"] == "run") for job in records]
    assert {r["run_group"] for r in runs} == {f"train-{sweep.name}"}
    assert len({r["run_id"] for r in runs}) == 2
    for job, hidden in (("0", 16), ("1", 32)):
        config = json.loads(leet_inspect(sweep / job, "--summary"))["config"]
        # only what the sweep varies, as a number; the fixed lr is in the config but not a sweep column
        assert config["sweep"] == {"model.hidden_size": hidden}
        assert config["task"]["optimizer"]["lr"] == 0.003


def test_a_killed_and_resumed_offline_run_uploads_as_one_run_with_its_whole_history(tmp_path):
    """Killed at the start of epoch 1 after W&B wrote epoch 0 to its offline log, then resumed: `wandb sync` of
    the run's wandb folder sends both segments to the one run, the resumed one's history after the killed one's,
    so W&B holds every epoch's validation once for epochs 0..2 (the epoch the kill interrupted has no validation)."""
    marker = tmp_path / "killed"
    args = [
        "data=digits",
        "trainer.max_epochs=3",
        "logger=[csv,wandb]",
        "extras.print_config=false",
        "+callbacks.kill._target_=killer.KillAfterWandbWrite",
        "+callbacks.kill.epoch=1",
        f"+callbacks.kill.marker={marker}",
    ]
    # W&B writes its offline log every 0.2 s instead of 15 s, so the kill can wait for a write
    env = {**env_with_test_modules(), "WANDB__TRANSACTION_LOG_FLUSH_INTERVAL": "0.2"}
    killed = run_cli(args, cwd=tmp_path, env=env)
    assert killed.returncode == -9 and marker.exists(), killed.stderr[-3000:]
    resumed = run_cli([*args, "resume=true"], cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    (run,) = (tmp_path / "outputs" / "train" / "runs").iterdir()
    run_id = (run / "wandb_id").read_text()
    assert len(list((run / "wandb").glob(f"offline-run-*-{run_id}/run-{run_id}.wandb"))) == 2

    sent = wandb_sync([run / "wandb"])
    assert sent.runs == {f"entity/genlab/{run_id}"}, sent.output
    # appended, never written over: the server holds every line sent, in the order of the segments
    assert len(sent.history) == sent.history_lines_sent
    epochs = [row["epoch"] for row in sent.history if "val/loss" in row]
    assert epochs == [0, 1, 2]
    steps = [row["trainer/global_step"] for row in sent.history if "trainer/global_step" in row]
    assert steps == sorted(steps)


def test_a_killed_and_resumed_online_run_continues_the_same_run(tmp_path):
    """Online (against tests/wandb_recorder.py's stand-in server): killed at the start of epoch 1 once the server
    has epoch 0's validation, the resumed start asks W&B for the run and appends to its history, so the server
    holds one run with every epoch's validation."""
    marker, validated = tmp_path / "killed", tmp_path / "validated"
    args = [
        "data=digits",
        "trainer.max_epochs=3",
        "logger=[csv,wandb]",
        "extras.print_config=false",
        "+callbacks.kill._target_=killer.KillWhenFileAppears",
        "+callbacks.kill.epoch=1",
        f"+callbacks.kill.marker={marker}",
        f"+callbacks.kill.wait_for={validated}",
    ]
    with recording_server(validated=validated) as (env, sent):
        # W&B sends history every 0.2 s instead of 15 s, so the kill does not wait long
        env = {**env, **env_with_test_modules(), "WANDB__FILE_STREAM_TRANSMIT_INTERVAL": "0.2"}
        killed = run_cli(args, cwd=tmp_path, env=env)
        assert killed.returncode == -9 and marker.exists(), killed.stderr[-3000:]
        resumed = run_cli([*args, "resume=true"], cwd=tmp_path, env=env)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
    (run,) = (tmp_path / "outputs" / "train" / "runs").iterdir()
    assert sent.runs == {f"entity/genlab/{(run / 'wandb_id').read_text()}"}
    assert sent.operations.count("RunResumeStatus") == 2  # each start asks for the run to continue
    assert len(sent.history) == sent.history_lines_sent
    assert [row["epoch"] for row in sent.history if "val/loss" in row] == [0, 1, 2]
