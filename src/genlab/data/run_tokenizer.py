"""The tokenizer a run used, kept in its folder (``<run>/tokenizer``, a standard tokenizer folder) whether genlab
trained it or the user or the model supplied it: a resumed run, and a later ``train=false ckpt_path=...`` run of
its weights (which copies it), read it from there rather than from data or files that may be gone."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any


def saved_tokenizer(save_dir: str | Path) -> Any | None:
    """The tokenizer saved in ``save_dir``, or None when there is none (or no ``save_dir``)."""
    if not save_dir or not (Path(save_dir) / "tokenizer.json").is_file():
        return None
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(save_dir))


def save_tokenizer(tokenizer: Any, save_dir: str | Path) -> None:
    """``tokenizer`` saved in ``save_dir`` whole or not at all: written beside it, then renamed, so that a reader
    (another DDP rank, a run resumed after a kill) never finds half a tokenizer. The first writer's copy stays."""
    if not save_dir:
        return
    folder = Path(save_dir)
    partial = folder.with_name(f".{folder.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    tokenizer.save_pretrained(str(partial))
    try:
        partial.rename(folder)
    except OSError:  # saved meanwhile by another process of this run, or a folder already there (not empty)
        shutil.rmtree(partial, ignore_errors=True)
        if not (folder / "tokenizer.json").is_file():
            tokenizer.save_pretrained(str(folder))
