"""Step-function curves of runs on the query grid 1..budget and the tidy summary table.

Rule: the value of a run at query ``k`` is the value its trajectory recorded at the last
recorded query ``<= k`` -- no interpolation, no look-ahead. A run that stopped before the
budget holds its last value up to the budget. Before a run's first feasible query its
incumbent (and so its value) is NaN.

NaN policy of the summary: the statistics at ``k`` are taken over the runs that have a value
at ``k``; ``n`` says how many that is and ``n_runs`` how many runs the group has, so a curve
whose early points rest on a few runs is visible as ``n < n_runs``. Runs with no trajectory
row at all (an algorithm that proposed nothing) are not in the trajectory and so not counted.

Everything is vectorised: the trajectory is scattered into a runs x budget matrix, forward
filled with ``np.maximum.accumulate`` over the recorded positions, and the percentiles are read
from one column-wise sort (NaN sorts last), so thousands of runs aggregate in milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nas_harness.benchmarks.errors import DataIntegrityError, ProtocolError

VALUE_COLUMN = "incumbent_test_acc"
KEY_COLUMNS: tuple[str, ...] = ("algorithm", "dataset", "run_id", "run")
SUMMARY_COLUMNS: tuple[str, ...] = (
    "algorithm", "dataset", "query", "n_runs", "n", "mean", "std", "sem",
    "q25", "median", "q75", "min", "max",
)
QUANTILES: tuple[float, ...] = (0.25, 0.5, 0.75)


@dataclass(frozen=True)
class StepCurves:
    """Runs x queries matrices of trajectory columns, step-function filled.

    Attributes:
        budget: number of grid points; column ``j`` is query ``j + 1``.
        runs: one row per run (``algorithm``, ``dataset``, ``run_id``, ``run``), sorted by
            algorithm, dataset and run; row ``i`` is row ``i`` of every matrix.
        values: column name -> float64 array of shape ``(len(runs), budget)``.
    """

    budget: int
    runs: pd.DataFrame
    values: Mapping[str, np.ndarray]

    def __getitem__(self, column: str) -> np.ndarray:
        """The matrix of one column."""
        return self.values[column]

    def groups(self) -> Iterator[tuple[tuple[str, str], slice]]:
        """``((algorithm, dataset), row slice)`` for every group, in sorted order."""
        if self.runs.empty:
            return
        alg = self.runs["algorithm"].to_numpy()
        ds = self.runs["dataset"].to_numpy()
        change = np.flatnonzero((alg[1:] != alg[:-1]) | (ds[1:] != ds[:-1])) + 1
        starts = np.concatenate(([0], change))
        stops = np.concatenate((change, [len(alg)]))
        for start, stop in zip(starts, stops, strict=True):
            yield (str(alg[start]), str(ds[start])), slice(int(start), int(stop))

    def final(self, column: str = VALUE_COLUMN) -> np.ndarray:
        """Each run's value at the budget (its last query)."""
        return self.values[column][:, -1]


def _check_columns(traj: pd.DataFrame, needed: Sequence[str]) -> None:
    missing = [c for c in needed if c not in traj.columns]
    if missing:
        raise DataIntegrityError(
            f"trajectory table lacks column(s) {', '.join(missing)}; expected the columns of "
            "nas_harness.benchmarks.records.TRAJECTORY_COLUMNS "
            "(load runs with nas_harness.sweep.load_runs)"
        )


