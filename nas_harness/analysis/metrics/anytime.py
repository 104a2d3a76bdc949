"""Anytime performance by targets, as COCO and IOHprofiler judge it: ECDF, AOCC, ERT.

Targets are regret levels below the reference a perfect search ends with: the test accuracy
of the best-by-validation feasible architecture (``References.best_by_valid_test_acc``).
The grid has :data:`N_TARGETS` = 51 regret levels, evenly spaced from 0 to a dataset-specific
span: the distance from that reference down to the median test accuracy of the feasible
architectures (what one uniformly random feasible query beats half of the time). So the
easiest target is "as good as a typical architecture" and the hardest "as good as a perfect
search", on every dataset. (Test accuracy is used here for reporting only, as everywhere in
the report; no algorithm sees it.)

A run *reaches* a target at the first query at which its incumbent's test accuracy is at
least the target (its *hitting time*; COCO's runtime to target). Then, per algorithm:

* the ECDF: the fraction of (run, target) pairs reached by query ``k``, for ``k = 1..budget``;
* AOCC: the area under that ECDF over a log query axis, normalised to [0, 1]:
  ``sum_k ECDF(k) * (log(k + 1) - log(k)) / log(budget + 1)`` (1: every target at the first
  query; 0: none within the budget);
* per target, the success rate (runs that reach it) and ERT, COCO's expected running time:
  the queries spent by all runs until they reached the target or stopped, divided by the
  number of successful runs (``inf`` when none succeeds).

The efficiency columns of the criteria table are special cases of hitting times:
"queries to optimum" is the hitting time of the target "the incumbent is a best-by-validation
architecture" (reaching it implies reaching regret 0 here, so it is never earlier than the
regret-0 hitting time), and "queries to within 0.1 of final" is a hitting time with a per-run
target (final - 0.1) under the rule "stays reached" instead of "first reached".
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from nas_harness.analysis.metrics.aggregate import VALUE_COLUMN, StepCurves
from nas_harness.analysis.metrics.references import References, feasible_mask
from nas_harness.benchmarks.protocol import Protocol
from nas_harness.benchmarks.table import DatasetTable

N_TARGETS = 51
TOL = 1e-9
ANYTIME_COLUMNS: tuple[str, ...] = (
    "dataset", "algorithm", "target_regret", "target_acc", "n_runs", "successes",
    "success_rate", "ert", "median_hitting_time",
)
AOCC_COLUMNS: tuple[str, ...] = ("dataset", "algorithm", "n_runs", "n_targets", "aocc",
                                 "final_fraction")


def target_span(table: DatasetTable, protocol: Protocol, ref: References) -> float:
    """Regret span of the grid: the reference minus the median feasible test accuracy."""
    feasible = feasible_mask(table, protocol)
    median = float(np.median(np.asarray(table.test_acc, dtype=float)[feasible]))
    return max(ref.best_by_valid_test_acc - median, 0.0)


def target_grid(ref: References, span: float, n: int = N_TARGETS) -> pd.DataFrame:
    """The targets of one dataset: ``target_regret`` (0..span) and ``target_acc``."""
    regret = np.linspace(0.0, span, n)
    return pd.DataFrame({"target_regret": regret,
                         "target_acc": ref.best_by_valid_test_acc - regret})


def hitting_times(values: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """First 1-based query at which each run's value reaches each target; ``inf`` if never.

    Args:
        values: runs x budget (NaN before a run's first feasible query: never reached).
        targets: 1-d array of target values.

    Returns:
        Array ``(runs, targets)``. Computed from the running maximum, which crosses a target
        exactly when the value first does, with one ``searchsorted`` per run (vectorised over
        targets).
    """
    runs, budget = values.shape
    best = np.fmax.accumulate(np.where(np.isnan(values), -np.inf, values), axis=1)
    out = np.full((runs, len(targets)), np.inf)
    goal = np.asarray(targets, dtype=float) - TOL
    for i in range(runs):
        pos = np.searchsorted(best[i], goal, side="left")  # best[i] is non-decreasing
        out[i] = np.where(pos < budget, pos + 1.0, np.inf)
    return out


def ecdf(times: np.ndarray, budget: int) -> np.ndarray:
    """Fraction of (run, target) pairs reached by query ``k`` for ``k = 1..budget``."""
    flat = times[np.isfinite(times)].astype(np.int64)
    counts = np.bincount(flat, minlength=budget + 1)[1:budget + 1]
    return np.cumsum(counts) / max(times.size, 1)


def aocc(curve: np.ndarray) -> float:
    """Area under an ECDF on queries 1..budget over a log axis, normalised to [0, 1]."""
    k = np.arange(1, len(curve) + 1, dtype=float)
    widths = np.log(k + 1) - np.log(k)
    return float(np.sum(curve * widths) / np.log(len(curve) + 1)) if len(curve) else 0.0


def ert(times: np.ndarray, spent: np.ndarray) -> float:
    """COCO's expected running time of one target: sum of queries spent / successes."""
    reached = np.isfinite(times)
    if not reached.any():
        return float("inf")
    used = np.where(reached, times, spent)
    return float(used.sum() / reached.sum())


def anytime(curves: StepCurves, refs: Mapping[str, References], spans: Mapping[str, float],
            spent: Mapping[str, float] | None = None, n_targets: int = N_TARGETS,
            column: str = VALUE_COLUMN) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per (dataset, algorithm): per-target success and ERT, AOCC, and the ECDF curve.

    Args:
        curves: the step curves of the sweep.
        refs: reference lines per dataset.
        spans: regret span per dataset (:func:`target_span`).
        spent: per run_id, the queries the run made (default: the budget for every run).
        n_targets: grid size.
        column: the value the targets apply to.

    Returns:
        ``(per_target, aocc, ecdf)``: :data:`ANYTIME_COLUMNS` rows, :data:`AOCC_COLUMNS`
        rows, and a long table (dataset, algorithm, query, fraction) of the ECDF.
    """
    per_target, areas, curves_out = [], [], []
    queries = np.arange(1, curves.budget + 1, dtype=np.int64)
    matrix = curves[column]
    for (algorithm, dataset), rows in curves.groups():
        grid = target_grid(refs[dataset], spans[dataset], n_targets)
        times = hitting_times(matrix[rows], grid["target_acc"].to_numpy())
        run_ids = curves.runs["run_id"].iloc[rows].to_numpy()
        used = (np.array([float(spent.get(str(r), curves.budget)) for r in run_ids])
                if spent is not None else np.full(len(run_ids), float(curves.budget)))
        reached = np.isfinite(times)
        with np.errstate(invalid="ignore"):
            median = np.median(times, axis=0) if len(times) else np.full(n_targets, np.nan)
        per_target.append(grid.assign(
            dataset=dataset, algorithm=algorithm, n_runs=len(times),
            successes=reached.sum(axis=0), success_rate=reached.mean(axis=0),
            ert=[ert(times[:, j], used) for j in range(times.shape[1])],
            median_hitting_time=median))
        curve = ecdf(times, curves.budget)
        areas.append({"dataset": dataset, "algorithm": algorithm, "n_runs": len(times),
                      "n_targets": n_targets, "aocc": aocc(curve),
                      "final_fraction": float(curve[-1]) if len(curve) else 0.0})
        curves_out.append(pd.DataFrame({"dataset": dataset, "algorithm": algorithm,
                                        "query": queries, "fraction": curve}))
    table = (pd.concat(per_target, ignore_index=True)[list(ANYTIME_COLUMNS)] if per_target
             else pd.DataFrame(columns=list(ANYTIME_COLUMNS)))
    return (table, pd.DataFrame(areas, columns=list(AOCC_COLUMNS)),
            pd.concat(curves_out, ignore_index=True) if curves_out else pd.DataFrame())


def spent_queries(complete: pd.DataFrame) -> dict[str, float]:
    """Per run_id, the number of queries it made (from the run inventory's ``queries``)."""
    return {str(r): float(q) for r, q in zip(complete["run_id"], complete["queries"],
                                              strict=True)}


def spans_for(tables: Mapping[str, DatasetTable], protocols: Mapping[str, Protocol],
              refs: Mapping[str, References]) -> dict[str, float]:
    """:func:`target_span` of every dataset."""
    return {d: target_span(tables[d], protocols[d], refs[d]) for d in refs}
