"""The offline W&B run holds the metrics, the resolved config, the overrides and the choices as tags."""

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import run_in_process


def test_offline_wandb_run_reads_back(run_dir):
    overrides = ["data=digits", "trainer.max_epochs=2", "logger=[wandb,csv]", "extras.print_config=false"]
    metrics = run_in_process(overrides, run_dir)
    (segment,) = (run_dir / "wandb").glob("offline-run-*")
    wandb_cli = Path(sys.executable).with_name("wandb")
    out = subprocess.run(
        [str(wandb_cli), "leet", "inspect", "--summary", "--json", str(segment)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "WANDB_MODE": "offline"},
    )
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
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
