"""A secret that reaches the config from the environment (${oc.env:...}) is used, and recorded nowhere."""

import hashlib

import torch

from helpers import env_with_test_modules, run_cli

CANARY = "canary-7f3a9c2e51b84d06"


def test_a_secret_from_the_environment_is_used_but_never_recorded(tmp_path):
    received = tmp_path / "received"
    result = run_cli(
        [
            "data=digits",
            "model=ffn",
            "trainer.max_epochs=1",
            "logger=[csv,wandb]",
            "task._target_=service_task.ClassificationWithService",
            "+task.service_api_key=${oc.env:GENLAB_TEST_API_KEY}",
            "tags=[${oc.env:GENLAB_TEST_API_KEY}]",  # a secret put where W&B tags come from
        ],
        cwd=tmp_path,
        env={**env_with_test_modules(), "GENLAB_TEST_API_KEY": CANARY, "GENLAB_TEST_RECEIVED": str(received)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert received.read_text() == hashlib.sha256(CANARY.encode()).hexdigest()  # the task got the real value

    files = [p for p in (tmp_path / "outputs").rglob("*") if p.is_file()]
    assert any(p.suffix == ".wandb" for p in files) and any(p.suffix == ".ckpt" for p in files)
    leaks = [str(p) for p in files if CANARY.encode() in p.read_bytes()]
    assert leaks == [], leaks
    assert CANARY not in result.stdout + result.stderr  # the printed config included

    (run,) = (tmp_path / "outputs" / "train" / "runs").iterdir()
    assert "service_api_key: <redacted>" in (run / "config_resolved.yaml").read_text()
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["hyper_parameters"]["service_api_key"] == "<redacted>"
