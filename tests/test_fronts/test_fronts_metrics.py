"""Front metrics: moocore against brute force, HV properties, the incremental curve, references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nas_harness.analysis.metrics.fronts import (
    REFERENCE_POINTS,
    FrontScorer,
    Reference,
    attainment,
    check_reference,
    hv_curve,
    hypervolume,
    igd_plus,
    objectives,
)
from nas_harness.benchmarks.errors import ProtocolError
from nas_harness.benchmarks.fronts import exact_front, pareto_order

REF = Reference("cifar10", "flops", largest_cost=10.0, accuracy=50.0)  # SYNTHETIC scale


def brute_area(cost: np.ndarray, acc: np.ndarray, ref: Reference) -> float:
    """Area dominated by the points, by checking every cell of the coordinate grid."""
    pts = objectives(cost, acc, ref)
    pts = pts[np.all(pts < ref.point, axis=1)]
    if not len(pts):
        return 0.0
    xs = np.unique(np.r_[pts[:, 0], ref.point[0]])
    ys = np.unique(np.r_[pts[:, 1], ref.point[1]])
    area = 0.0
    for i in range(len(xs) - 1):
        for j in range(len(ys) - 1):
            if np.any((pts[:, 0] <= xs[i]) & (pts[:, 1] <= ys[j])):
                area += (xs[i + 1] - xs[i]) * (ys[j + 1] - ys[j])
    return area


def brute_igd_plus(pts: np.ndarray, front: np.ndarray) -> float:
    return float(np.mean([min(np.sqrt(np.sum(np.maximum(p - z, 0.0) ** 2)) for p in pts)
                          for z in front]))


points = st.lists(st.tuples(st.integers(0, 12), st.integers(40, 100)), min_size=1, max_size=25)


def arrays(pts: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([p[0] for p in pts], dtype=float),
            np.array([p[1] for p in pts], dtype=float))


@given(points)
def test_moocore_hypervolume_equals_the_brute_force_area(pts: list[tuple[int, int]]) -> None:
    cost, acc = arrays(pts)
    assert hypervolume(cost, acc, REF) == pytest.approx(brute_area(cost, acc, REF), abs=1e-12)


@given(points, st.tuples(st.integers(0, 12), st.integers(0, 60)))
def test_a_dominated_point_changes_nothing(pts: list[tuple[int, int]],
                                           offset: tuple[int, int]) -> None:
    cost, acc = arrays(pts)
    base = hypervolume(cost, acc, REF)
    worse_cost, worse_acc = cost[0] + offset[0], acc[0] - offset[1]
    assert hypervolume(np.r_[cost, worse_cost], np.r_[acc, worse_acc], REF) == base


@given(points, st.tuples(st.integers(0, 12), st.integers(40, 100)))
def test_a_new_point_never_lowers_the_hypervolume(pts: list[tuple[int, int]],
                                                  new: tuple[int, int]) -> None:
    cost, acc = arrays(pts)
    base = hypervolume(cost, acc, REF)
    grown = hypervolume(np.r_[cost, new[0]], np.r_[acc, new[1]], REF)
    assert grown >= base
    keep = pareto_order(np.r_[cost, new[0]], np.r_[acc, new[1]])
    if len(cost) in keep and new[1] > REF.accuracy:   # non-dominated and inside the box
        assert grown > base


@given(st.lists(st.tuples(st.integers(0, 12), st.integers(40, 100), st.integers(40, 100)),
                min_size=1, max_size=30))
def test_incremental_curve_equals_the_brute_force_at_every_query(
        queries: list[tuple[int, int, int]]) -> None:
    cost = np.array([q[0] for q in queries], dtype=float)
    valid = np.array([q[1] for q in queries], dtype=float)
    test = np.array([q[2] for q in queries], dtype=float)
    curve = hv_curve(cost, valid, test, REF)
    for n in range(1, len(queries) + 1):
        keep = pareto_order(cost[:n], valid[:n])     # chosen by validation
        expected = brute_area(cost[:n][keep], test[:n][keep], REF)   # scored by test
        assert curve[n - 1] == pytest.approx(expected, abs=1e-12)


def test_the_curve_is_chosen_by_validation_not_test() -> None:
    # the second query is better on validation and replaces the first, though worse on test
    curve = hv_curve(np.array([5.0, 5.0]), np.array([60.0, 70.0]), np.array([90.0, 55.0]), REF)
    assert curve[1] < curve[0]
    assert curve[1] == pytest.approx(brute_area(np.array([5.0]), np.array([55.0]), REF))


@given(points, points)
def test_igd_plus_is_moocore_and_the_definition(a: list[tuple[int, int]],
                                                f: list[tuple[int, int]]) -> None:
    cost, acc = arrays(a)
    fc, fa = arrays(f)
    value = igd_plus(cost, acc, fc, fa, REF)
    expected = brute_igd_plus(objectives(cost, acc, REF), objectives(fc, fa, REF))
    assert value == pytest.approx(expected, abs=1e-12)


def test_a_reference_not_dominated_by_the_front_is_one_clear_line() -> None:
    with pytest.raises(ProtocolError, match="not dominated by the front point") as info:
        check_reference(np.array([1.0, 11.5]), np.array([60.0, 70.0]), REF)
    assert "\n" not in str(info.value)
    with pytest.raises(ProtocolError, match="accuracy 45%"):
        check_reference(np.array([1.0]), np.array([45.0]), REF)


def test_attainment_of_identical_sets_is_their_front() -> None:
    cost, acc = np.array([1.0, 2.0, 3.0]), np.array([60.0, 70.0, 65.0])
    surface = attainment([(cost, acc)] * 4, REF, 50.0)
    assert surface.tolist() == [[1.0, 60.0], [2.0, 70.0]]
    # half the runs attain (1, 80): the 50% surface reaches it, the 75% one does not
    other = (np.array([1.0]), np.array([80.0]))
    assert [1.0, 80.0] in attainment([(cost, acc)] * 2 + [other] * 2, REF, 50.0).tolist()
    assert [1.0, 80.0] not in attainment([(cost, acc)] * 2 + [other] * 2, REF, 75.0).tolist()
    with pytest.raises(ProtocolError):
        attainment([(cost, acc)], REF, 0.0)


def test_published_references_hold_for_the_table(table) -> None:
    for (dataset, cost), ref in REFERENCE_POINTS.items():
        column = getattr(table[dataset], cost)
        assert ref.largest_cost == pytest.approx(float(column[-1]), rel=1e-9)  # 64:64:64:64:64
        assert ref.largest_cost == pytest.approx(float(np.max(column)), rel=1e-9)
        for split in ("valid", "test"):
            front = exact_front(table[dataset], split=split, cost=cost)
            check_reference(front.cost, front.accuracy, ref)
        low = min(np.nanmin(table[dataset].valid_acc), np.nanmin(table[dataset].test_acc))
        assert ref.accuracy < low < ref.accuracy + 5


def test_a_run_that_finds_the_exact_front_scores_one(table) -> None:
    scorer = FrontScorer(table["cifar100"], "params")
    front = scorer.front
    told = table["cifar100"].test_acc[front.index]   # told test, so validation picks them all
    curve = scorer.hv_curve(front.index, told)
    assert curve[-1] == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.diff(curve) >= 0)
    assert scorer.igd_plus(front.index, told) == 0.0
    # the cheapest architecture alone scores less, and IGD+ is positive
    assert scorer.hv_curve(front.index[:1], told[:1])[0] < 1.0
    assert scorer.igd_plus(front.index[:1], told[:1]) > 0.0


def test_checkpoint_igd_plus_is_the_prefix_front(table) -> None:
    scorer = FrontScorer(table["cifar10"], "flops")
    rng = np.random.default_rng(3)
    index = rng.integers(0, 32768, size=200)
    valid = table["cifar10"].valid_acc[index]
    curve, igd = scorer.score(index, valid, [1, 50, 200])
    assert np.array_equal(curve, scorer.hv_curve(index, valid))
    for value, k in zip(igd, [1, 50, 200], strict=True):
        assert value == scorer.igd_plus(index[:k], valid[:k])
    assert igd[0] >= igd[1] >= 0.0   # more queries: the attained front can only get closer
    # the curve equals moocore's hypervolume of each prefix's attained front
    for k in (1, 7, 50, 200):
        cost, test = scorer.attained(index[:k], valid[:k])
        assert curve[k - 1] == pytest.approx(hypervolume(cost, test, scorer.ref)
                                             / scorer.front_hv, abs=1e-12)


def test_front_curves_of_a_sweep(table) -> None:
    import pandas as pd

    from nas_harness.analysis.metrics.front_runs import front_curves

    rng = np.random.default_rng(0)
    rows = []
    for alg in ("a", "b"):
        for run in range(3):
            n = 10 if (alg, run) != ("b", 2) else 4          # one run stops early
            index = rng.integers(0, 32768, size=n)
            rows.append(pd.DataFrame({
                "run_id": f"cifar10/{alg}/{run:03d}", "algorithm": alg, "dataset": "cifar10",
                "run": run, "query": np.arange(1, n + 1), "arch_index": index,
                "valid_acc": table["cifar10"].valid_acc[index]}))
    traj = pd.concat(rows, ignore_index=True).sample(frac=1.0, random_state=1)  # any order
    curves = front_curves(traj, table, 10, checkpoints=(5, 10))
    assert curves.runs["run_id"].tolist() == sorted(traj["run_id"].unique())
    scorer = FrontScorer(table["cifar10"], "flops")
    for row, run_id in enumerate(curves.runs["run_id"]):
        one = traj[traj.run_id == run_id].sort_values("query")
        curve = scorer.hv_curve(one.arch_index.to_numpy(), one.valid_acc.to_numpy())
        assert np.array_equal(curves.hv[row, :len(curve)], curve)
        assert np.all(curves.hv[row, len(curve):] == curve[-1])   # held after an early stop
        k = min(10, len(one))
        assert curves.igd_plus[row, 1] == scorer.igd_plus(one.arch_index.to_numpy()[:k],
                                                          one.valid_acc.to_numpy()[:k])
    summary = curves.summary()
    first = summary[(summary.algorithm == "a") & (summary.queries == 10)].iloc[0]
    values = curves.hv[curves.runs.algorithm.to_numpy() == "a", 9]
    assert first["mean"] == pytest.approx(values.mean())
    assert first["q25"] == pytest.approx(np.quantile(values, 0.25))
    per_run = curves.per_run()
    assert len(per_run) == 12 and set(per_run["queries"]) == {5, 10}
