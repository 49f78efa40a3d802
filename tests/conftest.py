import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# W&B must never reach for the network or a login in tests.
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
# Nothing is downloaded in tests: a hub id fails at once instead of after the hub client's retries.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    path = tmp_path / "runs" / "run"
    path.mkdir(parents=True)
    return path
