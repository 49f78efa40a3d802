"""The offline W&B run holds the metrics, the resolved config, the overrides and the choices as tags."""

import json

from genlab import api
from helpers import leet_inspect, run_cli


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
