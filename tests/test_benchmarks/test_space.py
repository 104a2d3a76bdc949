"""The SSS encodings: official index order, round trips, and errors that name the problem."""

import itertools

import numpy as np
import pytest

from nas_harness.benchmarks.errors import InvalidArchitectureError
from nas_harness.benchmarks.space import CHANNEL_OPTIONS, SSS, SearchSpace


def test_index_order_is_itertools_product_first_layer_most_significant():
    expected = np.array(list(itertools.product(CHANNEL_OPTIONS, repeat=5)))
    assert SSS.size == 32768
    np.testing.assert_array_equal(SSS.channels(SSS.all_indices()), expected)
    assert SSS.format(0) == "8:8:8:8:8"
    assert SSS.format(1) == "8:8:8:8:16"
    assert SSS.format(32767) == "64:64:64:64:64"


def test_official_sample_indices():
    # the three archs of the official NATS-Bench sample archive
    assert SSS.parse("8:8:8:8:8") == 0
    assert SSS.parse("8:8:8:16:32") == 11
    assert SSS.parse("8:8:40:32:40") == 284


def test_round_trips_over_the_whole_space():
    idx = SSS.all_indices()
    np.testing.assert_array_equal(SSS.index_of_channels(SSS.channels(idx)), idx)
    np.testing.assert_array_equal(SSS.from_positions(SSS.positions(idx)), idx)
    strings = SSS.format_many(idx[::97])
    assert [SSS.parse(s) for s in strings] == idx[::97].tolist()


def test_resolve_accepts_every_encoding():
    assert SSS.resolve(284) == SSS.resolve("8:8:40:32:40") == SSS.resolve((8, 8, 40, 32, 40))


@pytest.mark.parametrize(
    ("arch", "message"),
    [
        ("8:8:8:8", "has 4 layers"),
        ("8:9:8:8:8", "layer 2 of '8:9:8:8:8' has 9 channels"),
        ("64:64:64:64:72", "layer 5 of '64:64:64:64:72' has 72 channels"),
        ("8:x:8:8:8", "is 'x', not an integer"),
        ("", "has 1 layers"),
    ],
)
def test_malformed_strings_name_what_is_wrong(arch, message):
    with pytest.raises(InvalidArchitectureError, match=message):
        SSS.parse(arch)


def test_bad_indices_and_tuples():
    with pytest.raises(InvalidArchitectureError, match=r"outside 0\.\.32767"):
        SSS.channels(32768)
    with pytest.raises(InvalidArchitectureError, match="outside"):
        SSS.check_indices([0, -1])
    with pytest.raises(InvalidArchitectureError, match="integers"):
        SSS.check_indices([0.5])
    with pytest.raises(InvalidArchitectureError, match="5 layers"):
        SSS.index_of_channels((8, 8, 8))
    with pytest.raises(InvalidArchitectureError, match="layer 3 has 12 channels"):
        SSS.index_of_channels((8, 8, 12, 8, 8))


def test_small_custom_space():
    space = SearchSpace(options=((1, 2, 3), (10, 20)))
    assert space.size == 6
    expected = ["1:10", "1:20", "2:10", "2:20", "3:10", "3:20"]
    assert space.format_many(space.all_indices()) == expected


def test_place_values_are_the_one_encoding():
    from nas_harness.benchmarks.space import place_values

    assert place_values((8, 8, 8, 8, 8)).tolist() == [4096, 512, 64, 8, 1]
    assert place_values((3, 4, 2)).tolist() == [8, 2, 1]
    assert place_values((5,)).tolist() == [1]
    small = SearchSpace(options=((1, 2, 3), (10, 20, 30, 40), (7, 9)))
    assert small.weights.tolist() == [8, 2, 1] and small.sizes.tolist() == [3, 4, 2]
    every = small.all_indices()
    assert (small.positions(every) @ small.weights).tolist() == every.tolist()
    assert small.positions(every)[-1].tolist() == [2, 3, 1]
    assert SSS.weights.tolist() == [4096, 512, 64, 8, 1]
    with pytest.raises(ValueError):
        SSS.weights[0] = 1  # shared by every algorithm: read-only
    with pytest.raises(ValueError):
        SSS.sizes[0] = 1
