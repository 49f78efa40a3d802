"""Components that do not meet their contract fail when the run is built, with one line, before any training."""

import pytest

from genlab import api
from genlab.errors import ConfigError
from helpers import FAST

DIGITS = ["data=digits", "model=ffn", *FAST]


@pytest.mark.parametrize(
    "override, message",
    [
        (
            "schedule._target_=builtins.dict",
            r"^schedule: dict does not provide callbacks, task_arguments, trainer_arguments \(Schedule\)$",
        ),
        ("tuning._target_=builtins.dict", r"^tuning: dict does not provide adapters, build, merge \(Tuning\)$"),
        (
            "task._target_=builtins.dict",
            r"^task: builtins\.dict is not a lightning\.pytorch\.core\.module\.LightningModule; its _target_ must build one$",
        ),
        (
            "generation=image",
            r"^generation=image: task Classification does not generate images; use experiment=diffusion or experiment=stable_diffusion$",
        ),
        ("generation=text", r"^predict=true: task Classification does not generate text"),
    ],
)
def test_a_component_without_its_contract_stops_the_build(override, message, run_dir):
    with pytest.raises(ConfigError, match=message):
        api.run([*DIGITS, override], run_dir)
    assert not (run_dir / "checkpoints").exists() and not (run_dir / "metrics.json").exists()
