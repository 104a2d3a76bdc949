"""Anytime targets (hitting times, ECDF, AOCC, ERT) on hand-made curves with known answers.

Independent routes: values worked out by hand (COCO's ERT: queries spent by all runs over
the successes), a naive first-crossing loop for the hitting times, and properties (the ECDF
never falls, AOCC of "everything at query 1" is 1, run order does not matter).
"""

import types
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nas_harness.analysis.metrics import anytime as at
from nas_harness.analysis.metrics.aggregate import VALUE_COLUMN, StepCurves
from nas_harness.analysis.metrics.references import References
from nas_harness.benchmarks.protocol import Protocol


def _curves(per_alg, dataset="cifar10", extra=None):
    """StepCurves from {algorithm: runs x budget array} (``extra``: more columns)."""
    rows, mats = [], []
    for name in sorted(per_alg):
        m = np.asarray(per_alg[name], dtype=float)
        for r in range(len(m)):
            rows.append({"algorithm": name, "dataset": dataset, "run_id": f"{name}-{r}",
                         "run": r})
        mats.append(m)
    values = {VALUE_COLUMN: np.concatenate(mats)}
    for col, per in (extra or {}).items():
        values[col] = np.concatenate([np.asarray(per[n], dtype=float) for n in sorted(per)])
    return StepCurves(values[VALUE_COLUMN].shape[1], pd.DataFrame(rows), values)


REF = References("cifar10", 1.0, 10, 0, 90.0, 90.0, 0, 91.0, (0,))


# -- the target grid ----------------------------------------------------------------------------

def _table(test_acc, flops, available=None):
    n = len(test_acc)
    return types.SimpleNamespace(
        test_acc=np.asarray(test_acc, dtype=float), flops=np.asarray(flops, dtype=float),
        available=np.ones(n, bool) if available is None else np.asarray(available))


def _ref(best_by_valid_test_acc):
    return References("cifar10", 50.0, 4, 0, 89.0, best_by_valid_test_acc, 0, 99.0, (0,))


def test_target_span_is_the_reference_minus_the_median_feasible_accuracy():
    # limit: 0.5 * 100 = 50 MFLOPs; feasible: the first four (the sixth has no data);
    # their median test accuracy is (80 + 70) / 2 = 75
    table = _table([90, 80, 70, 60, 99, 95], [10, 20, 30, 40, 100, 50],
                   [True, True, True, True, True, False])
    protocol = Protocol("cifar10", max_flops_fraction=0.5)
    assert at.target_span(table, protocol, _ref(88.0)) == 13.0
    assert at.target_span(table, protocol, _ref(75.5)) == 0.5
    assert at.target_span(table, protocol, _ref(70.0)) == 0.0  # never negative
    # with the sixth available it is feasible (50 <= 50): median of 60..95 is 80
    table.available = np.ones(6, bool)
    assert at.target_span(table, protocol, _ref(88.0)) == 8.0
    # no constraint: all six, median (80 + 90) / 2 = 85
    assert at.target_span(table, Protocol("cifar10", max_flops_fraction=None),
                          _ref(88.0)) == 3.0


def test_spans_for_every_dataset():
    tables = {"a": _table([1, 2, 3], [1, 1, 1]), "b": _table([10, 20, 30], [1, 1, 1])}
    protocols = {d: Protocol("cifar10", max_flops_fraction=None) for d in tables}
    spans = at.spans_for(tables, protocols, {"a": _ref(5.0), "b": _ref(25.0)})
    assert spans == {"a": 3.0, "b": 5.0}


def test_target_grid():
    grid = at.target_grid(REF, 10.0, n=3)
    assert grid["target_regret"].tolist() == [0.0, 5.0, 10.0]
    assert grid["target_acc"].tolist() == [90.0, 85.0, 80.0]
    assert len(at.target_grid(REF, 10.0)) == at.N_TARGETS == 51


# -- hitting times, ECDF, AOCC, ERT -------------------------------------------------------------

def test_hitting_times_ecdf_aocc_and_ert_by_hand():
    values = np.array([[np.nan, 85.0, 88.0, 90.0],
                       [80.0, 80.0, 80.0, 80.0]])
    times = at.hitting_times(values, np.array([90.0, 85.0, 80.0]))
    np.testing.assert_array_equal(times, [[4, 2, 2], [np.inf, np.inf, 1]])
    curve = at.ecdf(times, 4)
    np.testing.assert_allclose(curve, [1 / 6, 3 / 6, 3 / 6, 4 / 6])
    assert at.aocc(np.ones(4)) == pytest.approx(1.0) and at.aocc(np.zeros(4)) == 0.0
    # COCO ERT: (4 + 4 spent by the failing run) / 1 success; target 80: (2 + 1) / 2
    assert at.ert(times[:, 0], np.array([4.0, 4.0])) == 8.0
    assert at.ert(times[:, 2], np.array([4.0, 4.0])) == 1.5
    assert at.ert(np.array([np.inf]), np.array([4.0])) == np.inf


