"""genlab-train as a user meets it: quick to answer (it imports nothing heavy), multirun into separate folders."""

import subprocess
import sys

import pytest

from helpers import run_cli

HEAVY = ("torch", "lightning", "transformers", "peft", "diffusers", "librosa", "bitsandbytes", "wandb", "optuna")
IMPORTS_AFTER = """
import contextlib, io, sys
sys.argv = ["genlab-train", *sys.argv[1:]]
from genlab.cli.train import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit as e:
        assert not e.code, e.code
print(" ".join(sorted(name for name in sys.modules if "." not in name)))
"""


@pytest.mark.parametrize("args", [["--help"], ["--cfg", "job"], ["experiment=fashion_cnn", "--cfg", "job"]])
def test_help_and_cfg_import_no_heavy_library(args, tmp_path):
    """What --help and --cfg cost is what they import: Hydra and OmegaConf, none of the libraries a run needs
    (torch alone takes seconds). Checked by the modules loaded, not by a clock."""
    result = subprocess.run(
        [sys.executable, "-c", IMPORTS_AFTER, *args], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert "hydra" in loaded and not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


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
