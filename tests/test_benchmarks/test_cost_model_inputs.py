"""The cost model's inputs at their boundaries: channel counts, classes, input sizes."""

import numpy as np
import pytest

from nas_harness.benchmarks.cost_model import count_flops, count_params, dataset_costs
from nas_harness.benchmarks.errors import InvalidArchitectureError

ODD = [1, 3, 5, 7, 9]


def test_whole_floats_count_as_their_integers_even_odd_ones():
    assert count_flops([float(c) for c in ODD], 10, 32) == count_flops(ODD, 10, 32)
    assert count_params(np.array(ODD, dtype=float), 10) == count_params(ODD, 10)


@pytest.mark.parametrize("channels", [[8.5, 8, 8, 8, 8], [True, True, True, True, True],
                                      ["8", "8", "8", "8", "8"]])
def test_other_channel_values_are_refused(channels):
    with pytest.raises(InvalidArchitectureError, match="channel counts must be integers"):
        count_params(np.array(channels), 10)


def test_one_channel_is_the_smallest_count():
    assert count_params([1, 1, 1, 1, 1], 1) > 0 and count_flops([1] * 5, 1, 4) > 0
    for bad in ([0, 1, 1, 1, 1], [1, 1, 1, 1, -8]):
        with pytest.raises(InvalidArchitectureError, match="must be positive integers"):
            count_params(bad, 10)


def test_one_class_is_the_fewest_classes():
    assert count_params(ODD, 1) < count_params(ODD, 2)
    for bad in (0, -1, 1.5):
        with pytest.raises(InvalidArchitectureError, match="num_classes must be a positive"):
            count_params(ODD, bad)


def test_input_sizes_are_multiples_of_four_from_four():
    assert count_flops(ODD, 10, 4) < count_flops(ODD, 10, 8.0)
    for bad in (3, 6, 0, 4.5):
        with pytest.raises(InvalidArchitectureError, match="multiple of 4"):
            count_flops(ODD, 10, bad)


def test_one_architecture_gives_python_numbers_and_several_give_arrays():
    one, many = count_flops(ODD, 10, 32), count_flops([ODD, ODD], 10, 32)
    assert type(one) is float and type(count_params(ODD, 10)) is int
    assert isinstance(many, np.ndarray) and many.tolist() == [one, one]
    assert count_params([ODD, ODD], 10).dtype == np.int64
    assert count_params(np.array([ODD, ODD], dtype=np.int32), 10).dtype == np.int64


def test_dataset_costs_by_name_alias_and_nats_bench_key():
    channels = np.array([ODD, [8, 16, 24, 32, 64]])
    flops, params = dataset_costs(channels, "cifar10")
    np.testing.assert_array_equal(flops, count_flops(channels, 10, 32))
    np.testing.assert_array_equal(params, count_params(channels, 10))
    for name in ("CIFAR10", "cifar10-valid"):
        same = dataset_costs(channels, name)
        np.testing.assert_array_equal(same[0], flops)
        np.testing.assert_array_equal(same[1], params)
    imagenet = dataset_costs(channels, "ImageNet16-120")
    np.testing.assert_array_equal(imagenet[0], count_flops(channels, 120, 16))
