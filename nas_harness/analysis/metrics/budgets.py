"""Every budget from one search, or one search per budget: the chosen models and their tests.

Three modes per algorithm, FLOPs fractions ``f_1 < ... < f_m`` and a budget of Q queries:

* ``one``: one search of Q queries under the loosest fraction; for each fraction, the
  best-by-validation architecture among those it evaluated that fit under it;
* ``split``: one search per fraction with Q/m queries each (same total cost);
* ``separate``: one search per fraction with Q queries each (m times the cost).

Each chosen architecture is reported by its test accuracy, beside the perfect search's (the
best-by-validation feasible architecture of the whole table) and the regret to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from nas_harness.analysis.metrics.aggregate import nan_quantiles
from nas_harness.analysis.metrics.significance import holm, mann_whitney
from nas_harness.benchmarks.errors import ProtocolError
from nas_harness.benchmarks.table import BenchmarkTable, DatasetTable

MODES: tuple[str, ...] = ("one", "split", "separate")
DEFAULT_FRACTIONS: tuple[float, ...] = (0.25, 0.5, 0.75)
PER_RUN_COLUMNS: tuple[str, ...] = ("algorithm", "dataset", "flops_fraction", "mode", "queries",
                                    "run", "test")
BUDGET_COLUMNS: tuple[str, ...] = ("algorithm", "dataset", "flops_fraction", "mode", "queries",
                                   "n", "mean_test", "q25", "q75", "perfect", "regret")


def check_fractions(fractions: Sequence[float]) -> tuple[float, ...]:
    """The fractions, ascending and distinct; one clear line for one outside (0, 1]."""
    out = []
    for value in fractions:
        try:
            f = float(value)
        except (TypeError, ValueError):
            f = float("nan")
        if isinstance(value, bool) or not 0 < f <= 1:
            raise ProtocolError(f"a FLOPs fraction must be in (0, 1] like 0.5, got {value!r}")
        out.append(f)
    if not out:
        raise ProtocolError("give at least one FLOPs fraction, e.g. 0.25, 0.5, 0.75")
    return tuple(sorted(set(out)))


def split_budget(budget: int, fractions: Sequence[float]) -> int:
    """Queries of each search in ``split`` mode: the budget shared equally (rounded down)."""
    share = int(budget) // len(fractions)
    if share < 1:
        raise ProtocolError(f"a budget of {budget} queries cannot be split over "
                            f"{len(fractions)} fractions; raise the budget")
    return share


def perfect_test(table: DatasetTable, fraction: float) -> float:
    """Test accuracy of the best-by-validation architecture under ``fraction`` (first wins)."""
    limit = fraction * float(np.nanmax(table.flops))
    ok = (table.flops <= limit) & table.available
    valid = np.where(ok, table.valid_acc, -np.inf)
    return float(table.test_acc[int(np.argmax(valid))])


def best_under(traj: pd.DataFrame, table: BenchmarkTable, fraction: float) -> pd.DataFrame:
    """Per run, the best-by-validation evaluated architecture under ``fraction``, by test.

    ``traj`` needs ``algorithm, dataset, run, query, arch_index, valid_acc, flops``. Ties on
    validation keep the earliest query; a run with nothing under the limit gets NaN.
    """
    runs = traj[["algorithm", "dataset", "run"]].drop_duplicates()
    limits = {ds: fraction * float(np.nanmax(table[ds].flops)) for ds in runs["dataset"]}
    under = traj[traj["flops"].to_numpy() <= traj["dataset"].map(limits).to_numpy()]
    best = (under.sort_values(["algorithm", "dataset", "run", "valid_acc", "query"],
                              ascending=[True, True, True, False, True], kind="stable")
            .drop_duplicates(["algorithm", "dataset", "run"]))
    tests = {ds: table[ds].test_acc for ds in runs["dataset"].unique()}
    best = best.assign(test=[float(tests[d][i]) for d, i in
                             zip(best["dataset"], best["arch_index"], strict=True)])
    out = runs.merge(best[["algorithm", "dataset", "run", "test"]], how="left",
                     on=["algorithm", "dataset", "run"])
    return out.sort_values(["algorithm", "dataset", "run"], kind="stable").reset_index(drop=True)


def per_run(one: pd.DataFrame, split: Mapping[float, pd.DataFrame],
            separate: Mapping[float, pd.DataFrame], table: BenchmarkTable,
            fractions: Sequence[float], budget: int,
            modes: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """One row per algorithm, dataset, fraction, mode and run: the chosen model's test.

    ``queries`` is what the mode spent in all (``one`` and ``split``: the budget; ``separate``:
    the budget per fraction). ``modes`` (label -> modes) keeps each algorithm to its modes:
    ``separate`` under the loosest fraction reads the ``one`` runs, which counts only for an
    algorithm run in ``separate`` mode.
    """
    share = split_budget(budget, fractions)
    frames = []
    for f in fractions:
        sources = (("one", one, budget), ("split", split.get(f), share * len(fractions)),
                   ("separate", separate.get(f), budget * len(fractions)))
        for mode, traj, spent in sources:
            if traj is None or traj.empty:
                continue
            if modes is not None:
                traj = traj[traj["algorithm"].map(lambda a, m=mode: m in modes.get(a, MODES))]
                if traj.empty:
                    continue
            frame = best_under(traj, table, f)
            frame["flops_fraction"] = f
            frame["mode"] = mode
            frame["queries"] = spent
            frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=list(PER_RUN_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(PER_RUN_COLUMNS)]


def summarize(rows: pd.DataFrame, table: BenchmarkTable) -> pd.DataFrame:
    """``budgets.csv``: mean and quartiles of the chosen models' test, perfect line, regret."""
    out = []
    keys = ["algorithm", "dataset", "flops_fraction", "mode", "queries"]
    for key, group in rows.groupby(keys, sort=True):
        values = group["test"].to_numpy(dtype=np.float64)
        q25, _, q75 = nan_quantiles(values[:, None])[:, 0]
        perfect = perfect_test(table[str(key[1])], float(key[2]))
        mean = float(np.nanmean(values)) if np.any(~np.isnan(values)) else float("nan")
        out.append((*key, int(np.sum(~np.isnan(values))), mean, float(q25), float(q75),
                    perfect, perfect - mean))
    return pd.DataFrame(out, columns=list(BUDGET_COLUMNS))


