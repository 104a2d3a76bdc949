"""Pairwise tests behind every "X beats Y": Mann-Whitney U, Holm, Vargha-Delaney A12, bootstrap.

Per (dataset, checkpoint) and every pair of algorithms, on the incumbent's test accuracy over
runs:

* the two-sided Mann-Whitney U test (``scipy.stats.mannwhitneyu``; exact for small samples
  without ties, normal approximation with tie correction otherwise), the convention of
  optuna's benchmark reports;
* the p-values Holm-corrected within each (dataset, checkpoint) family
  (``statsmodels.stats.multitest.multipletests``, already a dependency of scikit-posthocs;
  ``scipy.stats.false_discovery_control`` offers only Benjamini-Hochberg/Yekutieli);
* the Vargha-Delaney A12 effect size: P(A > B) + P(A = B) / 2 (0.5: no effect; by Vargha and
  Delaney's thresholds 0.56 / 0.64 / 0.71 separate negligible, small, medium, large);
* a percentile bootstrap 95% confidence interval of each algorithm's mean
  (``scipy.stats.bootstrap``, 2,000 resamples -- Efron and Tibshirani's order for
  percentile intervals, a fifth of scipy's default to keep the report fast -- seeded
  from one ``numpy.random.Generator`` per report, so the intervals are the same bytes on
  every machine).

Degenerate samples never produce a warning or a NaN that looks like a result: two samples
whose values are all equal get p = 1 with the note ``all values equal``; identical samples
(e.g. a deterministic algorithm against itself) get p = 1 and the note ``identical samples``;
a sample with no value gets no test (p NaN, note ``no runs``) and is shown as such.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

ALPHA = 0.05
CONFIDENCE = 0.95
N_RESAMPLES = 2000
BOOTSTRAP_SEED = 20240611
NOTE_IDENTICAL = "identical samples"
NOTE_EQUAL = "all values equal"
NOTE_EMPTY = "no runs"
A12_THRESHOLDS: tuple[tuple[float, str], ...] = (
    (0.56, "negligible"), (0.64, "small"), (0.71, "medium"), (1.01, "large"))
SIGNIFICANCE_COLUMNS: tuple[str, ...] = (
    "dataset", "algorithm_a", "algorithm_b", "query", "n_a", "n_b", "mean_a", "ci_low_a",
    "ci_high_a", "mean_b", "ci_low_b", "ci_high_b", "u_statistic", "p_value", "p_holm", "a12",
    "effect", "significant", "better", "note",
)


@dataclass(frozen=True)
class PairTest:
    """One two-sample comparison (``a`` against ``b``)."""

    u_statistic: float
    p_value: float
    a12: float
    note: str


def a12(a: np.ndarray, b: np.ndarray) -> float:
    """Vargha-Delaney A12: the probability that a value of ``a`` beats one of ``b`` (ties 1/2).

    Computed from the rank sum of ``a`` in the pooled sample (average ranks for ties):
    ``(R_a / m - (m + 1) / 2) / n``; NaN when a sample is empty.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    m, n = len(a), len(b)
    if m == 0 or n == 0:
        return float("nan")
    ranks = stats.rankdata(np.concatenate([a, b]))
    return float((ranks[:m].sum() / m - (m + 1) / 2) / n)


def effect_label(value: float) -> str:
    """Vargha and Delaney's name of an A12 (symmetric about 0.5)."""
    if np.isnan(value):
        return ""
    size = 0.5 + abs(value - 0.5)
    return next(label for bound, label in A12_THRESHOLDS if size < bound)


def mann_whitney(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                 alternative: str = "two-sided") -> PairTest:
    """Mann-Whitney U of ``a`` against ``b``, with the degenerate cases answered exactly.

    ``alternative="less"`` asks whether ``a`` tends to be smaller than ``b`` (the gate's
    one-sided question). NaN values must be removed by the caller.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(x) == 0 or len(y) == 0:
        return PairTest(float("nan"), float("nan"), float("nan"), NOTE_EMPTY)
    effect = a12(x, y)
    u_half = len(x) * len(y) / 2.0
    if np.array_equal(np.sort(x), np.sort(y)):
        return PairTest(u_half, 1.0 if alternative == "two-sided" else _one_sided_tie(x, y),
                        effect, NOTE_IDENTICAL)
    if np.ptp(np.concatenate([x, y])) == 0:
        return PairTest(u_half, 1.0, effect, NOTE_EQUAL)
    result = stats.mannwhitneyu(x, y, alternative=alternative)
    return PairTest(float(result.statistic), float(min(1.0, result.pvalue)), effect, "")


def _one_sided_tie(x: np.ndarray, y: np.ndarray) -> float:
    """One-sided p of identical samples: scipy's answer when it has one (about 0.5), else 1."""
    if np.ptp(x) == 0:
        return 1.0
    return float(min(1.0, stats.mannwhitneyu(x, y, alternative="less").pvalue))


