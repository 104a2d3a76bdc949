"""Step-function aggregation on hand-made runs: no look-ahead, hold after stop, NaN, bands."""

import numpy as np
import pandas as pd
import pytest

from analysis.metrics.aggregate import (
    at_queries,
    final_runs,
    nan_quantiles,
    step_curves,
    summarize,
    summarize_curves,
)
from analysis.testing import hand_trajectory
from benchmarks.errors import DataIntegrityError, ProtocolError

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
