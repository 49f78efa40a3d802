"""Lightning's checkpoint writer, made atomic (kept apart from genlab.core.checkpoints, which must stay free of
Lightning: run folders are looked up while Hydra composes)."""

from pathlib import Path
from typing import Any

from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from genlab.core.checkpoints import HASH_SUFFIX, save_checkpoint_atomically


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint writer, made atomic in the run folder itself (Lightning writes through fsspec,
    whose local "transaction" writes into TMPDIR and moves the file over: a copy, not a rename, when TMPDIR is on
    another filesystem, and never synced), with a content hash recorded beside each checkpoint."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options; got {storage_options!r}")
        save_checkpoint_atomically(checkpoint, path)

    def remove_checkpoint(self, path: Any) -> None:
        super().remove_checkpoint(path)
        Path(str(path) + HASH_SUFFIX).unlink(missing_ok=True)
