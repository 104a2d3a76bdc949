"""The three comparison criteria per (dataset, algorithm): quality, stability, efficiency.

* quality: mean and std of the final test accuracy (the incumbent's at the budget);
* stability: IQR width (75th - 25th percentile) and std of the final test accuracy across runs;
* efficiency: the median over runs of (a) the first query at which the incumbent is one of the
  best-by-validation feasible architectures (``References.optimal_indices``) and (b) the first
  query after which the incumbent's test accuracy stays within ``settle_tol`` points of its
  final value (a settling time; NaN values, before the first feasible query, are never
  within). A run that never gets there counts as ``inf``, so the median is ``inf`` when at
  most half the runs get there: "not reached by the median run", never a silently optimistic
  number over the successful runs only;
* ``found_optimum``: the share of runs whose final incumbent is an optimal architecture.

Statistics of the final accuracy use the runs that have one (``n_final``); shares and medians
use all runs (``n_runs``).

Under a budget in simulated seconds (``clock="elapsed_s"``) the efficiency columns are
``seconds_to_optimum`` and ``seconds_to_settle``: the simulated clock when that query ended,
per run, exactly (not a grid point), then the median; final is still the last query, which is
the value at the time budget since a run never overruns it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from nas_harness.analysis.metrics.aggregate import VALUE_COLUMN, StepCurves, nan_quantiles
from nas_harness.analysis.metrics.references import References
from nas_harness.benchmarks.errors import DataIntegrityError

INDEX_COLUMN = "incumbent_index"
SETTLE_TOL = 0.1
CRITERIA_COLUMNS: tuple[str, ...] = (
    "dataset", "algorithm", "n_runs", "n_final", "final_mean", "final_std", "final_median",
    "final_iqr", "queries_to_optimum", "queries_to_settle", "found_optimum",
)
TIME_CRITERIA_COLUMNS: tuple[str, ...] = tuple(
    c.replace("queries_to", "seconds_to") for c in CRITERIA_COLUMNS)


def first_true(mask: np.ndarray) -> np.ndarray:
    """1-based column of the first True per row; ``inf`` where a row has none."""
    hit = mask.any(axis=1)
    return np.where(hit, mask.argmax(axis=1) + 1.0, np.inf)


def queries_to_optimum(index: np.ndarray, optimal: tuple[int, ...]) -> np.ndarray:
    """Per run, the first query whose incumbent is an optimal architecture (``inf`` if never)."""
    return first_true(np.isin(index, np.asarray(optimal, dtype=np.float64)))


def queries_to_settle(values: np.ndarray, tol: float = SETTLE_TOL) -> np.ndarray:
    """Per run, the first query after which the value stays within ``tol`` of its final one."""
    final = values[:, -1:]
    within = np.abs(values - final) <= tol + 1e-9  # NaN compares False
    # stays[i, k]: within at every query >= k (reverse cumulative AND)
    stays = np.logical_and.accumulate(within[:, ::-1], axis=1)[:, ::-1]
    return first_true(stays)


def _median(x: np.ndarray) -> float:
    return float(np.median(x)) if len(x) else float("nan")


def at_clock(hits: np.ndarray, clock: np.ndarray) -> np.ndarray:
    """Per run, the clock when its 1-based query ``hits`` ended (``inf`` stays ``inf``)."""
    out = np.full(len(hits), np.inf)
    done = np.isfinite(hits)
    out[done] = clock[np.flatnonzero(done), hits[done].astype(np.int64) - 1]
    return out


def criteria(curves: StepCurves, refs: Mapping[str, References],
             settle_tol: float = SETTLE_TOL, clock: str | None = None) -> pd.DataFrame:
    """One row per (dataset, algorithm) with :data:`CRITERIA_COLUMNS`.

    With ``clock`` (the name of a step-filled ``elapsed_s`` matrix of ``curves``), the
    efficiency columns are in simulated seconds: :data:`TIME_CRITERIA_COLUMNS`.
    """
    if INDEX_COLUMN not in curves.values or VALUE_COLUMN not in curves.values:
        raise DataIntegrityError(
            f"criteria need step curves of {VALUE_COLUMN!r} and {INDEX_COLUMN!r}; build them "
            f"with step_curves(traj, budget, columns=({VALUE_COLUMN!r}, {INDEX_COLUMN!r}))"
        )
    rows = []
    for (algorithm, dataset), sl in curves.groups():
        if dataset not in refs:
            raise DataIntegrityError(f"no reference lines for dataset {dataset!r}")
        ref = refs[dataset]
        acc = curves[VALUE_COLUMN][sl]
        idx = curves[INDEX_COLUMN][sl]
        final = acc[:, -1]
        have = final[~np.isnan(final)]
        q25, q50, q75 = nan_quantiles(final[:, None])[:, 0]
        optimal = np.asarray(ref.optimal_indices, dtype=np.float64)
        to_opt = queries_to_optimum(idx, ref.optimal_indices)
        to_settle = queries_to_settle(acc, settle_tol)
        if clock is not None:
            to_opt, to_settle = at_clock(to_opt, curves[clock][sl]), \
                at_clock(to_settle, curves[clock][sl])
        rows.append({
            "dataset": dataset, "algorithm": algorithm,
            "n_runs": len(final), "n_final": len(have),
            "final_mean": float(have.mean()) if len(have) else np.nan,
            "final_std": float(have.std(ddof=1)) if len(have) > 1 else np.nan,
            "final_median": float(q50), "final_iqr": float(q75 - q25),
            "queries_to_optimum": _median(to_opt),
            "queries_to_settle": _median(to_settle),
            "found_optimum": float(np.isin(idx[:, -1], optimal).mean()) if len(idx) else 0.0,
        })
    out = pd.DataFrame(rows, columns=list(CRITERIA_COLUMNS))
    if clock is not None:
        out.columns = list(TIME_CRITERIA_COLUMNS)
    return out.sort_values(["dataset", "algorithm"], kind="stable").reset_index(drop=True)
