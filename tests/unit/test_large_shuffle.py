"""Orders without a permutation table: each is a permutation, a function of seed and epoch, and random enough."""

import numpy as np
import pytest

from genlab.data.large_shuffle import KeyedPermutation, LargeShuffleSampler


@pytest.mark.parametrize("length", [1, 2, 3, 7, 64, 1000, 4097])
def test_each_order_is_a_permutation(length):
    order = KeyedPermutation(length, [11, 22, 33, 44])(np.arange(length))
    assert sorted(order.tolist()) == list(range(length))


def test_the_order_is_a_function_of_seed_and_epoch_and_looks_random():
    sampler = LargeShuffleSampler(10_000, seed=3)
    first = list(sampler)
    assert first == list(LargeShuffleSampler(10_000, seed=3)) and first != list(LargeShuffleSampler(10_000, seed=4))
    sampler.set_epoch(1)
    second = list(sampler)
    assert sorted(second) == list(range(10_000)) and second != first
    # no structure left: neighbours in the order are far apart, and position hardly predicts the index
    assert np.median(np.abs(np.diff(first))) > 1000
    assert abs(np.corrcoef(np.arange(10_000), first)[0, 1]) < 0.05


def test_more_samples_than_items_go_on_through_fresh_orders():
    drawn = list(LargeShuffleSampler(100, seed=0, num_samples=250))
    assert len(drawn) == 250
    assert sorted(drawn[:100]) == sorted(drawn[100:200]) == list(range(100)) and drawn[:100] != drawn[100:200]
    assert len(set(drawn[200:])) == 50
