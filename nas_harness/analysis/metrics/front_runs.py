"""Front metrics of a whole sweep: per-query HV curves, checkpoint IGD+, the hv.csv summary.

Every algorithm's attained front comes from its query log (the trajectory's ``arch_index``
and ``valid_acc`` columns), so built-ins and library adapters are scored alike. A run that
stopped before the budget holds its last value, as the accuracy curves do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nas_harness.analysis.metrics.aggregate import column_stats
from nas_harness.analysis.metrics.fronts import FrontScorer
from nas_harness.benchmarks.errors import DataIntegrityError
from nas_harness.benchmarks.table import BenchmarkTable

FRONT_COLUMNS: tuple[str, ...] = ("run_id", "algorithm", "dataset", "run", "query",
                                  "arch_index", "valid_acc")
HV_SUMMARY_COLUMNS: tuple[str, ...] = ("algorithm", "dataset", "queries", "n", "mean", "q25",
                                       "q75")


@dataclass(frozen=True)
class FrontCurves:
    """Normalised-HV curves (runs x budget) and IGD+ at checkpoints, one row per run.

    Attributes:
        cost: the cost axis (``flops`` or ``params``).
        budget: number of queries of the grid; column ``j`` is query ``j + 1``.
        runs: ``algorithm, dataset, run_id, run`` per row, sorted.
        hv: normalised hypervolume after each query, ``(len(runs), budget)``.
        checkpoints: the queries at which IGD+ was computed.
        igd_plus: ``(len(runs), len(checkpoints))``.
    """

    cost: str
    budget: int
    runs: pd.DataFrame
    hv: np.ndarray
    checkpoints: tuple[int, ...]
    igd_plus: np.ndarray

    def per_run(self) -> pd.DataFrame:
        """One row per run and checkpoint: normalised HV and IGD+ there."""
        frames = []
        for j, q in enumerate(self.checkpoints):
            frame = self.runs.copy()
            frame["queries"] = q
            frame["hv"] = self.hv[:, q - 1]
            frame["igd_plus"] = self.igd_plus[:, j]
            frames.append(frame)
        if not frames:
            return pd.DataFrame(columns=[*self.runs.columns, "queries", "hv", "igd_plus"])
        return pd.concat(frames, ignore_index=True)

    def summary(self, queries: Sequence[int] | None = None) -> pd.DataFrame:
        """``hv.csv``: mean and quartiles of normalised HV per algorithm, dataset and query."""
        grid = np.arange(1, self.budget + 1) if queries is None else np.asarray(queries)
        rows = []
        keys = self.runs[["algorithm", "dataset"]].to_numpy()
        for alg, ds in dict.fromkeys(map(tuple, keys)):
            sel = (keys[:, 0] == alg) & (keys[:, 1] == ds)
            stats = column_stats(self.hv[sel][:, grid - 1])
            rows.append(pd.DataFrame({
                "algorithm": alg, "dataset": ds, "queries": grid, "n": stats["n"],
                "mean": stats["mean"], "q25": stats["q25"], "q75": stats["q75"]}))
        if not rows:
            return pd.DataFrame(columns=list(HV_SUMMARY_COLUMNS))
        return pd.concat(rows, ignore_index=True)[list(HV_SUMMARY_COLUMNS)]


def front_curves(traj: pd.DataFrame, table: BenchmarkTable, budget: int, *,
                 cost: str = "flops", checkpoints: Sequence[int] = (),
                 scorers: Mapping[str, FrontScorer] | None = None) -> FrontCurves:
    """Score every run of ``traj`` (columns :data:`FRONT_COLUMNS`) against its dataset's front.

    ``scorers`` may hold prebuilt :class:`FrontScorer` per dataset (they are built on demand).
    """
    missing = [c for c in FRONT_COLUMNS if c not in traj.columns]
    if missing:
        raise DataIntegrityError(f"trajectories lack the columns {', '.join(missing)} that the "
                                 "front metrics read; re-run the sweep with this version")
    cps = tuple(int(q) for q in checkpoints if 1 <= int(q) <= budget)
    ordered = traj.sort_values(["algorithm", "dataset", "run", "query"], kind="stable")
    run_ids = ordered["run_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, run_ids[1:] != run_ids[:-1]]) if len(run_ids) else \
        np.empty(0, dtype=np.int64)
    stops = np.r_[starts[1:], len(run_ids)].astype(np.int64)
    index = ordered["arch_index"].to_numpy(np.int64)
    valid = ordered["valid_acc"].to_numpy(np.float64)
    datasets = ordered["dataset"].to_numpy()
    built: dict[str, FrontScorer] = dict(scorers or {})
    hv = np.zeros((len(starts), budget))
    igd = np.full((len(starts), len(cps)), np.nan)
    for row, (a, b) in enumerate(zip(starts.tolist(), stops.tolist(), strict=True)):
        ds = str(datasets[a])
        scorer = built.get(ds)
        if scorer is None:
            scorer = built[ds] = FrontScorer(table[ds], cost)
        n = min(b - a, budget)
        # a run that stopped early is scored at its last query from there on
        curve, at = scorer.score(index[a:a + n], valid[a:a + n], [min(q, n) for q in cps])
        hv[row, :n] = curve
        if 0 < n < budget:
            hv[row, n:] = curve[-1]
        igd[row, :len(at)] = at
    runs = ordered.iloc[starts][["algorithm", "dataset", "run_id", "run"]].reset_index(drop=True)
    return FrontCurves(cost=cost, budget=budget, runs=runs, hv=hv, checkpoints=cps,
                       igd_plus=igd)
