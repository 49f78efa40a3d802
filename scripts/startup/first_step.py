"""The moment a launcher reaches its first training step, for scripts/startup_time.py: each launcher calls
``reached_first_step()`` there, which writes the time to $STARTUP_FIRST_STEP_FILE and ends the process at once
(nothing after the first step is measured). Imports nothing heavy: the plain PyTorch script uses it too."""

import os
import time


def reached_first_step() -> None:
    with open(os.environ["STARTUP_FIRST_STEP_FILE"], "w") as f:
        f.write(repr(time.time()))
    os._exit(0)
