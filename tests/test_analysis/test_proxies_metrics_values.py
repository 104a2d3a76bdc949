"""Proxy rank metrics by value: small hand-made arrays, scipy as the reference, exact bounds.

Every array here is invented (synthetic), never benchmark data.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from nas_harness.analysis.metrics import proxies
from nas_harness.analysis.metrics.proxies import (
    CONFIDENCE,
    METRICS,
    N_BOOTSTRAP,
    TOP_FRACTIONS,
    bootstrap_intervals,
    correlation_row,
    rank_quality,
    top_k,
    top_k_size,
)

# synthetic: 30 architectures with ties in the score
SCORE = np.array([5, 3, 3, 8, 1, 9, 2, 7, 7, 4, 6, 0, 5, 8, 2, 9, 3, 1, 6, 4,
                  7, 2, 5, 0, 8, 6, 1, 9, 4, 3], dtype=np.float64)
TARGET = np.array([50, 31, 35, 77, 12, 90, 20, 61, 70, 44, 58, 3, 49, 80, 25, 88, 30, 15,
                   66, 40, 72, 18, 52, 5, 79, 60, 10, 95, 41, 33], dtype=np.float64)
TEST = TARGET / 100 + 0.5


def _reference(score: np.ndarray, target: np.ndarray, test: np.ndarray) -> list[float]:
    """The six metrics written out with scipy and sorted() (the documented rules)."""
    n = len(score)
    out = [stats.kendalltau(score, target, variant="b").statistic,
           stats.spearmanr(score, target).statistic]
    precisions, means = [], []
    for fraction in (0.01, 0.05):
        k = max(1, math.ceil(fraction * n))
        mine = sorted(range(n), key=lambda i: (-score[i], i))[:k]
        best = sorted(range(n), key=lambda i: (-target[i], i))[:k]
        precisions.append(len(set(mine) & set(best)) / k)
        means.append(float(np.mean(test[mine])))
    return [float(x) for x in out] + precisions + means


def test_constants_are_the_documented_ones():
    assert TOP_FRACTIONS == (0.01, 0.05)
    assert N_BOOTSTRAP == 100 and CONFIDENCE == 0.95
    assert METRICS == ("kendall", "spearman", "top1pct_precision", "top5pct_precision",
                       "top1pct_mean_test", "top5pct_mean_test")


def test_top_k_orders_by_value_then_position():
    values = np.array([2.0, 7.0, 7.0, 1.0, 7.0, 5.0])
    assert top_k(values, 1).tolist() == [1]
    assert top_k(values, 4).tolist() == [1, 2, 4, 5]
    assert top_k(values, 6).tolist() == [1, 2, 4, 5, 0, 3]
    assert top_k(np.array([-1.0, -3.0, -2.0]), 2).tolist() == [0, 2]


def test_top_k_size_rounds_up_with_a_floor_of_one():
    assert top_k_size(1, 0.01) == 1
    assert top_k_size(30, 0.05) == 2  # 1.5 -> 2
    assert top_k_size(101, 0.01) == 2  # 1.01 -> 2
    assert top_k_size(100, 0.05) == 5
    assert top_k_size(0, 0.05) == 1


def test_rank_quality_matches_the_reference_on_ties():
    q = rank_quality(SCORE, TARGET, TEST)
    assert q.n == 30
    got = [getattr(q, m) for m in METRICS]
    assert got == pytest.approx(_reference(SCORE, TARGET, TEST), abs=1e-12)
    # k = 1 and 2 at n = 30: proxy's best are positions 5, 15 (score 9, ties by position)
    assert q.top1pct_mean_test == pytest.approx(TEST[5])
    assert q.top5pct_mean_test == pytest.approx((TEST[5] + TEST[15]) / 2)
    assert q.top1pct_precision == 0.0  # target's best is 27 (95)
    assert q.top5pct_precision == 0.5  # target's {27, 5} vs the proxy's {5, 15}


def test_top5_precision_counts_the_overlap():
    score = np.array([0.0, 9.0, 8.0, 1.0, 2.0] * 8)  # 40 architectures: k = 1 and 2
    target = np.arange(40, dtype=np.float64)[::-1].copy()  # best: positions 0, 1
    q = rank_quality(score, target, target)
    # proxy: 1 then 6 (both 9.0); target: 0 then 1 -> overlap {1}
    assert q.top1pct_precision == 0.0
    assert q.top5pct_precision == 0.5
    assert q.top1pct_mean_test == 38.0
    assert q.top5pct_mean_test == pytest.approx((38.0 + 33.0) / 2)


def test_custom_fractions_are_used():
    q = rank_quality(SCORE, TARGET, TEST, fractions=(0.1, 0.5))
    k1, k2 = 3, 15
    mine1 = sorted(range(30), key=lambda i: (-SCORE[i], i))[:k1]
    mine2 = sorted(range(30), key=lambda i: (-SCORE[i], i))[:k2]
    assert q.top1pct_mean_test == pytest.approx(float(np.mean(TEST[mine1])))
    assert q.top5pct_mean_test == pytest.approx(float(np.mean(TEST[mine2])))


def test_integer_and_unsigned_inputs_are_read_as_floats():
    as_uint = SCORE.astype(np.uint8)
    q = rank_quality(as_uint, TARGET.astype(np.uint8), TEST)
    assert [getattr(q, m) for m in METRICS] == pytest.approx(
        _reference(SCORE, TARGET, TEST), abs=1e-12)
    # a zero among unsigned targets: negated in uint8 it would stay the smallest
    q = rank_quality(np.array([3.0, 2.0, 1.0]), np.array([0, 2, 1], dtype=np.uint8),
                     np.array([0.1, 0.2, 0.3]))
    assert q.top1pct_precision == 0.0 and q.top5pct_precision == 0.0
    q = rank_quality(np.array([0, 2, 1], dtype=np.uint8), np.array([3.0, 2.0, 1.0]),
                     np.array([0.1, 0.2, 0.3]))
    assert q.top1pct_mean_test == pytest.approx(0.2)
    q = rank_quality(list(SCORE), list(TARGET), TEST)
    assert q.kendall == pytest.approx(_reference(SCORE, TARGET, TEST)[0], abs=1e-12)


def test_fewer_than_two_architectures_give_nan_and_two_give_values():
    one = rank_quality(np.array([1.0]), np.array([2.0]), np.array([0.5]))
    assert one.n == 1
    assert all(math.isnan(getattr(one, m)) for m in METRICS)
    empty = rank_quality(np.array([]), np.array([]), np.array([]))
    assert empty.n == 0 and math.isnan(empty.kendall)
    two = rank_quality(np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([0.1, 0.2]))
    assert two.n == 2
    assert two.kendall == pytest.approx(1.0) and two.spearman == pytest.approx(1.0)
    assert two.top1pct_precision == 1.0 and two.top5pct_precision == 1.0
    assert two.top1pct_mean_test == pytest.approx(0.2)


def _reference_intervals(score, target, test, seed, n_resamples, confidence):
    rng = np.random.default_rng(seed)
    n = len(score)
    draws = []
    for _ in range(n_resamples):
        pick = rng.integers(0, n, size=n)
        draws.append(_reference(score[pick], target[pick], test[pick]))
    arr = np.array(draws)
    alpha = (1 - confidence) / 2
    return {m: (float(np.quantile(arr[:, i], alpha)), float(np.quantile(arr[:, i], 1 - alpha)))
            for i, m in enumerate(METRICS)}


def test_bootstrap_bounds_are_exact_for_a_fixed_seed():
    got = bootstrap_intervals(SCORE, TARGET, TEST, np.random.default_rng(11), 40, 0.8)
    want = _reference_intervals(SCORE, TARGET, TEST, 11, 40, 0.8)
    assert list(got) == list(METRICS)
    for m in METRICS:
        assert got[m] == pytest.approx(want[m], abs=1e-12), m
        assert got[m][0] < got[m][1] or m.endswith("precision"), m


def test_bootstrap_defaults_are_100_resamples_at_95_percent():
    got = bootstrap_intervals(SCORE, TARGET, TEST, np.random.default_rng(5))
    want = _reference_intervals(SCORE, TARGET, TEST, 5, 100, 0.95)
    for m in METRICS:
        assert got[m] == pytest.approx(want[m], abs=1e-12), m


@pytest.mark.filterwarnings("ignore::scipy.stats.ConstantInputWarning")
def test_bootstrap_uses_every_position():
    # only the last architecture is scored high; some resample must draw it
    score = np.zeros(6)
    score[5] = 1.0
    target = np.arange(6, dtype=np.float64)
    got = bootstrap_intervals(score, target, target, np.random.default_rng(0), 50, 0.5)
    want = _reference_intervals(score, target, target, 0, 50, 0.5)
    for m in METRICS:
        assert got[m] == pytest.approx(want[m], abs=1e-12, nan_ok=True), m


def test_row_values_and_intervals():
    score = SCORE.copy()
    score[[0, 7]] = np.nan
    keep = ~np.isnan(score)
    row = correlation_row("zico", "cifar10", "valid", "all", score, TARGET, TEST,
                          np.random.default_rng(9), 7)
    assert row["proxy"] == "zico" and row["dataset"] == "cifar10"
    assert row["target"] == "valid" and row["subset"] == "all" and row["n"] == 28
    ref = _reference(SCORE[keep], TARGET[keep], TEST[keep])
    want = _reference_intervals(SCORE[keep], TARGET[keep], TEST[keep], 9, 7, 0.95)
    for i, m in enumerate(METRICS):
        assert row[m] == pytest.approx(ref[i], abs=1e-12), m
        assert (row[f"{m}_lo"], row[f"{m}_hi"]) == pytest.approx(want[m], abs=1e-12), m


def test_row_default_resamples_is_the_module_default(monkeypatch):
    seen = []
    real = proxies.bootstrap_intervals

    def spy(s, t, te, rng, n_resamples=-1, confidence=CONFIDENCE):
        seen.append(n_resamples)
        return real(s, t, te, rng, 3, confidence)

    monkeypatch.setattr(proxies, "bootstrap_intervals", spy)
    correlation_row("p", "d", "t", "s", SCORE, TARGET, TEST, np.random.default_rng(1))
    assert seen == [N_BOOTSTRAP]


def test_row_without_rng_has_nan_intervals_and_exact_points():
    row = correlation_row("p", "d", "t", "s", SCORE, TARGET, TEST, None)
    ref = _reference(SCORE, TARGET, TEST)
    for i, m in enumerate(METRICS):
        assert row[m] == pytest.approx(ref[i], abs=1e-12)
        assert math.isnan(row[f"{m}_lo"]) and math.isnan(row[f"{m}_hi"])
