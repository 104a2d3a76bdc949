"""Reference lines from the table and the quality / stability / efficiency criteria."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nas_harness.analysis.metrics.aggregate import step_curves
from nas_harness.analysis.metrics.criteria import (
    CRITERIA_COLUMNS,
    TIME_CRITERIA_COLUMNS,
    _median,
    at_clock,
    criteria,
    queries_to_optimum,
    queries_to_settle,
)
from nas_harness.analysis.metrics.references import references
from nas_harness.analysis.testing import hand_trajectory
from nas_harness.benchmarks.errors import DataIntegrityError
from nas_harness.benchmarks.protocol import Protocol
from nas_harness.benchmarks.table import DatasetTable

NAN = np.nan


def _table(valid, test, flops):
    n = len(valid)
    return DatasetTable("cifar10", np.asarray(valid, float), np.asarray(test, float),
                        np.zeros(n, dtype=np.int64), np.asarray(flops, float),
                        np.ones(n, dtype=bool))


def test_references_respect_the_constraint_and_rank_by_validation():
    # arch 0 is best by validation and test but infeasible (flops 10 > 0.5 * 10)
    table = _table(valid=[99, 80, 85, 85, 70], test=[99, 95, 90, 91, 96],
                   flops=[10, 1, 2, 3, 4])
    ref = references(table, Protocol("cifar10", budget=3))
    assert ref.max_flops == 5.0 and ref.num_feasible == 4
    assert ref.optimal_indices == (2, 3)  # tied validation: both count as the optimum
    assert ref.best_by_valid_index == 2 and ref.best_by_valid_test_acc == 90.0
    assert ref.best_test_index == 4 and ref.best_test_acc == 96.0
    unconstrained = references(table, Protocol("cifar10", budget=3, max_flops_fraction=None))
    assert unconstrained.best_by_valid_index == 0 and unconstrained.best_test_acc == 99.0


def test_queries_to_optimum_and_to_settle():
    index = np.array([[-1, 3, 3, 7, 7], [1, 1, 1, 1, 1]], dtype=float)
    np.testing.assert_array_equal(queries_to_optimum(index, (7, 9)), [4, np.inf])
    values = np.array([[NAN, 90.0, 93.0, 92.95, 93.0],
                       [91.0, 93.0, 91.0, 93.0, 93.05],
                       [NAN, NAN, NAN, NAN, NAN]])
    # first query after which the value stays within 0.1 of the final one
    np.testing.assert_array_equal(queries_to_settle(values), [3, 4, np.inf])


def _curves(values_by_run, index_by_run, algorithm="a"):
    frames = [hand_trajectory(f"cifar10/{algorithm}/{r:03d}", v, index=i, run=r,
                              algorithm=algorithm)
              for r, (v, i) in enumerate(zip(values_by_run, index_by_run, strict=True))]
    return step_curves(pd.concat(frames, ignore_index=True), None,
                       ("incumbent_test_acc", "incumbent_index"))


def test_criteria_on_hand_made_runs():
    table = _table(valid=[50, 60, 70, 80], test=[91, 92, 93, 94], flops=[1, 1, 1, 1])
    ref = references(table, Protocol("cifar10", budget=4, max_flops_fraction=None))
    assert ref.optimal_indices == (3,)
    curves = _curves(
        [[91, 92, 94, 94], [92, 92, 92, 94], [91, 93, 93, 93], [NAN, 91, 91, 91]],
        [[0, 1, 3, 3], [1, 1, 1, 3], [0, 2, 2, 2], [-1, 0, 0, 0]],
    )
    row = criteria(curves, {"cifar10": ref}).iloc[0]
    final = np.array([94, 94, 93, 91.0])
    assert row["n_runs"] == 4 and row["n_final"] == 4
    assert row["final_mean"] == pytest.approx(final.mean())
    assert row["final_std"] == pytest.approx(final.std(ddof=1))
    assert row["final_iqr"] == pytest.approx(np.percentile(final, 75) - np.percentile(final, 25))
    assert row["found_optimum"] == 0.5
    # reached at 3, 4, never, never: the median run never gets there
    assert row["queries_to_optimum"] == np.inf
    # settled at 3, 4, 2, 2 -> median 2.5
    assert row["queries_to_settle"] == 2.5


def test_criteria_median_is_finite_when_most_runs_reach_the_optimum():
    table = _table(valid=[50, 80], test=[91, 94], flops=[1, 1])
    ref = references(table, Protocol("cifar10", budget=3, max_flops_fraction=None))
    curves = _curves([[91, 94, 94], [94, 94, 94], [91, 91, 91]],
                     [[0, 1, 1], [1, 1, 1], [0, 0, 0]])
    row = criteria(curves, {"cifar10": ref}).iloc[0]
    assert row["queries_to_optimum"] == 2.0  # 2, 1, inf
    assert row["found_optimum"] == pytest.approx(2 / 3)


def test_criteria_need_the_index_curves_and_references():
    curves = step_curves(hand_trajectory("cifar10/a/000", [1, 2]))
    with pytest.raises(DataIntegrityError, match="incumbent_index"):
        criteria(curves, {})
    full = step_curves(hand_trajectory("cifar10/a/000", [1, 2]), None,
                       ("incumbent_test_acc", "incumbent_index"))
    with pytest.raises(DataIntegrityError, match="reference"):
        criteria(full, {})


# --- independent expectations: hand-computed values, edge cases, properties -------------

def _ref4():
    table = _table(valid=[50, 60, 70, 80], test=[91, 92, 93, 94], flops=[1, 1, 1, 1])
    return references(table, Protocol("cifar10", budget=4, max_flops_fraction=None))


def test_criteria_rows_name_their_group_and_keep_the_layout():
    ref = {"cifar10": _ref4(), "cifar100": _ref4()}
    frames = [hand_trajectory("c100/z/000", [91, 94], index=[0, 3], algorithm="z",
                              dataset="cifar100"),
              hand_trajectory("c10/b/000", [92, 92], index=[1, 1], algorithm="b"),
              hand_trajectory("c10/b/001", [90, 96], index=[0, 2], algorithm="b", run=1)]
    curves = step_curves(pd.concat(frames, ignore_index=True), None,
                         ("incumbent_test_acc", "incumbent_index"))
    out = criteria(curves, ref)
    assert list(out.columns) == list(CRITERIA_COLUMNS)
    assert out.index.tolist() == [0, 1]
    assert out[["dataset", "algorithm"]].values.tolist() == [["cifar10", "b"],
                                                             ["cifar100", "z"]]
    b = out.iloc[0]
    assert (b["n_runs"], b["n_final"]) == (2, 2)
    # two finals, 92 and 96: mean 94, std sqrt(8), median 94, IQR 75th - 25th = 2
    assert b["final_mean"] == 94.0 and b["final_std"] == pytest.approx(8 ** 0.5)
    assert b["final_median"] == 94.0 and b["final_iqr"] == 2.0
    assert b["found_optimum"] == 0.0 and b["queries_to_optimum"] == np.inf
    z = out.iloc[1]
    assert z["found_optimum"] == 1.0 and z["queries_to_optimum"] == 2.0
    assert np.isnan(z["final_std"]) and z["final_median"] == 94.0


def test_criteria_of_no_runs_is_an_empty_table_with_the_columns():
    curves = step_curves(hand_trajectory("cifar10/a/000", [1.0]).iloc[:0], 2,
                         ("incumbent_test_acc", "incumbent_index"))
    out = criteria(curves, {"cifar10": _ref4()})
    assert list(out.columns) == list(CRITERIA_COLUMNS) and len(out) == 0


def test_runs_without_a_final_value_give_nan_statistics_silently():
    import warnings

    one = _curves([[NAN, NAN, 93]], [[-1, -1, 2]])
    none = _curves([[NAN, NAN], [NAN, NAN]], [[-1, -1], [-1, -1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "mean of empty slice" or ddof warnings
        row_one = criteria(one, {"cifar10": _ref4()}).iloc[0]
        row_none = criteria(none, {"cifar10": _ref4()}).iloc[0]
        assert np.isnan(_median(np.array([])))
    assert row_one["n_final"] == 1 and row_one["final_mean"] == 93.0
    assert np.isnan(row_one["final_std"]) and row_one["final_iqr"] == 0.0
    assert (row_none["n_runs"], row_none["n_final"]) == (2, 0)
    for name in ("final_mean", "final_std", "final_median", "final_iqr"):
        assert np.isnan(row_none[name]), name
    assert row_none["queries_to_settle"] == np.inf and row_none["found_optimum"] == 0.0


def test_the_settling_tolerance_is_used():
    # final 93.0; the value at queries 1-2 is 92.5, exactly 0.5 away; query 3 is 1.0 away
    values = np.array([[92.5, 92.5, 92.0, 93.0]])
    assert queries_to_settle(values).tolist() == [4.0]  # default 0.1
    assert queries_to_settle(values, 0.5).tolist() == [4.0]  # 92.0 is 1.0 away
    assert queries_to_settle(values, 1.0).tolist() == [1.0]  # exactly on the tolerance
    assert queries_to_settle(values[:, [0, 1, 3]], 0.5).tolist() == [1.0]
    curves = _curves([[92.5, 92.5, 92.0, 93.0]], [[0, 0, 1, 2]])
    ref = {"cifar10": _ref4()}
    assert criteria(curves, ref)["queries_to_settle"].tolist() == [4.0]
    assert criteria(curves, ref, settle_tol=1.0)["queries_to_settle"].tolist() == [1.0]


def _naive_settle(row: list[float], tol: float) -> float:
    final = row[-1]
    for k in range(len(row)):
        if all(not np.isnan(v) and abs(v - final) <= tol + 1e-9 for v in row[k:]):
            return float(k + 1)
    return np.inf


_acc = st.one_of(st.just(NAN), st.sampled_from([90.0, 90.5, 91.0, 92.0, 92.25, 93.0]))


@given(rows=st.lists(st.lists(_acc, min_size=5, max_size=5), min_size=1, max_size=5),
       tol=st.sampled_from([0.0, 0.25, 0.5, 1.0, 3.0]),
       index=st.lists(st.integers(-1, 4), min_size=5, max_size=5))
def test_settling_and_optimum_agree_with_naive_routes_and_are_monotone(rows, tol, index):
    values = np.array(rows)
    got = queries_to_settle(values, tol)
    assert got.tolist() == [_naive_settle(r, tol) for r in rows]
    # a larger tolerance never settles later
    assert (queries_to_settle(values, tol + 0.5) <= got).all()
    # a run with a final value has settled by the last query at the latest
    assert (got[~np.isnan(values[:, -1])] <= values.shape[1]).all()
    idx = np.array([index], dtype=float)
    hits = [k + 1 for k, i in enumerate(index) if i in (2, 4)]
    assert queries_to_optimum(idx, (2, 4)).tolist() == [float(hits[0]) if hits else np.inf]


def test_a_difference_exactly_at_the_tolerance_counts_as_within():
    tol = 0.1
    edge = tol + 1e-9  # the documented float slack is part of the tolerance
    values = np.array([[edge, 0.0], [edge * 1.001, 0.0]])
    assert queries_to_settle(values, tol).tolist() == [1.0, 2.0]


# -- the efficiency columns in simulated seconds (runs under a time budget) --------------------

def test_at_clock_reads_the_clock_when_the_hit_query_ended():
    clock = np.array([[10.0, 25.0, 40.0, 70.0],
                      [5.0, 6.0, 7.0, 8.0],
                      [1.0, 2.0, 3.0, 4.0]])
    # 1-based query numbers; inf (never) stays inf
    np.testing.assert_array_equal(
        at_clock(np.array([3.0, np.inf, 1.0]), clock), [40.0, np.inf, 1.0])
    np.testing.assert_array_equal(at_clock(np.array([4.0, 4.0, 2.0]), clock), [70.0, 8.0, 2.0])
    assert at_clock(np.array([]), np.empty((0, 4))).shape == (0,)


def _timed_curves(values_by_run, index_by_run, elapsed_by_run):
    frames = []
    for r, (v, i, t) in enumerate(zip(values_by_run, index_by_run, elapsed_by_run,
                                      strict=True)):
        frame = hand_trajectory(f"cifar10/a/{r:03d}", v, index=i, run=r)
        frame["elapsed_s"] = np.asarray(t, dtype=float)
        frames.append(frame)
    return step_curves(pd.concat(frames, ignore_index=True), None,
                       ("incumbent_test_acc", "incumbent_index", "elapsed_s"))


def test_criteria_in_seconds_take_each_runs_clock_at_its_hit():
    table = _table(valid=[50, 60, 70, 80], test=[91, 92, 93, 94], flops=[1, 1, 1, 1])
    ref = references(table, Protocol("cifar10", budget=4, max_flops_fraction=None))
    curves = _timed_curves(
        [[91, 92, 94, 94], [92, 92, 92, 94], [91, 93, 93, 93]],
        [[0, 1, 3, 3], [1, 1, 1, 3], [0, 2, 2, 2]],
        [[100, 250, 300, 420], [10, 20, 30, 40], [7, 8, 900, 901]],
    )
    by_query = criteria(curves, {"cifar10": ref}).iloc[0]
    by_clock = criteria(curves, {"cifar10": ref}, clock="elapsed_s")
    assert list(by_clock.columns) == list(TIME_CRITERIA_COLUMNS)
    row = by_clock.iloc[0]
    # optimum (index 3) at queries 3, 4, never -> 300 s, 40 s, inf: median 300
    assert by_query["queries_to_optimum"] == 4.0 and row["seconds_to_optimum"] == 300.0
    # settled (within 0.1 of the final value) at queries 3, 4, 2 -> 300, 40 and 8 s
    assert by_query["queries_to_settle"] == 3.0 and row["seconds_to_settle"] == 40.0
    # the other columns do not depend on the axis
    for column in ("n_runs", "n_final", "final_mean", "final_median", "found_optimum"):
        assert row[column] == by_query[column]


def test_the_time_columns_only_rename_the_efficiency_columns():
    assert len(TIME_CRITERIA_COLUMNS) == len(CRITERIA_COLUMNS)
    renamed = {q: t for q, t in zip(CRITERIA_COLUMNS, TIME_CRITERIA_COLUMNS, strict=True)
               if q != t}
    assert renamed == {"queries_to_optimum": "seconds_to_optimum",
                       "queries_to_settle": "seconds_to_settle"}
