"""Step-function aggregation on hand-made runs: no look-ahead, hold after stop, NaN, bands."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nas_harness.analysis.metrics.aggregate import (
    KEY_COLUMNS,
    SUMMARY_COLUMNS,
    VALUE_COLUMN,
    StepCurves,
    at_queries,
    column_stats,
    final_runs,
    nan_quantiles,
    step_curves,
    summarize,
    summarize_curves,
)
from nas_harness.analysis.testing import hand_trajectory
from nas_harness.benchmarks.errors import DataIntegrityError, ProtocolError

NAN = np.nan


def _runs(*frames):
    return pd.concat(frames, ignore_index=True)


def test_step_function_holds_values_and_never_looks_ahead():
    traj = _runs(
        hand_trajectory("c/a/000", [NAN, 90, 90, 91, 91], run=0),
        hand_trajectory("c/a/001", [85, 85, 92], run=1),  # stops early after 3 queries
    )
    m = step_curves(traj, budget=6)["incumbent_test_acc"]
    np.testing.assert_array_equal(m[0], [NAN, 90, 90, 91, 91, 91])
    np.testing.assert_array_equal(m[1], [85, 85, 92, 92, 92, 92])


def test_incumbent_changing_at_the_last_query_counts_only_there():
    traj = _runs(hand_trajectory("c/a/000", [80, 80, 80, 95], run=0),
                 hand_trajectory("c/a/001", [70, 70, 70, 70], run=1))
    s = summarize(traj, budget=4)
    assert s["mean"].tolist() == [75.0, 75.0, 75.0, 82.5]
    # truncating the grid before the last query must not see it
    assert summarize(traj, budget=3)["mean"].tolist() == [75.0, 75.0, 75.0]


def test_queries_after_the_budget_are_ignored():
    traj = hand_trajectory("c/a/000", [1, 2, 3, 4, 5])
    m = step_curves(traj, budget=3)["incumbent_test_acc"]
    np.testing.assert_array_equal(m[0], [1, 2, 3])


def test_nan_runs_are_left_out_of_the_statistics_and_counted_in_n():
    traj = _runs(hand_trajectory("c/a/000", [NAN, NAN, 10], run=0),
                 hand_trajectory("c/a/001", [NAN, 20, 20], run=1),
                 hand_trajectory("c/a/002", [30, 30, 30], run=2))
    s = summarize(traj)
    assert s["n_runs"].tolist() == [3, 3, 3]
    assert s["n"].tolist() == [1, 2, 3]
    assert s["mean"].tolist() == [30.0, 25.0, 20.0]
    assert np.isnan(s["std"].iloc[0]) and np.isnan(s["sem"].iloc[0])  # one run: no spread
    assert s["std"].iloc[1] == pytest.approx(np.std([20, 30], ddof=1))
    assert s["sem"].iloc[2] == pytest.approx(10.0 / np.sqrt(3))


def test_a_run_without_any_query_counts_as_a_run_without_value():
    traj = hand_trajectory("c/a/000", [50, 60])
    listed = pd.DataFrame({"algorithm": ["a", "a"], "dataset": ["cifar10"] * 2,
                           "run_id": ["c/a/000", "c/a/001"], "run": [0, 1]})
    curves = step_curves(traj, budget=2, runs=listed)
    assert curves.runs["run_id"].tolist() == ["c/a/000", "c/a/001"]
    assert np.isnan(curves["incumbent_test_acc"][1]).all()
    s = summarize_curves(curves)
    assert s["n_runs"].tolist() == [2, 2] and s["n"].tolist() == [1, 1]


def test_quartile_band_on_four_runs():
    traj = _runs(*[hand_trajectory(f"c/a/{r:03d}", [v], run=r)
                   for r, v in enumerate([4.0, 1.0, 3.0, 2.0])])
    row = summarize(traj).iloc[0]
    assert (row["q25"], row["median"], row["q75"]) == (1.75, 2.5, 3.25)
    assert (row["min"], row["max"], row["mean"]) == (1.0, 4.0, 2.5)


def test_nan_quantiles_match_numpy_on_random_data_with_gaps():
    rng = np.random.default_rng(1)
    m = rng.normal(size=(37, 50))
    m[rng.random(m.shape) < 0.3] = np.nan
    m[:, 7] = np.nan  # a column without values
    got = nan_quantiles(m, (0.1, 0.25, 0.5, 0.75, 0.9))
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        want = np.nanpercentile(m, [10, 25, 50, 75, 90], axis=0)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_groups_are_separated_and_input_order_does_not_matter():
    traj = _runs(
        hand_trajectory("c10/a/000", [1, 2], algorithm="a", dataset="cifar10", run=0),
        hand_trajectory("c10/a/001", [3, 4], algorithm="a", dataset="cifar10", run=1),
        hand_trajectory("c10/b/000", [10, 20], algorithm="b", dataset="cifar10", run=0),
        hand_trajectory("c100/a/000", [5, 5], algorithm="a", dataset="cifar100", run=0),
    )
    s = summarize(traj)
    shuffled = summarize(traj.sample(frac=1.0, random_state=3))
    pd.testing.assert_frame_equal(s, shuffled)
    means = s.set_index(["algorithm", "dataset", "query"])["mean"]
    assert means[("a", "cifar10", 2)] == 3.0
    assert means[("b", "cifar10", 2)] == 20.0
    assert means[("a", "cifar100", 1)] == 5.0
    assert len(at_queries(s, [2, 99])) == 3


def test_final_runs_reads_the_last_grid_point():
    traj = _runs(hand_trajectory("c/a/000", [1, 2, 3], index=[4, 5, 6], run=0),
                 hand_trajectory("c/a/001", [7], index=[9], run=1))
    fin = final_runs(step_curves(traj, 3, ("incumbent_test_acc", "incumbent_index")))
    assert fin["final_incumbent_test_acc"].tolist() == [3.0, 7.0]
    assert fin["final_incumbent_index"].tolist() == [6.0, 9.0]


def test_bad_trajectories_raise_clear_errors():
    traj = hand_trajectory("c/a/000", [1, 2])
    with pytest.raises(DataIntegrityError, match="same query"):
        step_curves(pd.concat([traj, traj]))
    with pytest.raises(DataIntegrityError, match="lacks column"):
        step_curves(traj.drop(columns="run_id"))
    with pytest.raises(DataIntegrityError, match="1-based"):
        step_curves(traj.assign(query=traj["query"] - 1))
    with pytest.raises(ProtocolError, match="budget"):
        step_curves(traj, budget=0)


# --- independent expectations: hand-computed values, a second route, properties ---------

def _group_traj():
    """Three groups of 2, 3 and 1 runs (sorted order: a/cifar10, a/cifar100, b/cifar10)."""
    return _runs(
        hand_trajectory("x/0", [1, 2], algorithm="a", dataset="cifar10", run=0),
        hand_trajectory("x/1", [3, 4], algorithm="a", dataset="cifar10", run=1),
        hand_trajectory("y/0", [5, 5], algorithm="a", dataset="cifar100", run=0),
        hand_trajectory("y/1", [6, 6], algorithm="a", dataset="cifar100", run=1),
        hand_trajectory("y/2", [7, 9], algorithm="a", dataset="cifar100", run=2),
        hand_trajectory("z/0", [8, 8], algorithm="b", dataset="cifar10", run=0),
    )


def test_n_runs_is_right_for_every_group_not_only_the_first():
    s = summarize(_group_traj())
    got = s.groupby(["algorithm", "dataset"])["n_runs"].unique().map(list).to_dict()
    assert got == {("a", "cifar10"): [2], ("a", "cifar100"): [3], ("b", "cifar10"): [1]}
    assert s["n_runs"].dtype == np.int64 and s["n"].dtype == np.int64


def test_groups_split_where_algorithm_or_dataset_changes():
    traj = _runs(*[hand_trajectory(f"{a}{d}/{r}", [r], algorithm=a, dataset=d, run=r)
                   for a in ("a", "b", "c") for d in ("cifar10", "cifar100") for r in (0, 1)])
    groups = list(step_curves(traj).groups())
    assert [key for key, _ in groups] == [(a, d) for a in ("a", "b", "c")
                                          for d in ("cifar10", "cifar100")]
    assert [(sl.start, sl.stop) for _, sl in groups] == [(i, i + 2) for i in range(0, 12, 2)]


def test_summary_layout_index_and_dtypes():
    s = summarize(_group_traj())
    assert list(s.columns) == list(SUMMARY_COLUMNS)
    assert s.index.tolist() == list(range(6))
    assert s["query"].tolist() == [1, 2] * 3
    picked = at_queries(s, [2])
    assert picked.index.tolist() == [0, 1, 2] and picked["mean"].tolist() == [3.0, 20 / 3, 8.0]
    assert list(picked.columns) == list(SUMMARY_COLUMNS)
    curves = step_curves(_group_traj())
    assert curves.runs.index.tolist() == list(range(6))
    assert curves.runs["run_id"].tolist() == ["x/0", "x/1", "y/0", "y/1", "y/2", "z/0"]
    assert list(curves.runs.columns) == list(KEY_COLUMNS)
    np.testing.assert_array_equal(curves.final(), [2, 4, 5, 6, 9, 8])
    longer = step_curves(hand_trajectory("c/a/000", [1, 2, 3, 4]))
    assert longer.final().tolist() == [4.0]


def test_summary_of_no_runs_is_empty_with_the_columns():
    empty = StepCurves(budget=3, runs=pd.DataFrame(columns=list(KEY_COLUMNS)),
                       values={VALUE_COLUMN: np.empty((0, 3))})
    s = summarize_curves(empty)
    assert list(s.columns) == list(SUMMARY_COLUMNS) and len(s) == 0
    assert all(dtype == np.float64 for dtype in s.dtypes)


def test_summarize_aggregates_the_column_it_is_given():
    traj = hand_trajectory("c/a/000", [NAN, 90, 95], index=[-1, 4, 7])
    s = summarize(traj, column="incumbent_index")
    assert s["mean"].tolist() == [-1.0, 4.0, 7.0]


def test_one_value_quartiles_min_max_are_that_value():
    """A column where exactly one run has a value: every statistic of position is it."""
    m = np.array([[NAN, 5.0, 1.0], [NAN, NAN, 3.0]])
    stats = column_stats(m)
    for name in ("q25", "median", "q75", "min", "max", "mean"):
        assert stats[name][1] == 5.0, name
    assert stats["n"].tolist() == [0, 1, 2] and stats["n"].dtype == np.int64
    np.testing.assert_array_equal(nan_quantiles(m, (0.0, 1.0))[:, 1], [5.0, 5.0])
    np.testing.assert_array_equal(nan_quantiles(m[:1], (1.0,)), [[NAN, 5.0, 1.0]])


def test_a_run_lacking_a_value_never_makes_the_extremes_infinite():
    m = np.array([[NAN, 2.0], [4.0, NAN], [6.0, 1.0]])
    stats = column_stats(m)
    assert stats["min"].tolist() == [4.0, 1.0] and stats["max"].tolist() == [6.0, 2.0]


def test_columns_without_values_are_nan_and_float_without_warnings():
    import warnings

    m = np.array([[NAN, 1.0], [NAN, NAN]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 0/0 and sqrt of NaN must stay silent
        stats = column_stats(m)
        no_rows = column_stats(np.empty((0, 2)))
    for out in (stats, no_rows):
        for name, value in out.items():
            if name != "n":
                assert value.dtype == np.float64, name
                assert np.isnan(value[0]), name
    assert np.isnan(stats["std"][1]) and np.isnan(stats["sem"][1])
    assert no_rows["n"].tolist() == [0, 0]
    assert all(np.isnan(v).all() for k, v in no_rows.items() if k != "n")


def test_step_curves_rejects_an_empty_trajectory_without_budget():
    traj = hand_trajectory("c/a/000", [1.0]).iloc[:0]
    with pytest.raises(ProtocolError, match="budget >= 1, got 0"):
        step_curves(traj)


def test_a_run_id_under_two_run_numbers_is_refused():
    traj = _runs(hand_trajectory("c/a/000", [1, 2], run=0),
                 hand_trajectory("c/a/000", [1, 2], run=1))
    with pytest.raises(DataIntegrityError, match="run_id appears under two"):
        step_curves(traj)


def test_query_numbers_stored_as_floats_are_read_as_integers():
    traj = hand_trajectory("c/a/000", [1, 2, 3])
    as_float = traj.assign(query=traj["query"].astype(np.float64))
    np.testing.assert_array_equal(step_curves(as_float)[VALUE_COLUMN],
                                  step_curves(traj)[VALUE_COLUMN])


def _naive_curves(runs: list[dict[int, float]], budget: int) -> np.ndarray:
    """The step rule written out run by run: the value at the last recorded query <= k."""
    out = np.full((len(runs), budget), np.nan)
    for r, rows in enumerate(runs):
        for k in range(1, budget + 1):
            earlier = [q for q in rows if q <= k]
            if earlier:
                out[r, k - 1] = rows[max(earlier)]
    return out


_value = st.one_of(st.just(float("nan")), st.floats(0, 100, allow_nan=False))
# a real trajectory records query 1 (every charged query is a row)
_run = st.builds(lambda first, rest: {1: first, **rest}, _value,
                 st.dictionaries(st.integers(2, 12), _value, max_size=7))


@given(runs=st.lists(_run, min_size=1, max_size=6), budget=st.integers(1, 14),
       order=st.randoms(use_true_random=False))
def test_step_curves_and_summary_agree_with_a_naive_route(runs, budget, order):
    frames = []
    for r, rows in enumerate(runs):
        queries = sorted(rows)
        frame = hand_trajectory(f"c/a/{r:03d}", [rows[q] for q in queries], run=r)
        frames.append(frame.assign(query=np.asarray(queries, dtype=np.int64)))
    traj = _runs(*frames)
    expected = _naive_curves(runs, budget)
    got = step_curves(traj, budget)[VALUE_COLUMN]
    np.testing.assert_array_equal(got, expected)
    # invariance to the order of the trajectory rows
    shuffled = traj.iloc[order.sample(range(len(traj)), len(traj))]
    np.testing.assert_array_equal(step_curves(shuffled, budget)[VALUE_COLUMN], expected)
    # the summary agrees with numpy's NaN-aware reductions, column by column
    s = summarize(shuffled, budget)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        n = (~np.isnan(expected)).sum(axis=0)
        want = {"mean": np.nanmean(expected, axis=0), "min": np.nanmin(expected, axis=0),
                "max": np.nanmax(expected, axis=0),
                "median": np.nanmedian(expected, axis=0),
                "q25": np.nanpercentile(expected, 25, axis=0),
                "q75": np.nanpercentile(expected, 75, axis=0),
                "std": np.where(n > 1, np.nanstd(expected, axis=0, ddof=1), np.nan)}
    assert s["n"].tolist() == n.tolist() and set(s["n_runs"]) == {len(runs)}
    for name, value in want.items():
        np.testing.assert_allclose(s[name].to_numpy(), value, rtol=1e-12, atol=1e-9,
                                   err_msg=name)