def test_hitting_times_tolerate_rounding_and_integer_targets():
    values = np.array([[89.999999999999, 90.0]])
    np.testing.assert_array_equal(at.hitting_times(values, np.array([90, 91])), [[1, np.inf]])
    np.testing.assert_array_equal(at.hitting_times(values, ["90", "89.5"]), [[1, 1]])
    # a value that drops does not un-reach a target (the running best counts)
    np.testing.assert_array_equal(at.hitting_times(np.array([[5.0, 1.0, 6.0]]), [5.0, 6.0]),
                                  [[1, 3]])


def _naive_hitting_times(values, targets):
    out = np.full((len(values), len(targets)), np.inf)
    for i, row in enumerate(values):
        for j, target in enumerate(targets):
            for k, v in enumerate(row):
                if not np.isnan(v) and v >= target - 1e-9:
                    out[i, j] = k + 1
                    break
    return out


@given(st.lists(st.lists(st.sampled_from([np.nan, 1.0, 2.0, 3.0, 4.0]), min_size=5,
                         max_size=5), min_size=1, max_size=4),
       st.lists(st.sampled_from([0.5, 1.0, 2.0, 2.5, 3.0, 4.0, 5.0]), min_size=1, max_size=4))
def test_hitting_times_match_a_naive_first_crossing(rows, targets):
    values = np.array(rows)
    times = at.hitting_times(values, np.array(targets))
    np.testing.assert_array_equal(times, _naive_hitting_times(values, targets))
    curve = at.ecdf(times, 5)
    assert np.all(np.diff(curve) >= 0) and 0.0 <= curve[0] and curve[-1] <= 1.0
    assert curve[-1] == pytest.approx(np.isfinite(times).mean())


