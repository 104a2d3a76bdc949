"""Rankings across datasets and budgets: mean ranks, Friedman, Nemenyi (CARP-S's convention).

A *block* is one (dataset, checkpoint, run index): the algorithms' runs with the same index
on the same dataset, compared at the same number of queries. Within a block the algorithms
are ranked by the incumbent's test accuracy (1 = best, ties share the average rank, a run
without a feasible incumbent yet ranks last). The mean rank over the blocks summarises an
algorithm across datasets and budgets; the Friedman test (``scipy.stats.friedmanchisquare``)
asks whether the ranks differ at all and the Nemenyi post-hoc test
(``scikit_posthocs.posthoc_nemenyi_friedman``) which pairs differ, drawn as a
critical-difference diagram.

Caveat, stated in the report: the checkpoints of one run are not independent (the value at
200 queries builds on the value at 100), so the blocks of one run index are correlated and
the p-values are somewhat optimistic; the pairwise per-checkpoint tests of
:mod:`nas_harness.analysis.metrics.significance` do not share this caveat.

Both tests need three algorithms or more. With fewer, :func:`friedman_nemenyi` says so in its
``note`` and the report falls back to the pairwise Mann-Whitney test (it never crashes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from nas_harness.analysis.metrics.aggregate import VALUE_COLUMN, StepCurves
from nas_harness.analysis.metrics.significance import check_alpha

ALPHA = 0.05
NOTE_FEW = ("fewer than three algorithms: the Friedman and Nemenyi tests need three or more; "
            "see the pairwise Mann-Whitney tests instead")
NOTE_FEW_BLOCKS = "fewer than two complete blocks: no rank test"


def aligned(curves: StepCurves, dataset: str, algorithms: Sequence[str],
            column: str = VALUE_COLUMN) -> tuple[np.ndarray, np.ndarray]:
    """``(values, run_indices)``: shape ``(algorithms, runs, budget)`` over the common run indices.

    Only run indices that every algorithm has on ``dataset`` are kept, so each slice
    ``values[:, r, k]`` is a complete block.
    """
    runs = curves.runs
    matrix = curves[column]
    rows: dict[str, pd.Series] = {}
    for name in algorithms:
        mask = ((runs["algorithm"] == name) & (runs["dataset"] == dataset)).to_numpy()
        index = runs.loc[mask, "run"].astype(np.int64)
        rows[name] = pd.Series(np.flatnonzero(mask), index=index.to_numpy())
    common = sorted(set.intersection(*(set(s.index) for s in rows.values()))) if rows else []
    if not common:
        return np.empty((len(algorithms), 0, curves.budget)), np.empty(0, dtype=np.int64)
    values = np.stack([matrix[rows[name].loc[common].to_numpy()] for name in algorithms])
    return values, np.asarray(common, dtype=np.int64)


def rank_blocks(values: np.ndarray) -> np.ndarray:
    """Ranks along axis 0 (1 = highest value, ties averaged, NaN ranked last)."""
    scores = np.where(np.isnan(values), -np.inf, values)
    return stats.rankdata(-scores, axis=0)


def ranks_over_queries(curves: StepCurves, algorithms: Sequence[str],
                       datasets: Sequence[str], column: str = VALUE_COLUMN) -> pd.DataFrame:
    """Mean rank per (dataset, algorithm, query) over the common run indices (for a figure).

    Columns: dataset, algorithm, query, n_blocks, mean_rank.
    """
    parts = []
    queries = np.arange(1, curves.budget + 1, dtype=np.int64)
    for dataset in datasets:
        values, run_index = aligned(curves, dataset, algorithms, column)
        if len(run_index) == 0:
            continue
        mean = rank_blocks(values).mean(axis=1)  # (algorithms, budget)
        for i, name in enumerate(algorithms):
            parts.append(pd.DataFrame({"dataset": dataset, "algorithm": name, "query": queries,
                                       "n_blocks": len(run_index), "mean_rank": mean[i]}))
    if not parts:
        return pd.DataFrame(columns=["dataset", "algorithm", "query", "n_blocks", "mean_rank"])
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class RankTest:
    """Mean ranks over blocks, the Friedman test and the Nemenyi p-values.

    ``statistic``/``p_value`` are NaN and ``nemenyi`` empty when the test does not apply;
    ``note`` then says why.
    """

    mean_ranks: pd.Series
    n_blocks: int
    statistic: float
    p_value: float
    nemenyi: pd.DataFrame
    critical_difference: float
    alpha: float
    note: str

    @property
    def tested(self) -> bool:
        """Whether the Friedman/Nemenyi tests were run."""
        return not self.note


def block_matrix(curves: StepCurves, algorithms: Sequence[str], datasets: Sequence[str],
                 checkpoints: Sequence[int], column: str = VALUE_COLUMN) -> np.ndarray:
    """Values of shape ``(blocks, algorithms)``, one row per (dataset, checkpoint, run index)."""
    blocks = []
    for dataset in datasets:
        values, run_index = aligned(curves, dataset, algorithms, column)
        for query in checkpoints:
            if 1 <= query <= curves.budget and len(run_index):
                blocks.append(values[:, :, query - 1].T)
    return np.concatenate(blocks) if blocks else np.empty((0, len(algorithms)))


def nemenyi_cd(k: int, n_blocks: int, alpha: float = ALPHA) -> float:
    """Demsar's critical difference of mean ranks: q_alpha * sqrt(k (k + 1) / (6 N)).

    ``q_alpha`` is the studentized range quantile divided by sqrt(2)
    (``scipy.stats.studentized_range`` with infinite degrees of freedom).
    """
    q = stats.studentized_range.ppf(1 - check_alpha(alpha), k, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(k * (k + 1) / (6.0 * n_blocks)))


def friedman_nemenyi(curves: StepCurves, algorithms: Sequence[str], datasets: Sequence[str],
                     checkpoints: Sequence[int], alpha: float = ALPHA,
                     column: str = VALUE_COLUMN) -> RankTest:
    """Mean ranks over (dataset, checkpoint, run index) blocks, Friedman and Nemenyi."""
    alpha = check_alpha(alpha)
    names = list(algorithms)
    matrix = block_matrix(curves, names, datasets, checkpoints, column)
    ranks = rank_blocks(matrix.T).T if len(matrix) else np.empty((0, len(names)))
    mean = pd.Series(ranks.mean(axis=0) if len(ranks) else np.nan, index=names, dtype=float)
    n = len(matrix)
    empty = pd.DataFrame(index=names, columns=names, dtype=float)
    if len(names) < 3:
        return RankTest(mean, n, np.nan, np.nan, empty, np.nan, alpha, NOTE_FEW)
    if n < 2:
        return RankTest(mean, n, np.nan, np.nan, empty, np.nan, alpha, NOTE_FEW_BLOCKS)
    scores = np.where(np.isnan(matrix), -np.inf, matrix)
    if np.all(scores == scores[:, :1]):
        # every block a tie: nothing differs (scipy would divide by zero)
        ones = pd.DataFrame(1.0, index=names, columns=names)
        return RankTest(mean, n, 0.0, 1.0, ones, nemenyi_cd(len(names), n, alpha), alpha, "")
    # rank-based tests only need the order; ranks keep -inf (no incumbent) out of the maths
    block_ranks = -ranks
    statistic, p_value = stats.friedmanchisquare(*block_ranks.T)
    import scikit_posthocs as sp

    nemenyi = sp.posthoc_nemenyi_friedman(block_ranks)
    nemenyi.index = nemenyi.columns = names
    return RankTest(mean, n, float(statistic), float(p_value), nemenyi.astype(float),
                    nemenyi_cd(len(names), n, alpha), alpha, "")


def rank_table(test: RankTest) -> pd.DataFrame:
    """Mean rank per algorithm, best first (columns: algorithm, mean_rank, n_blocks)."""
    frame = pd.DataFrame({"algorithm": test.mean_ranks.index,
                          "mean_rank": test.mean_ranks.to_numpy(float),
                          "n_blocks": test.n_blocks})
    return frame.sort_values(["mean_rank", "algorithm"], kind="stable").reset_index(drop=True)
