"""Whether a process still runs: for locks and temporary files that a killed process leaves behind."""

import os


def process_alive(pid: int) -> bool:
    """True if a process with this PID runs on this machine (another user's counts: it cannot be signalled)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
