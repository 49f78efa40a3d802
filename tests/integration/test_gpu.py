"""The CUDA path: skipped on machines without a GPU (the marker gpu; CI has none)."""

import pytest

from genlab import api


@pytest.mark.gpu
def test_bf16_mixed_training_on_the_gpu(run_dir):
    metrics = api.run(
        ["data=digits", "model=cnn", "trainer=gpu", "trainer.max_epochs=2", "logger=csv", "extras.print_config=false"],
        run_dir,
    )
    assert metrics["test/acc"] > 0.5
