"""The RNG-state callback: what it saves brings every generator back to the same draws (CUDA too, on a GPU)."""

import io
import random

import numpy as np
import pytest
import torch

from genlab.callbacks.rng_state import RNGStateCallback


def draws(device: str = "cpu") -> tuple:
    return (
        random.random(),
        float(np.random.rand()),
        torch.rand(3).tolist(),
        torch.rand(3, device=device).tolist() if device != "cpu" else [],
    )


def saved_and_loaded(state: dict) -> dict:
    """Through a file as checkpoints go, read back with weights_only=True."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def round_trip(device: str) -> None:
    callback = RNGStateCallback()
    state = saved_and_loaded(callback.state_dict())
    expected = draws(device)
    draws(device)  # the run goes on drawing
    resumed = RNGStateCallback()
    resumed.load_state_dict(state)
    resumed.on_train_start(None, None)
    assert draws(device) == expected


def test_the_saved_states_bring_back_the_same_draws():
    round_trip("cpu")


@pytest.mark.gpu
def test_the_saved_states_bring_back_the_same_draws_on_the_gpu():
    assert len(RNGStateCallback().state_dict()["cuda"]) == torch.cuda.device_count()
    round_trip("cuda")
