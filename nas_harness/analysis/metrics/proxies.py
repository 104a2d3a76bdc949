"""How well a proxy ranks architectures: rank correlations, top-k precision, bootstrap intervals.

Per (proxy, dataset, target, subset), over the architectures the proxy scores:

* Kendall tau-b (``scipy.stats.kendalltau``, variant ``b``: ties in either variable are
  corrected for, which matters for ``params``/``flops`` with their many ties) and Spearman rho
  (``scipy.stats.spearmanr``), both on the raw scores (never on ``abs()``: a proxy that ranks
  backwards gets a negative value);
* top-k precision for k = 1% and 5% of the set (rounded up): the share of the proxy's k best
  that are among the target's k best; ties broken by architecture index (ascending), the same
  rule for proxy and target;
* the mean test accuracy of the proxy's top k (what a user who trusted it would get);
* percentile bootstrap 95% intervals of all of these, resampling architectures with
  replacement from one injected ``numpy.random.Generator``, so the intervals are the same
  bytes on every machine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

TOP_FRACTIONS: tuple[float, ...] = (0.01, 0.05)
N_BOOTSTRAP = 100
"""Bootstrap resamples: intervals over 32,768 architectures are narrow, and each resample
costs two rank correlations on the full set (about 60 ms); 100 keeps the three-dataset
report to a few minutes of one core."""
CONFIDENCE = 0.95
METRICS: tuple[str, ...] = ("kendall", "spearman", "top1pct_precision", "top5pct_precision",
                            "top1pct_mean_test", "top5pct_mean_test")


@dataclass(frozen=True)
class RankQuality:
    """Point estimates of one proxy against one target on one set of architectures."""

    n: int
    kendall: float
    spearman: float
    top1pct_precision: float
    top5pct_precision: float
    top1pct_mean_test: float
    top5pct_mean_test: float


def top_k(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest values; ties go to the lower position."""
    order = np.lexsort((np.arange(len(values)), -values))
    return order[:k]


def top_k_size(n: int, fraction: float) -> int:
    """The k of a top-k set: a fraction of ``n`` architectures, rounded up, at least 1."""
    return max(1, math.ceil(fraction * n))


def rank_quality(score: np.ndarray, target: np.ndarray, test: np.ndarray,
                 fractions: Sequence[float] = TOP_FRACTIONS) -> RankQuality:
    """Point estimates on aligned arrays (no NaN: drop unscored architectures first)."""
    score = np.asarray(score, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    n = len(score)
    if n < 2:
        nan = float("nan")
        return RankQuality(n, nan, nan, nan, nan, nan, nan)
    kendall = float(stats.kendalltau(score, target, variant="b").statistic)
    spearman = float(stats.spearmanr(score, target).statistic)
    precision, mean_test = [], []
    for fraction in fractions:
        k = top_k_size(n, fraction)
        mine = top_k(score, k)
        best = top_k(target, k)
        precision.append(len(np.intersect1d(mine, best)) / k)
        mean_test.append(float(np.mean(test[mine])))
    return RankQuality(n, kendall, spearman, precision[0], precision[1], mean_test[0],
                       mean_test[1])


def bootstrap_intervals(score: np.ndarray, target: np.ndarray, test: np.ndarray,
                        rng: np.random.Generator, n_resamples: int = N_BOOTSTRAP,
                        confidence: float = CONFIDENCE) -> dict[str, tuple[float, float]]:
    """Percentile intervals of every metric of :func:`rank_quality` (resampling architectures)."""
    n = len(score)
    draws = np.empty((n_resamples, len(METRICS)))
    for b in range(n_resamples):
        pick = rng.integers(0, n, size=n)
        q = rank_quality(score[pick], target[pick], test[pick])
        draws[b] = [getattr(q, m) for m in METRICS]
    alpha = (1 - confidence) / 2
    low = np.quantile(draws, alpha, axis=0)
    high = np.quantile(draws, 1 - alpha, axis=0)
    return {m: (float(low[i]), float(high[i])) for i, m in enumerate(METRICS)}


def correlation_row(proxy: str, dataset: str, target_name: str, subset: str,
                    score: np.ndarray, target: np.ndarray, test: np.ndarray,
                    rng: np.random.Generator | None, n_resamples: int = N_BOOTSTRAP
                    ) -> dict[str, object]:
    """One row of ``correlations.csv``: unscored architectures dropped, intervals if ``rng``."""
    keep = ~np.isnan(score)
    s, t, te = score[keep], target[keep], test[keep]
    q = rank_quality(s, t, te)
    row: dict[str, object] = {"proxy": proxy, "dataset": dataset, "target": target_name,
                              "subset": subset, "n": q.n}
    intervals = (bootstrap_intervals(s, t, te, rng, n_resamples) if rng is not None
                 else {m: (float("nan"), float("nan")) for m in METRICS})
    for m in METRICS:
        row[m] = getattr(q, m)
        row[f"{m}_lo"], row[f"{m}_hi"] = intervals[m]
    return row


CSV_COLUMNS: tuple[str, ...] = (
    "proxy", "dataset", "target", "subset", "n",
    *(c for m in METRICS for c in (m, f"{m}_lo", f"{m}_hi")))
