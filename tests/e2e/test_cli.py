"""genlab-train as a user meets it: quick to answer (it imports nothing heavy), multirun into separate folders."""

import subprocess
import sys

import pytest
import torch

from helpers import REPO, run_cli

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


# What a run of genlab's own net on images must not import: the libraries of other groups' choices.
OTHER_GROUPS = ("peft", "diffusers", "bitsandbytes", "datasets", "sklearn", "optuna", "lm_eval", "av", "soundfile")
# Lightning imports torchmetrics, which imports transformers, scipy, matplotlib and PIL whenever they are installed
# (Lightning-AI/torchmetrics#2242): those are measured against `import lightning` alone, not forbidden.
MODULES_OF_THE_DEFAULT_JOB = """
import sys
import lightning
before = {name.split(".")[0] for name in sys.modules}
from genlab import api
composed = api.compose(sys.argv[2:], sys.argv[1])
experiment = api.build(composed)
experiment.datamodule.setup("fit")
print(" ".join(sorted({name.split(".")[0] for name in sys.modules} - before)))
"""


@pytest.mark.parametrize("logger", ["logger=csv", "logger=[wandb,csv]"])
def test_the_default_job_imports_nothing_of_other_groups(logger, tmp_path):
    """Composing, building and setting up the default job (an ffn on Fashion-MNIST) adds to what Lightning itself
    imports none of the libraries that other models, data, tunings or sweeps need, and not W&B before its run
    starts. Checked by the modules loaded, not by a clock."""
    result = subprocess.run(
        [sys.executable, "-c", MODULES_OF_THE_DEFAULT_JOB, str(tmp_path / "run"), logger],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    added = set(result.stdout.split())
    assert "genlab" in added and not added & {*OTHER_GROUPS, "wandb"}, sorted(added)


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


def test_the_gpu_check_composes_its_runs_and_refuses_to_run_without_a_gpu():
    """scripts/gpu_check.sh is run by hand on a lent GPU machine: CI keeps its configs composing."""
    plan = subprocess.run(["bash", "scripts/gpu_check.sh", "--dry-run"], capture_output=True, text=True, cwd=REPO)
    assert plan.returncode == 0, plan.stderr[-2000:]
    assert plan.stdout.count("composes: genlab-train") == 3
    if not torch.cuda.is_available():
        refused = subprocess.run(["bash", "scripts/gpu_check.sh"], capture_output=True, text=True, cwd=REPO)
        assert refused.returncode == 1 and "no CUDA GPU here" in refused.stderr
