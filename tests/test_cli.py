"""genlab-train as a user meets it: quick to answer, multirun into separate folders."""

import sys
import time
from pathlib import Path

import pytest
from helpers import run_cli


@pytest.mark.parametrize("args", [["--help"], ["--cfg", "job"], ["experiment=fashion_cnn", "--cfg", "job"]])
def test_help_and_cfg_answer_within_two_seconds(args, tmp_path):
    script = Path(sys.executable).with_name("genlab-train")
    start = time.perf_counter()
    result = __import__("subprocess").run([str(script), *args], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stderr
    assert elapsed < 2.0, f"{args} took {elapsed:.2f}s"


def test_multirun_gives_each_job_its_own_folder(tmp_path):
    result = run_cli(["-m", "model=ffn,cnn", "data=digits", "debug=fdr"], cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep,) = (tmp_path / "outputs" / "debug" / "multiruns").iterdir()
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert jobs == ["0", "1"]
    for job, model in zip(jobs, ["ffn", "cnn"]):
        overrides = (sweep / job / ".hydra" / "overrides.yaml").read_text()
        assert f"model={model}" in overrides
        assert (sweep / job / "metrics.json").exists()
        assert (sweep / job / "config_resolved.yaml").exists()
