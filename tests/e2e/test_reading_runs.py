"""Testing or generating from another run's checkpoint only reads that run: the reader gets a folder of its own
that records where its weights came from, and the other run's files stay byte for byte as they were."""

import hashlib
import json
from pathlib import Path

from helpers import run_cli

COMMON = ["data=digits", "model=ffn", "trainer.max_epochs=1", "logger=csv", "extras.print_config=false"]


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


def test_testing_another_runs_checkpoint_leaves_that_run_untouched(tmp_path):
    trained = run_cli([*COMMON, "experiment_name=trained"], cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr[-3000:]
    (source,) = (tmp_path / "outputs" / "trained" / "runs").iterdir()
    before = snapshot(source)
    assert {"metrics.json", "config_resolved.yaml", ".hydra/config.yaml", "csv/metrics.csv"} <= set(before)
    checkpoint = source / "checkpoints" / "last.ckpt"

    reader = run_cli([*COMMON, "experiment_name=trained", "train=false", f"ckpt_path={checkpoint}"], cwd=tmp_path)
    assert reader.returncode == 0, reader.stderr[-3000:]
    assert snapshot(source) == before
    (own,) = set((tmp_path / "outputs" / "trained" / "runs").iterdir()) - {source}
    record = json.loads((own / "weights_source.json").read_text())
    assert record == {
        "ckpt_path": str(checkpoint.resolve()),
        "run": str(source.resolve()),
        "sha256": hashlib.sha256(checkpoint.read_bytes()).hexdigest(),
    }
    # the same weights (the best checkpoint is the last after one epoch), the same test accuracy
    tested = json.loads((own / "metrics.json").read_text())
    assert tested["test/acc"] == json.loads((source / "metrics.json").read_text())["test/acc"]
    assert not (own / "checkpoints").exists()
