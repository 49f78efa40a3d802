"""Console output of the libraries genlab runs that says nothing about the run, filtered here and only here.

What genlab itself caused is fixed where it is caused (W&B's ``anonymous`` warning: genlab.integrations.wandb;
the model summary table and its ``Total FLOPs: 0``: no longer a default callback). What is left:

- Lightning's INFO lines: the litlogger advertisement, "TPU available: False", "GPU available: False" (a GPU
  left unused is still said), "`Trainer.fit` stopped: `max_epochs=...` reached", the checkpoint restored for
  testing (genlab says "resuming from ..." itself when it resumes), the ``weights_only`` default.
- peft reads transformers 5's deprecated ``is_gradient_checkpointing`` (a FutureWarning on every LoRA run of a
  Hugging Face model).
- tqdm progress bars (Hugging Face's downloads, weight loading and GGUF conversion, datasets' maps) where standard
  error is no terminal: in a log file they are hundreds of carriage-return frames. A terminal keeps them.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

_LIGHTNING_LOGGERS = (
    "lightning.pytorch.utilities.rank_zero",
    "lightning.pytorch.trainer.connectors.checkpoint_connector",
    "lightning.fabric.utilities.rank_zero",
)
_SAYS_NOTHING = (
    "💡 Tip:",
    "TPU available:",
    "GPU available: False",
    "`Trainer.fit` stopped:",
    "Restoring states from the checkpoint path at",
    "Loaded model weights from the checkpoint at",
    "`weights_only` was not set",
)


class _DropLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).lstrip().startswith(_SAYS_NOTHING)


_FILTER = _DropLines()


def quiet_third_parties() -> None:
    """Install the filters (idempotent). Before the libraries are imported: the progress-bar switches are read
    at import."""
    for name in _LIGHTNING_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)
    if not sys.stderr.isatty():
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # huggingface_hub and transformers
        os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TQDM_DISABLE", "1")  # every other tqdm bar (transformers' GGUF conversion, ...)
