"""What a run says on the console and in its log: short by default, and warnings that tell the truth about it."""

import logging

from genlab import api
from helpers import FAST

SHORT = ["data=digits", "model=ffn", "logger=none", "extras.print_config=false"]


def test_max_steps_before_the_first_validation_is_said(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="genlab"):
        api.run([*SHORT, "trainer.max_steps=3"], tmp_path / "short")
    assert (
        "trainer.max_steps=3 ends training after 3 batches, before the first validation (after batch 40)" in caplog.text
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="genlab"):
        api.run([*SHORT, "trainer.max_steps=3", "trainer.val_check_interval=2"], tmp_path / "validated")
        api.run([*SHORT, *FAST], tmp_path / "fast")
    assert "before the first validation" not in caplog.text