def step_curves(traj: pd.DataFrame, budget: int | None = None,
                columns: Sequence[str] = (VALUE_COLUMN,),
                runs: pd.DataFrame | None = None) -> StepCurves:
    """Scatter a trajectory table into step-function matrices on the grid 1..budget.

    Args:
        traj: one row per charged query with the trajectory columns.
        budget: grid length; defaults to the largest query number in ``traj``. Queries after
            the budget are ignored (they cannot influence the grid).
        columns: numeric columns to build matrices of (e.g. ``incumbent_index``).
        runs: optional list of every run (``algorithm``, ``dataset``, ``run_id``, ``run``),
            e.g. from the sidecars; a run listed here without a trajectory row (it made no
            query) gets an all-NaN row, so it still counts in ``n_runs``.

    Returns:
        The curves; see :class:`StepCurves`.
    """
    _check_columns(traj, [*KEY_COLUMNS, "query", *columns])
    query = traj["query"].to_numpy(dtype=np.int64)
    if len(query) and query.min() < 1:
        raise DataIntegrityError("trajectory query numbers are 1-based; found a query < 1")
    if budget is None:
        budget = int(query.max()) if len(query) else 0
    if budget < 1:
        raise ProtocolError(f"the query grid needs a budget >= 1, got {budget}")
    keep = query <= budget
    frame = traj.loc[keep, [*KEY_COLUMNS, "query", *columns]]
    listed = frame[list(KEY_COLUMNS)]
    if runs is not None:
        _check_columns(runs, KEY_COLUMNS)
        listed = pd.concat([listed, runs[list(KEY_COLUMNS)]], ignore_index=True)
    order = ["algorithm", "dataset", "run", "run_id"]
    run_keys = (listed.drop_duplicates().sort_values(order, kind="stable")
                .reset_index(drop=True))
    if run_keys["run_id"].duplicated().any():
        raise DataIntegrityError("a run_id appears under two algorithms/datasets/run numbers")
    n_runs = len(run_keys)
    run_code = pd.Index(run_keys["run_id"]).get_indexer(frame["run_id"])
    col = frame["query"].to_numpy(dtype=np.int64) - 1
    seen = np.zeros((n_runs, budget), dtype=bool)
    seen[run_code, col] = True
    if int(seen.sum()) != len(frame):
        raise DataIntegrityError("a run has two trajectory rows with the same query number")
    # position of the last recorded query <= k, or -1 before the run's first row
    last = np.maximum.accumulate(np.where(seen, np.arange(budget), -1), axis=1)
    rows = np.arange(n_runs)[:, None]
    values: dict[str, np.ndarray] = {}
    for name in columns:
        raw = np.full((n_runs, budget), np.nan)
        raw[run_code, col] = frame[name].to_numpy(dtype=np.float64)
        values[name] = np.where(last >= 0, raw[rows, np.maximum(last, 0)], np.nan)
    return StepCurves(budget=budget, runs=run_keys, values=values)


