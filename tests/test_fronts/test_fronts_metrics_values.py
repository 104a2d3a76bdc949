"""Front metrics by value: kernels, the trace's edges, attainment, references, missing values.

SYNTHETIC numbers throughout.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from nas_harness.analysis.metrics import fronts as metrics
from nas_harness.analysis.metrics.fronts import (
    FrontScorer,
    Reference,
    attainment,
    check_reference,
    front_trace,
    igd_plus,
    objectives,
    reference_for,
    staircase_area,
    staircase_areas,
)
from nas_harness.benchmarks.errors import ProtocolError, UnknownNameError
from nas_harness.benchmarks.fronts import exact_front
from nas_harness.benchmarks.table import DatasetTable

REF = Reference("cifar10", "flops", largest_cost=10.0, accuracy=50.0)  # SYNTHETIC scale


def test_staircase_area_by_hand() -> None:
    # reference (1, 1); points (0.2, 0.5), (0.5, 0.3): 0.3 * 0.5 + 0.5 * 0.7
    assert staircase_area([0.2, 0.5], [0.5, 0.3], 1.0, 1.0) == pytest.approx(0.15 + 0.35)
    # y need not descend: a worse later point adds its predecessor's level
    assert staircase_area([0.2, 0.5], [0.3, 0.5], 1.0, 1.0) == pytest.approx(0.8 * 0.7)
    # points at or beyond the reference add nothing; the width stops at rx
    assert staircase_area([0.2, 0.5], [1.0, 0.5], 1.0, 1.0) == pytest.approx(0.5 * 0.5)
    assert staircase_area([0.2, 1.0, 1.5], [0.5, 0.1, 0.0], 1.0, 1.0) == pytest.approx(0.4)
    assert staircase_area([0.2, 0.4], [0.5, 0.5], 0.3, 1.0) == pytest.approx(0.1 * 0.5)
    assert staircase_area([], [], 1.0, 1.0) == 0.0
    # three steps: each width runs to the next point's cost
    assert staircase_area([0.1, 0.3, 0.6], [0.8, 0.5, 0.2], 1.0, 1.0) == pytest.approx(
        0.2 * 0.2 + 0.3 * 0.5 + 0.4 * 0.8)


def test_staircase_areas_is_the_kernel_per_set() -> None:
    xs = [[0.2, 0.5], [0.1], [0.2, 1.0, 1.5]]
    ys = [[0.5, 0.3], [0.9], [0.5, 0.1, 0.0]]
    want = [staircase_area(x, y, 1.0, 1.0) for x, y in zip(xs, ys, strict=True)]
    assert staircase_areas(xs, ys, 1.0, 1.0).tolist() == pytest.approx(want)
    assert want == pytest.approx([0.5, 0.09, 0.4])
    assert staircase_areas([], [], 1.0, 1.0).shape == (0,)
    with pytest.raises(ValueError):
        staircase_areas(xs, ys[:2], 1.0, 1.0)


def test_trace_before_the_first_point_and_of_missing_values() -> None:
    cost = [2.0, None, 4.0]
    valid = [float("nan"), None, 80.0]
    test = [70.0, None, 60.0]
    trace = front_trace(cost, valid, test, REF, [1, 2, 3])
    assert trace.hv[:2].tolist() == [0.0, 0.0]
    assert trace.hv[2] == pytest.approx((1.1 - 0.4) * (0.5 - 0.4))
    assert [f.tolist() for f in trace.fronts] == [[], [], [2]]
    assert all(f.dtype == np.int64 for f in trace.fronts)
    nothing = front_trace([1.0, 2.0], [float("nan")] * 2, [60.0, 70.0], REF)
    assert nothing.hv.tolist() == [0.0, 0.0]


def test_trace_columns_of_different_length_are_an_error() -> None:
    with pytest.raises(ValueError):
        front_trace([1.0, 2.0], [80.0], [60.0, 70.0], REF)


def test_an_identical_query_keeps_the_first() -> None:
    # same cost and validation as query 0, better test: dominated (identical), skipped
    trace = front_trace([2.0, 2.0], [80.0, 80.0], [60.0, 90.0], REF, [2])
    assert trace.fronts[0].tolist() == [0]
    assert trace.hv[1] == trace.hv[0]


def test_an_equal_cost_query_replaces_only_its_own_point() -> None:
    trace = front_trace([1.0, 2.0, 2.0], [50.0, 60.0, 70.0], [55.0, 65.0, 75.0], REF, [3])
    assert trace.fronts[0].tolist() == [0, 2]
    rx, ry = 1.1, 0.5
    assert trace.hv[2] == pytest.approx(staircase_area([0.1, 0.2], [0.45, 0.25], rx, ry))


def test_attainment_bounds_and_an_empty_input() -> None:
    cost, acc = np.array([1.0, 2.0]), np.array([60.0, 70.0])
    assert attainment([(cost, acc)], REF, 100.0).tolist() == [[1.0, 60.0], [2.0, 70.0]]
    assert attainment([(cost, acc)], REF, 0.5).tolist() == [[1.0, 60.0], [2.0, 70.0]]
    for bad in (0.0, 100.5, -1.0):
        with pytest.raises(ProtocolError, match="percentile"):
            attainment([(cost, acc)], REF, bad)
    empty = attainment([(np.zeros(0), np.zeros(0))], REF)
    assert empty.shape == (0, 2)
    assert attainment([], REF).shape == (0, 2)


def test_attainment_of_two_different_runs() -> None:
    a = (np.array([1.0, 3.0]), np.array([60.0, 80.0]))
    b = (np.array([2.0]), np.array([70.0]))
    # 50% of two runs: attained by either; 100%: by both
    assert attainment([a, b], REF, 50.0).tolist() == [[1.0, 60.0], [2.0, 70.0], [3.0, 80.0]]
    assert attainment([a, b], REF, 100.0).tolist() == [[2.0, 60.0], [3.0, 70.0]]
    # a run with no point counts as none of the labelled sets
    assert attainment([a, (np.zeros(0), np.zeros(0)), b], REF, 100.0).tolist() == [
        [2.0, 60.0], [3.0, 70.0]]


def test_check_reference_names_the_first_bad_point() -> None:
    check_reference(np.array([1.0, 5.0]), np.array([60.0, 70.0]), REF)
    # the second point costs beyond 1.1 x 10 while its accuracy is fine
    with pytest.raises(ProtocolError, match=r"front point \(cost 12, accuracy 70%\)"):
        check_reference(np.array([1.0, 12.0]), np.array([60.0, 70.0]), REF)
    # exactly on the reference accuracy is not strictly dominated
    with pytest.raises(ProtocolError, match=r"front point \(cost 1, accuracy 50%\)"):
        check_reference(np.array([1.0]), np.array([50.0]), REF)


def test_hypervolume_of_points_on_the_reference_edge_is_zero() -> None:
    assert metrics.hypervolume(np.array([11.0]), np.array([60.0]), REF) == 0.0
    assert metrics.hypervolume(np.array([11.0, 5.0]), np.array([60.0, 60.0]), REF) == (
        pytest.approx(0.6 * 0.1))


def test_igd_plus_of_nothing_is_nan() -> None:
    assert math.isnan(igd_plus(np.zeros(0), np.zeros(0), np.array([1.0]), np.array([60.0]),
                               REF))


def test_objectives_read_missing_as_nan() -> None:
    pts = objectives([5.0, None], [60.0, None], REF)
    assert pts[0].tolist() == pytest.approx([0.5, 0.4])
    assert np.isnan(pts[1]).all()


def test_reference_without_a_point_is_one_clear_line(monkeypatch) -> None:
    monkeypatch.delitem(metrics.REFERENCE_POINTS, ("cifar100", "params"))
    with pytest.raises(UnknownNameError) as err:
        reference_for("cifar100", "params")
    assert str(err.value) == "no reference point for cifar100 and params"


def small_table() -> DatasetTable:
    """A SYNTHETIC 4-row cifar10 table within the published reference (tests only)."""
    valid = np.array([80.0, 90.0, 85.0, 95.0])
    test = np.array([81.0, 86.0, 91.0, 94.0])
    flops = np.array([10.0, 20.0, 30.0, 40.0])
    params = np.array([1000, 2000, 3000, 4000])
    return DatasetTable("cifar10", valid, test, params, flops, np.ones(4, dtype=bool))


def test_scorer_on_the_valid_split() -> None:
    scorer = FrontScorer(small_table(), "flops", split="valid")
    want = exact_front(small_table(), split="valid", cost="flops")
    assert scorer.front.split == "valid"
    assert scorer.front.index.tolist() == want.index.tolist() == [0, 1, 3]
    assert scorer.test.tolist() == [80.0, 90.0, 85.0, 95.0]
    default = FrontScorer(small_table())
    assert default.front.split == "test" and default.front.index.tolist() == [0, 1, 2, 3]
    assert default.cost.tolist() == [10.0, 20.0, 30.0, 40.0]


def test_scorer_takes_whole_float_indices() -> None:
    scorer = FrontScorer(small_table())
    index = np.array([2.0, 0.0, 3.0])        # e.g. read back from a CSV as floats
    valid = np.array([85.0, 80.0, 95.0])
    cost, test = scorer.attained(index, valid)
    assert cost.tolist() == [10.0, 30.0, 40.0] and test.tolist() == [81.0, 91.0, 94.0]
    curve = scorer.hv_curve(index, valid)
    assert curve.tolist() == pytest.approx(scorer.hv_curve(index.astype(int), valid).tolist())
    hv, igd = scorer.score(index, valid, [3])
    assert hv.tolist() == pytest.approx(curve.tolist())
    assert igd.dtype == np.float64 and igd.tolist() == pytest.approx(
        [scorer.igd_plus(index.astype(int), valid)])
