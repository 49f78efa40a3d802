import logging
import random

import lightning as L
import numpy as np
import torch

log = logging.getLogger("genlab")


class RNGStateCallback(L.Callback):
    """Saves the Python, NumPy, torch CPU and CUDA (every device's) RNG states in each checkpoint and restores them
    on resume.

    Lightning restores weights, optimizer and loops but not the RNGs, so a resumed run would shuffle and drop out
    differently from an uninterrupted one. The states go back in at ``on_train_start``, after the sanity check,
    because creating the sanity check's dataloader iterator draws from the torch RNG.
    """

    def __init__(self):
        self._pending: dict | None = None

    def state_dict(self) -> dict:
        # Tensors and plain numbers only, so checkpoints load with torch.load(weights_only=True).
        version, mt_state, python_gauss = random.getstate()
        kind, keys, pos, has_gauss, cached_gauss = np.random.get_state()
        return {
            "python": (version, torch.tensor(mt_state, dtype=torch.int64), python_gauss),
            "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached_gauss)),
            "torch": torch.get_rng_state(),
            # dropout on a GPU draws from the device's generator, not the CPU one
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        }

    def load_state_dict(self, state_dict: dict) -> None:
        self._pending = state_dict

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._pending is None:
            return
        version, mt_state, python_gauss = self._pending["python"]
        random.setstate((version, tuple(mt_state.tolist()), python_gauss))
        kind, keys, pos, has_gauss, cached_gauss = self._pending["numpy"]
        np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached_gauss))
        torch.set_rng_state(self._pending["torch"])
        self._restore_cuda(self._pending.get("cuda", []))
        self._pending = None

    @staticmethod
    def _restore_cuda(states: list[torch.Tensor]) -> None:
        devices = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if states and len(states) != devices:
            log.warning(
                f"resume: the checkpoint holds the RNG states of {len(states)} CUDA device(s), this machine has "
                f"{devices}; random draws on the GPU will differ from the interrupted run's"
            )
        for device, state in enumerate(states[:devices]):
            torch.cuda.set_rng_state(state, device)