def holm(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment; NaN (untested) entries stay NaN and do not count."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    tested = ~np.isnan(p)
    if tested.any():
        # statsmodels' Holm branch calls gc.collect(), which walks every object alive (a
        # report holds millions: 0.2 s a call, 2.5 s a report); objects frozen by gc.freeze()
        # are not walked, and unfreeze() hands them back to the collector unchanged.
        gc.freeze()
        try:
            out[tested] = multipletests(p[tested], method="holm")[1]
        finally:
            gc.unfreeze()
    return out


def bootstrap_mean_ci(values: Sequence[float] | np.ndarray, rng: np.random.Generator,
                      confidence: float = CONFIDENCE,
                      n_resamples: int = N_RESAMPLES) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean; a constant sample is its own interval.

    The percentile method (not BCa) because BCa's jackknife breaks down, with a warning, on
    the heavily tied samples a search produces (many runs ending on the same architecture).
    """
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return float("nan"), float("nan")
    if np.ptp(x) == 0:
        return float(x[0]), float(x[0])
    res = stats.bootstrap((x,), np.mean, confidence_level=confidence, n_resamples=n_resamples,
                          method="percentile", vectorized=True, random_state=rng)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def check_alpha(alpha: float) -> float:
    """``alpha`` as a float, refused unless it is a significance level strictly inside (0, 1).

    At alpha >= 1 every pair, even one with A12 = 0.5 (p = 1), would be "significant", and a
    direction would be claimed where there is none.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.floating) \
            or not 0 < alpha < 1:
        raise ValueError(f"the significance level alpha must be a number strictly between 0 "
                         f"and 1 (e.g. 0.05), got {alpha!r}")
    return float(alpha)


def pairwise_tests(samples: Mapping[tuple[str, int], Mapping[str, np.ndarray]], *,
                   alpha: float = ALPHA, seed: int = BOOTSTRAP_SEED,
                   order: Sequence[str] | None = None) -> pd.DataFrame:
    """Every pair of algorithms in every (dataset, checkpoint) family, Holm within the family.

    Args:
        samples: ``(dataset, query) -> {algorithm: values over runs}`` (NaN values, runs
            without a feasible incumbent yet, are dropped).
        alpha: level of ``significant`` (after the Holm correction).
        seed: seed of the bootstrap's generator (one generator for the whole table, consumed
            in the table's row order, so the table is reproducible).
        order: algorithm order (pairs are ``(earlier, later)``); default: sorted names.

    Returns:
        One row per pair with :data:`SIGNIFICANCE_COLUMNS`; ``better`` names the algorithm
        whose values tend to be higher when the difference is significant, else ``""``.
    """
    alpha = check_alpha(alpha)
    rng = np.random.default_rng(seed)
    rows = []
    for (dataset, query), per_alg in samples.items():
        clean = {a: np.asarray(v, dtype=float)[~np.isnan(np.asarray(v, dtype=float))]
                 for a, v in per_alg.items()}
        names = [a for a in (order or sorted(clean)) if a in clean]
        ci = {a: bootstrap_mean_ci(clean[a], rng) for a in names}
        family: list[dict[str, Any]] = []
        for name_a, name_b in combinations(names, 2):
            x, y = clean[name_a], clean[name_b]
            test = mann_whitney(x, y)
            family.append({
                "dataset": dataset, "algorithm_a": name_a, "algorithm_b": name_b,
                "query": int(query), "n_a": len(x), "n_b": len(y),
                "mean_a": float(x.mean()) if len(x) else np.nan,
                "ci_low_a": ci[name_a][0], "ci_high_a": ci[name_a][1],
                "mean_b": float(y.mean()) if len(y) else np.nan,
                "ci_low_b": ci[name_b][0], "ci_high_b": ci[name_b][1],
                "u_statistic": test.u_statistic, "p_value": test.p_value,
                "a12": test.a12, "effect": effect_label(test.a12), "note": test.note,
            })
        adjusted = holm([r["p_value"] for r in family])
        for row, p_adj in zip(family, adjusted, strict=True):
            significant = bool(p_adj < alpha)  # NaN compares False
            row["p_holm"] = float(p_adj)
            row["significant"] = significant
            row["better"] = ("" if not significant else
                             row["algorithm_a"] if row["a12"] > 0.5 else row["algorithm_b"])
            rows.append(row)
    return pd.DataFrame(rows, columns=list(SIGNIFICANCE_COLUMNS))


def claim(row: Mapping[str, object], alpha: float = ALPHA) -> str:
    """One comparison in words, always with its test: corrected p and A12.

    A significant difference names the higher algorithm first and gives A12 as the
    probability that it beats the other; otherwise A12 is that of the first-named algorithm.
    A row marked significant at A12 = 0.5 (where the two-sided p is 1) names no direction and
    is refused.
    """
    alpha = check_alpha(alpha)
    a, b = str(row["algorithm_a"]), str(row["algorithm_b"])
    p_holm, effect = float(row["p_holm"]), float(row["a12"])  # type: ignore[arg-type]
    if row["significant"] and effect == 0.5:
        raise ValueError(f"{a} vs {b}: a row marked significant with A12 = 0.5 claims no "
                         f"direction; take the row from pairwise_tests")
    note = str(row.get("note") or "")
    if np.isnan(p_holm):
        return f"{a} vs {b}: not tested ({note})"
    if row["significant"]:
        hi, lo, prob = (a, b, effect) if effect > 0.5 else (b, a, 1.0 - effect)
        return (f"{hi} > {lo} (Mann-Whitney U, Holm-corrected p {p_text(p_holm)}, "
                f"A12 = {prob:.2f}, {effect_label(prob)} effect)")
    extra = f"; {note}" if note else ""
    return (f"{a} vs {b}: no significant difference at alpha = {alpha:g} (Mann-Whitney U, "
            f"Holm-corrected p {p_text(p_holm)}, A12 = {effect:.2f}{extra})")


def p_text(value: float) -> str:
    """``= 0.0123`` or ``< 0.0001`` (a p-value as it follows its name)."""
    return "< 0.0001" if value < 1e-4 else f"= {value:.4f}"
