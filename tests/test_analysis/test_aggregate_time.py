"""The time-axis aggregation follows the step rule: no interpolation, no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nas_harness.analysis.metrics.aggregate import (
    TIME_SUMMARY_COLUMNS,
    summarize_time,
    time_curves,
)
from nas_harness.benchmarks.errors import DataIntegrityError, ProtocolError


def _traj(rows: list[tuple[str, int, int, float, float]]) -> pd.DataFrame:
    """(algorithm, run, query, elapsed_s, incumbent_test_acc) rows on cifar10."""
    frame = pd.DataFrame(rows, columns=["algorithm", "run", "query", "elapsed_s",
                                        "incumbent_test_acc"])
    frame["dataset"] = "cifar10"
    frame["run_id"] = [f"cifar10/{a}/{r:03d}" for a, r in zip(frame["algorithm"], frame["run"],
                                                             strict=True)]
    return frame


TRAJ = _traj([
    ("rs", 0, 1, 10.0, np.nan), ("rs", 0, 2, 25.0, 91.0), ("rs", 0, 3, 40.0, 93.0),
    ("rs", 1, 1, 5.0, 90.0), ("rs", 1, 2, 30.0, 92.0),  # stopped early: holds 92 afterwards
])
GRID = [0.0, 4.99, 5.0, 10.0, 24.999, 25.0, 39.0, 40.0, 1000.0]


def test_value_at_t_is_the_last_query_ending_by_t() -> None:
    curves = time_curves(TRAJ, GRID)
    nan = np.nan
    np.testing.assert_array_equal(curves["incumbent_test_acc"], [
        [nan, nan, nan, nan, nan, 91.0, 91.0, 93.0, 93.0],  # query 1 infeasible: NaN at t=10
        [nan, nan, 90.0, 90.0, 90.0, 90.0, 92.0, 92.0, 92.0],
    ])
    assert curves.runs["run"].tolist() == [0, 1]


def test_no_look_ahead_just_before_a_query_ends() -> None:
    curves = time_curves(TRAJ, [24.999999, 29.999999])
    assert np.isnan(curves["incumbent_test_acc"][0, 0])  # 91 arrives at t=25, not before
    assert curves["incumbent_test_acc"][1, 1] == 90.0   # 92 arrives at t=30


def test_summary_on_the_time_grid() -> None:
    summary = summarize_time(time_curves(TRAJ, GRID))
    assert list(summary.columns) == list(TIME_SUMMARY_COLUMNS)
    row = summary[summary["elapsed_s"] == 25.0].iloc[0]
    assert (row["n_runs"], row["n"], row["mean"]) == (2, 2, 90.5)
    early = summary[summary["elapsed_s"] == 5.0].iloc[0]
    assert (early["n"], early["mean"]) == (1, 90.0)


def test_runs_without_a_clock_or_a_bad_grid_are_refused() -> None:
    no_clock = TRAJ.assign(elapsed_s=np.nan)
    with pytest.raises(DataIntegrityError, match="--budget-seconds"):
        time_curves(no_clock, GRID)
    with pytest.raises(ProtocolError, match="ascending"):
        time_curves(TRAJ, [10.0, 5.0])
