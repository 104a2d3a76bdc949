"""multi-distribution: the conformance kit, its pieces, and that it spreads over the front."""

from __future__ import annotations

import numpy as np
import pytest

from nas_harness.algorithms.multi_distribution import (
    MultiDistribution,
    coefficients,
    ranking_utility,
)
from nas_harness.algorithms.params import ParamError
from nas_harness.algorithms.testing import AlgorithmConformance, drive, synthetic_landscape


class TestMultiDistribution(AlgorithmConformance):
    @pytest.fixture
    def algorithm_class(self):
        return MultiDistribution


class TestMultiDistributionIndependentLinear(AlgorithmConformance):
    @pytest.fixture
    def algorithm_class(self):
        return MultiDistribution

    @pytest.fixture
    def algorithm_params(self):
        return MultiDistribution.Params(pooling="independent", spread="linear",
                                        num_distributions=3, samples_per_distribution=3)


def test_coefficients() -> None:
    assert coefficients(5, 100.0, "linear").tolist() == [0.0, 25.0, 50.0, 75.0, 100.0]
    assert coefficients(4, 100.0, "log").tolist() == pytest.approx([0.0, 1.0, 10.0, 100.0])
    assert coefficients(1, 100.0, "log").tolist() == [0.0]
    assert coefficients(2, 100.0, "log").tolist() == [0.0, 100.0]


def test_ranking_utility() -> None:
    assert ranking_utility(np.array([1.0, 3.0])).tolist() == [-1.0, 1.0]
    u = ranking_utility(np.array([5.0, 1.0, 4.0, 2.0, 3.0, 0.0, 6.0, 7.0]))
    assert u.tolist() == [0.0, -0.5, 0.0, 0.0, 0.0, -0.5, 0.5, 0.5]
    # ties share: the two best are tied with the third
    u = ranking_utility(np.array([2.0, 2.0, 2.0, 0.0]))
    assert u.tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3, -1.0])


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ParamError, match="samples_per_distribution"):
        MultiDistribution.Params(samples_per_distribution=1)
    with pytest.raises(ParamError, match="max_coefficient"):
        MultiDistribution.Params(max_coefficient=0.5)


@pytest.mark.parametrize("pooling", ["importance", "independent"])
def test_distributions_spread_along_the_trade_off(pooling: str) -> None:
    context, acc = synthetic_landscape(600, max_flops_fraction=1.0)
    algo = MultiDistribution(context, np.random.default_rng(0),
                             MultiDistribution.Params(pooling=pooling, num_distributions=4,
                                                      max_coefficient=300.0))
    drive(algo, acc, 600)
    # the expected cost under each distribution falls as its coefficient grows
    cost = context.flops / context.flops.max()
    expected = []
    for dist in algo.dists:
        pos = np.argmax(dist.theta, axis=1)
        expected.append(cost[int(pos @ algo._weights)])
    assert expected[0] > expected[-1]
    assert expected == sorted(expected, reverse=True)