def mode_tests(rows: pd.DataFrame) -> pd.DataFrame:
    """Mann-Whitney U of ``one`` against each other mode, per algorithm, dataset, fraction.

    Two-sided; Holm's adjustment over every row of the table. ``a12`` > 0.5: one search
    tends to choose the better model. ``separate`` under the loosest fraction is the ``one``
    search itself, so that pair is not tested.
    """
    out = []
    loosest = rows["flops_fraction"].max() if len(rows) else None
    for (alg, ds, f), group in rows.groupby(["algorithm", "dataset", "flops_fraction"],
                                            sort=True):
        one = group.loc[group["mode"] == "one", "test"].dropna().to_numpy()
        for other in MODES[1:]:
            if other == "separate" and f == loosest:
                continue
            b = group.loc[group["mode"] == other, "test"].dropna().to_numpy()
            if not len(b) or not len(one):
                continue
            test = mann_whitney(one, b)
            out.append((alg, ds, f, "one", other, float(np.mean(one)), float(np.mean(b)),
                        test.a12, test.p_value))
    frame = pd.DataFrame(out, columns=["algorithm", "dataset", "flops_fraction", "mode_a",
                                       "mode_b", "mean_a", "mean_b", "a12", "p"])
    frame["p_holm"] = holm(frame["p"].to_numpy()) if len(frame) else []
    return frame


def algorithm_tests(rows: pd.DataFrame, reference: str, mode: str = "one") -> pd.DataFrame:
    """Mann-Whitney U of every algorithm against ``reference`` in one mode, Holm-adjusted."""
    part = rows[rows["mode"] == mode]
    out = []
    for (ds, f), group in part.groupby(["dataset", "flops_fraction"], sort=True):
        ref = group.loc[group["algorithm"] == reference, "test"].dropna().to_numpy()
        for alg, sub in group.groupby("algorithm", sort=True):
            if alg == reference or not len(ref):
                continue
            values = sub["test"].dropna().to_numpy()
            test = mann_whitney(values, ref)
            out.append((alg, reference, ds, f, mode, float(np.mean(values)),
                        float(np.mean(ref)), test.a12, test.p_value))
    frame = pd.DataFrame(out, columns=["algorithm", "reference", "dataset", "flops_fraction",
                                       "mode", "mean", "mean_reference", "a12", "p"])
    frame["p_holm"] = holm(frame["p"].to_numpy()) if len(frame) else []
    return frame