def test_ecdf_of_one_pair_and_of_none():
    np.testing.assert_array_equal(at.ecdf(np.array([[2.0]]), 3), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(at.ecdf(np.array([[np.inf]]), 2), [0.0, 0.0])
    np.testing.assert_array_equal(at.ecdf(np.empty((0, 3)), 2), [0.0, 0.0])


def test_ecdf_cut_at_a_smaller_budget_counts_only_what_was_reached_by_then():
    times = np.array([[1.0, 5.0], [3.0, np.inf]])
    np.testing.assert_array_equal(at.ecdf(times, 3), [0.25, 0.25, 0.5])
    np.testing.assert_array_equal(at.ecdf(times, 5), [0.25, 0.25, 0.5, 0.5, 0.75])


def test_aocc_by_hand():
    # ECDF 0 then 1 from query 2 of 3: (log 3 - log 2 + log 4 - log 3) / log 4 = 1/2
    assert at.aocc(np.array([0.0, 1.0, 1.0])) == pytest.approx(0.5)
    assert at.aocc(np.array([0.5])) == pytest.approx(0.5)
    assert at.aocc(np.array([1.0, 0.0, 0.0])) == pytest.approx(np.log(2) / np.log(4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert at.aocc(np.array([])) == 0.0


def test_ert_uses_what_each_run_spent():
    times = np.array([2.0, np.inf, 1.0])
    assert at.ert(times, np.array([9.0, 3.0, 9.0])) == (2 + 3 + 1) / 2
    assert at.ert(np.array([np.inf, np.inf]), np.array([1.0, 1.0])) == float("inf")


# -- the tables ---------------------------------------------------------------------------------

def test_anytime_tables_on_curves():
    curves = _curves({"a": [[85.0, 90.0], [85.0, 85.0]], "b": [[80.0, 80.0], [80.0, 80.0]]})
    per_target, areas, ecdf = at.anytime(curves, {"cifar10": REF}, {"cifar10": 10.0},
                                         n_targets=3)
    a = per_target[per_target["algorithm"] == "a"].set_index("target_regret")
    assert a.loc[0.0, "success_rate"] == 0.5 and a.loc[0.0, "ert"] == 4.0  # (2 + 2) / 1
    assert a.loc[5.0, "success_rate"] == 1.0 and a.loc[5.0, "ert"] == 1.0
    assert list(per_target.columns[:3]) == ["dataset", "algorithm", "target_regret"]
    aocc = areas.set_index("algorithm")["aocc"]
    assert aocc["a"] > aocc["b"] > 0
    assert len(ecdf) == 4 and ecdf["fraction"].max() <= 1.0


def _worked():
    """Two algorithms, budget 3, targets 90 / 85 / 80 (REF 90, span 10, three targets).

    a: run 0 = [80, 85, 90] (hits 80 at 1, 85 at 2, 90 at 3); run 1 = [nan, 80, 80]
       (80 at 2; never 85 or 90). b: one run [70, 70, 86] (85 and 80 at 3).
    """
    return _curves({"a": [[80.0, 85.0, 90.0], [np.nan, 80.0, 80.0]],
                    "b": [[70.0, 70.0, 86.0]]})


def test_anytime_per_target_table_by_hand():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        per_target, _, _ = at.anytime(_worked(), {"cifar10": REF}, {"cifar10": 10.0},
                                      n_targets=3)
    expected = pd.DataFrame({
        "dataset": ["cifar10"] * 6, "algorithm": ["a"] * 3 + ["b"] * 3,
        "target_regret": [0.0, 5.0, 10.0] * 2, "target_acc": [90.0, 85.0, 80.0] * 2,
        "n_runs": [2, 2, 2, 1, 1, 1], "successes": [1, 1, 2, 0, 1, 1],
        "success_rate": [0.5, 0.5, 1.0, 0.0, 1.0, 1.0],
        # ERT: (3 + 3) / 1, (2 + 3) / 1, (1 + 2) / 2; b: none, 3 / 1, 3 / 1
        "ert": [6.0, 5.0, 1.5, np.inf, 3.0, 3.0],
        # medians of (3, inf), (2, inf), (1, 2); b's one run
        "median_hitting_time": [np.inf, np.inf, 1.5, np.inf, 3.0, 3.0]})
    pd.testing.assert_frame_equal(per_target, expected, check_dtype=False)
    assert per_target.index.tolist() == list(range(6))


def test_anytime_aocc_and_ecdf_tables_by_hand():
    _, areas, ecdf = at.anytime(_worked(), {"cifar10": REF}, {"cifar10": 10.0}, n_targets=3)
    # a: 6 (run, target) pairs; reached by query 1: 1, by 2: 3, by 3: 4 -> 1/6, 1/2, 2/3
    # b: 3 pairs; 0, 0, 2/3
    w = np.log([2, 3, 4]) - np.log([1, 2, 3])
    expected_areas = pd.DataFrame({
        "dataset": ["cifar10", "cifar10"], "algorithm": ["a", "b"], "n_runs": [2, 1],
        "n_targets": [3, 3],
        "aocc": [float(np.dot([1 / 6, 1 / 2, 2 / 3], w) / np.log(4)),
                 float(2 / 3 * w[2] / np.log(4))],
        "final_fraction": [2 / 3, 2 / 3]})
    pd.testing.assert_frame_equal(areas, expected_areas)
    expected_ecdf = pd.DataFrame({
        "dataset": ["cifar10"] * 6, "algorithm": ["a"] * 3 + ["b"] * 3,
        "query": np.array([1, 2, 3, 1, 2, 3], dtype=np.int64),
        "fraction": [1 / 6, 1 / 2, 2 / 3, 0.0, 0.0, 2 / 3]})
    pd.testing.assert_frame_equal(ecdf, expected_ecdf)


def test_anytime_final_fraction_is_the_last_query():
    curves = _curves({"a": [[80.0, 80.0, 80.0, 90.0]]})
    _, areas, _ = at.anytime(curves, {"cifar10": REF}, {"cifar10": 10.0}, n_targets=2)
    assert areas["final_fraction"].tolist() == [1.0]  # 80 at query 1, 90 only at 4


def test_anytime_default_grid_and_the_column_asked_for():
    curves = _curves({"a": [[0.0, 0.0]]}, extra={"other": {"a": [[85.0, 90.0]]}})
    per_target, areas, _ = at.anytime(curves, {"cifar10": REF}, {"cifar10": 10.0},
                                      column="other")
    assert len(per_target) == 51 and areas["n_targets"].tolist() == [51]
    assert per_target["successes"].sum() == 51
    assert per_target.set_index("target_regret").loc[5.0, "ert"] == 1.0
    assert per_target.set_index("target_regret").loc[0.0, "ert"] == 2.0


def test_anytime_spent_queries_of_runs_that_stopped_early():
    curves = _curves({"a": [[90.0, 90.0, 90.0], [80.0, 80.0, 80.0], [70.0, 70.0, 70.0]]})
    spent = at.spent_queries(pd.DataFrame({"run_id": ["a-0", "a-1"], "queries": [1, 2]}))
    assert spent == {"a-0": 1.0, "a-1": 2.0}
    per_target, _, _ = at.anytime(curves, {"cifar10": REF}, {"cifar10": 10.0}, spent=spent,
                                  n_targets=2)
    # target 90: a-0 at 1; a-1 spent 2; a-2 is not listed: the budget, 3
    assert per_target["ert"].tolist() == [(1 + 2 + 3) / 1, (1 + 1 + 3) / 2]
    default, _, _ = at.anytime(curves, {"cifar10": REF}, {"cifar10": 10.0}, n_targets=2)
    assert default["ert"].tolist() == [(1 + 3 + 3) / 1, (1 + 1 + 3) / 2]


def test_spent_queries_keys_are_text_and_values_floats():
    spent = at.spent_queries(pd.DataFrame({"run_id": [7, "x"], "queries": [np.int64(3), 4]}))
    assert spent == {"7": 3.0, "x": 4.0}
    assert all(type(v) is float for v in spent.values())
    assert at.spent_queries(pd.DataFrame({"run_id": [], "queries": []})) == {}


def test_anytime_of_no_runs_has_the_columns():
    runs = pd.DataFrame(columns=["algorithm", "dataset", "run_id", "run"])
    curves = StepCurves(3, runs, {VALUE_COLUMN: np.empty((0, 3))})
    per_target, areas, ecdf = at.anytime(curves, {}, {})
    assert per_target.empty and list(per_target.columns) == list(at.ANYTIME_COLUMNS)
    assert areas.empty and list(areas.columns) == list(at.AOCC_COLUMNS)
    assert ecdf.empty


def test_anytime_with_no_queries_at_all():
    runs = pd.DataFrame({"algorithm": ["a"], "dataset": ["cifar10"], "run_id": ["a-0"],
                         "run": [0]})
    curves = StepCurves(0, runs, {VALUE_COLUMN: np.empty((1, 0))})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        per_target, areas, ecdf = at.anytime(curves, {"cifar10": REF}, {"cifar10": 10.0},
                                             n_targets=2)
    assert per_target["successes"].tolist() == [0, 0]
    assert per_target["ert"].tolist() == [np.inf, np.inf]
    assert areas[["aocc", "final_fraction"]].to_numpy().tolist() == [[0.0, 0.0]]
    assert ecdf.empty


def test_anytime_does_not_depend_on_run_order():
    rng = np.random.default_rng(2)
    values = np.maximum.accumulate(rng.uniform(78, 91, size=(6, 8)), axis=1)
    curves = _curves({"a": values})
    order = rng.permutation(6)
    shuffled = StepCurves(8, curves.runs.iloc[order].reset_index(drop=True),
                          {VALUE_COLUMN: values[order]})
    one = at.anytime(curves, {"cifar10": REF}, {"cifar10": 10.0}, n_targets=5)
    two = at.anytime(shuffled, {"cifar10": REF}, {"cifar10": 10.0}, n_targets=5)
    for x, y in zip(one, two, strict=True):
        pd.testing.assert_frame_equal(x, y)


def test_a_run_better_at_every_query_has_the_larger_aocc():
    base = np.array([[80.0, 82.0, 84.0, 86.0, 88.0]])
    curves = _curves({"lo": base, "hi": base + 2.0})
    _, areas, _ = at.anytime(curves, {"cifar10": REF}, {"cifar10": 10.0}, n_targets=11)
    aocc = areas.set_index("algorithm")["aocc"]
    assert aocc["hi"] > aocc["lo"] > 0.0


def test_target_span_of_a_float32_table_takes_the_median_in_float64():
    from nas_harness.benchmarks.table import DatasetTable

    acc = np.array([0.1, 0.2], dtype=np.float32)
    table = DatasetTable("cifar10", acc, acc, np.ones(2, np.int64), np.ones(2), np.ones(2, bool))
    # the stored float32 values are 0.100000001490116... and 0.200000002980232...
    expected = 1.0 - (0.10000000149011612 + 0.20000000298023224) / 2
    span = at.target_span(table, Protocol("cifar10", max_flops_fraction=None), _ref(1.0))
    assert span == expected and span != 1.0 - float(np.float32(0.15))
