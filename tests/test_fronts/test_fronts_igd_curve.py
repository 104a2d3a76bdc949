"""The per-query IGD+ curve against moocore's IGD+ of every prefix's attained front."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nas_harness.analysis.metrics.front_igd import igd_plus_curve
from nas_harness.analysis.metrics.fronts import FrontScorer, Reference, attained, igd_plus

REF = Reference("cifar10", "flops", largest_cost=10.0, accuracy=50.0)  # SYNTHETIC scale


def _moocore_prefixes(cost, valid, test, fc, fa) -> np.ndarray:
    out = []
    for k in range(1, len(cost) + 1):
        keep = attained(cost[:k], valid[:k])
        out.append(igd_plus(cost[:k][keep], test[:k][keep], fc, fa, REF))
    return np.array(out)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 9), st.integers(51, 99), st.integers(51, 99)),
                min_size=1, max_size=30),
       st.lists(st.tuples(st.integers(1, 9), st.integers(51, 99)), min_size=1, max_size=8))
def test_curve_is_moocore_at_every_query(queries, front) -> None:
    cost, valid, test = (np.array(c, dtype=float) for c in zip(*queries, strict=True))
    fc, fa = (np.array(c, dtype=float) for c in zip(*front, strict=True))
    curve = igd_plus_curve(cost, valid, test, fc, fa, REF)
    np.testing.assert_allclose(curve, _moocore_prefixes(cost, valid, test, fc, fa),
                               rtol=1e-12, atol=1e-15)


def test_hand_checked_values() -> None:
    # exact front: (2, 90) and (6, 95) -> objective points (0.2, 0.10), (0.6, 0.05)
    fc, fa = np.array([2.0, 6.0]), np.array([90.0, 95.0])
    cost = np.array([4.0, 2.0, 6.0])
    valid = np.array([80.0, 70.0, 95.0])   # the second query is dominated by the first: skipped
    test = np.array([80.0, 60.0, 95.0])
    curve = igd_plus_curve(cost, valid, test, fc, fa, REF)
    # after 1: z = (0.4, 0.2): d+ to (0.2, 0.1) = sqrt(.04 + .01); to (0.6, .05) = 0.15
    first = (np.sqrt(0.05) + 0.15) / 2
    # after 3: front (0.4, 0.2), (0.6, 0.05): the second point is on (0.6, 0.05)
    third = (min(np.sqrt(0.05), np.sqrt(0.16)) + 0.0) / 2
    np.testing.assert_allclose(curve, [first, first, third], rtol=1e-12)


def test_no_query_no_value() -> None:
    curve = igd_plus_curve(np.array([]), np.array([]), np.array([]), np.array([1.0]),
                           np.array([90.0]), REF)
    assert curve.shape == (0,)


def test_real_run_matches_the_checkpoints(table) -> None:
    scorer = FrontScorer(table["cifar10"], "flops")
    rng = np.random.default_rng(5)
    index = rng.integers(0, 32768, size=300)
    valid = table["cifar10"].valid_acc[index]
    curve = igd_plus_curve(scorer.cost[index], valid, scorer.test[index], scorer.front.cost,
                           scorer.front.accuracy, scorer.ref)
    _, at = scorer.score(index, valid, [1, 100, 300])
    for value, k in zip(at, [1, 100, 300], strict=True):
        assert curve[k - 1] == pytest.approx(value, rel=1e-12)
    for k in (2, 37, 250):
        assert curve[k - 1] == pytest.approx(scorer.igd_plus(index[:k], valid[:k]), rel=1e-12)