def nan_quantiles(matrix: np.ndarray, quantiles: Sequence[float] = QUANTILES) -> np.ndarray:
    """Column-wise quantiles ignoring NaN (numpy's ``linear`` method), fully vectorised.

    Returns an array of shape ``(len(quantiles), n_columns)``; NaN where a column has no value.
    Each quantile is a fraction in [0, 1] (a NaN, infinite or outside fraction would index
    outside the sorted values), refused otherwise.
    """
    bad = [q for q in quantiles if not 0 <= q <= 1]  # NaN compares False: refused too
    if bad:
        raise ValueError(f"quantiles are fractions between 0 and 1 (0.5 is the median), got "
                         f"{bad[0]!r}")
    ordered = np.sort(matrix, axis=0)  # NaN last
    n = np.sum(~np.isnan(matrix), axis=0)
    cols = np.arange(matrix.shape[1])
    out = np.full((len(quantiles), matrix.shape[1]), np.nan)
    if matrix.shape[0] == 0:  # no runs: nothing to read (indexing row 0 would fail)
        return out
    has = n > 0
    for i, q in enumerate(quantiles):
        pos = q * np.maximum(n - 1, 0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        frac = pos - lo
        a = ordered[lo, cols]
        b = ordered[hi, cols]
        # a + frac * (b - a), written so equal neighbours give exactly a
        value = np.where(frac > 0, a + frac * (b - a), a)
        out[i] = np.where(has, value, np.nan)
    return out


def column_stats(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Per-column n, mean, std (ddof=1), sem, quartiles, min and max over non-NaN entries."""
    valid = ~np.isnan(matrix)
    n = valid.sum(axis=0)
    filled = np.where(valid, matrix, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=0) / n
        dev = np.where(valid, matrix - mean, 0.0)
        var = (dev * dev).sum(axis=0) / (n - 1)
        std = np.where(n > 1, np.sqrt(var), np.nan)
        sem = std / np.sqrt(n)
    mean = np.where(n > 0, mean, np.nan)
    q25, median, q75 = nan_quantiles(matrix, QUANTILES)
    lo = np.where(valid, matrix, np.inf).min(axis=0) if len(matrix) else np.full(n.shape, np.inf)
    hi = np.where(valid, matrix, -np.inf).max(axis=0) if len(matrix) else -lo
    return {
        "n": n.astype(np.int64), "mean": mean, "std": std, "sem": sem,
        "q25": q25, "median": median, "q75": q75,
        "min": np.where(n > 0, lo, np.nan), "max": np.where(n > 0, hi, np.nan),
    }


def summarize_curves(curves: StepCurves, column: str = VALUE_COLUMN) -> pd.DataFrame:
    """The tidy summary: one row per (algorithm, dataset, query) with :data:`SUMMARY_COLUMNS`."""
    queries = np.arange(1, curves.budget + 1, dtype=np.int64)
    return _summarize_groups(curves.groups(), curves[column], "query", queries,
                             SUMMARY_COLUMNS)


def _summarize_groups(groups: Iterator[tuple[tuple[str, str], slice]], matrix: np.ndarray,
                      axis: str, grid: np.ndarray, columns: Sequence[str]) -> pd.DataFrame:
    """Per group, :func:`column_stats` of its rows at every grid point (queries or seconds)."""
    parts = []
    for (algorithm, dataset), rows in groups:
        stats = column_stats(matrix[rows])
        part = pd.DataFrame({axis: grid, "n_runs": rows.stop - rows.start, **stats})
        part.insert(0, "dataset", dataset)
        part.insert(0, "algorithm", algorithm)
        parts.append(part)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    out = pd.concat(parts, ignore_index=True)
    out["n_runs"] = out["n_runs"].astype(np.int64)
    return out[list(columns)]


def summarize(traj: pd.DataFrame, budget: int | None = None,
              column: str = VALUE_COLUMN) -> pd.DataFrame:
    """Step-function aggregation of a trajectory table (see the module docstring)."""
    return summarize_curves(step_curves(traj, budget, (column,)), column)


def at_queries(summary: pd.DataFrame, queries: Sequence[int]) -> pd.DataFrame:
    """Rows of a summary at the given query numbers (those beyond its budget are dropped)."""
    return summary[summary["query"].isin([int(q) for q in queries])].reset_index(drop=True)


def final_runs(curves: StepCurves) -> pd.DataFrame:
    """One row per run with its value at the budget for every matrix column.

    Columns: the run keys plus ``final_<column>`` for each column of ``curves`` (e.g.
    ``final_incumbent_test_acc``, ``final_incumbent_index``).
    """
    out = curves.runs.copy()
    for name, matrix in curves.values.items():
        out[f"final_{name}"] = matrix[:, -1] if matrix.shape[1] else np.nan
    return out


# -- the time axis (runs under a budget in simulated seconds) ----------------------------------
TIME_COLUMN = "elapsed_s"
TIME_SUMMARY_COLUMNS: tuple[str, ...] = tuple(
    TIME_COLUMN if c == "query" else c for c in SUMMARY_COLUMNS)


@dataclass(frozen=True)
class TimeCurves:
    """Runs x time-grid matrices of trajectory columns, step-function filled.

    Attributes:
        times: the grid in simulated seconds, ascending; column ``j`` is time ``times[j]``.
        runs: one row per run, as in :class:`StepCurves`.
        values: column name -> float64 array of shape ``(len(runs), len(times))``.
    """

    times: np.ndarray
    runs: pd.DataFrame
    values: Mapping[str, np.ndarray]

    def __getitem__(self, column: str) -> np.ndarray:
        """The matrix of one column."""
        return self.values[column]

    def groups(self) -> Iterator[tuple[tuple[str, str], slice]]:
        """``((algorithm, dataset), row slice)`` for every group, in sorted order."""
        return StepCurves(len(self.times), self.runs, self.values).groups()


def time_curves(traj: pd.DataFrame, times: Sequence[float] | np.ndarray,
                columns: Sequence[str] = (VALUE_COLUMN,),
                runs: pd.DataFrame | None = None) -> TimeCurves:
    """Scatter a trajectory onto a grid of simulated seconds (the x-axis of a time budget).

    The same step rule as :func:`step_curves`, with the clock in place of the query count:
    the value of a run at time ``t`` is the value its trajectory recorded at the last query
    whose ``elapsed_s <= t`` -- no interpolation, no look-ahead (NATS-Bench's own plots
    interpolate between the two nearest queries; this harness does not). Before a run's
    first query ends, and before its first feasible query, the value is NaN. A run that
    stopped early holds its last value.

    Args:
        traj: trajectory rows with ``elapsed_s`` (runs made under ``--budget-seconds``).
        times: grid points in seconds, ascending.
        columns: numeric columns to build matrices of.
        runs: optional list of every run (see :func:`step_curves`).
    """
    _check_columns(traj, [*KEY_COLUMNS, "query", TIME_COLUMN, *columns])
    grid = np.asarray(times, dtype=np.float64)
    if grid.ndim != 1 or not len(grid) or np.any(np.diff(grid) < 0) or np.isnan(grid).any():
        raise ProtocolError("the time grid must be a non-empty ascending list of seconds")
    elapsed = traj[TIME_COLUMN].to_numpy(dtype=np.float64)
    if np.isnan(elapsed).any():
        raise DataIntegrityError(
            "some trajectory rows have no simulated clock (elapsed_s is NaN): time-axis "
            "curves need runs made under a time budget (`nas-harness run --budget-seconds`)")
    listed = traj[list(KEY_COLUMNS)]
    if runs is not None:
        _check_columns(runs, KEY_COLUMNS)
        listed = pd.concat([listed, runs[list(KEY_COLUMNS)]], ignore_index=True)
    run_keys = (listed.drop_duplicates()
                .sort_values(["algorithm", "dataset", "run", "run_id"], kind="stable")
                .reset_index(drop=True))
    n_runs, width = len(run_keys), len(grid)
    run_code = pd.Index(run_keys["run_id"]).get_indexer(traj["run_id"])
    query = traj["query"].to_numpy(dtype=np.int64)
    # the first grid point at which each row is in the past, i.e. elapsed <= t
    first = np.searchsorted(grid, elapsed, side="left")
    visible = first < width
    # per (run, grid point): the largest query number visible by then (0: none)
    last = np.zeros((n_runs, width), dtype=np.int64)
    np.maximum.at(last, (run_code[visible], first[visible]), query[visible])
    last = np.maximum.accumulate(last, axis=1)
    # row of the trajectory for each (run, query): a dense lookup by run and query number
    budget = int(query.max()) if len(query) else 0
    row_of = np.full((n_runs, budget + 1), -1, dtype=np.int64)
    row_of[run_code, query] = np.arange(len(traj))
    picked = row_of[np.arange(n_runs)[:, None], last]
    values: dict[str, np.ndarray] = {}
    for name in columns:
        col = traj[name].to_numpy(dtype=np.float64)
        values[name] = np.where(picked >= 0, col[np.maximum(picked, 0)], np.nan)
    return TimeCurves(times=grid, runs=run_keys, values=values)


def summarize_time(curves: TimeCurves, column: str = VALUE_COLUMN) -> pd.DataFrame:
    """The tidy summary on the time grid: :data:`TIME_SUMMARY_COLUMNS`, one row per time."""
    return _summarize_groups(curves.groups(), curves[column], TIME_COLUMN, curves.times,
                             TIME_SUMMARY_COLUMNS)
