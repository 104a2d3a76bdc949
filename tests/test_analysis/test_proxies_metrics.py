"""Proxy rank metrics on small synthetic tables, checked against scipy and by hand.

The tables are invented numbers (synthetic), never benchmark data.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from nas_harness.analysis.metrics.proxies import (
    CSV_COLUMNS,
    METRICS,
    bootstrap_intervals,
    correlation_row,
    rank_quality,
    top_k,
    top_k_size,
)

# synthetic: 200 architectures, a proxy that is the target plus noise, with ties in both
RNG = np.random.default_rng(7)
TARGET = np.round(RNG.normal(80, 5, 200), 1)
SCORE = np.round(TARGET + RNG.normal(0, 4, 200))
TEST = TARGET + RNG.normal(0, 1, 200)


def test_kendall_is_scipy_tau_b_and_spearman_is_scipy():
    q = rank_quality(SCORE, TARGET, TEST)
    assert q.kendall == pytest.approx(stats.kendalltau(SCORE, TARGET, variant="b").statistic,
                                      abs=1e-12)
    assert q.spearman == pytest.approx(stats.spearmanr(SCORE, TARGET).statistic, abs=1e-12)
    assert len(np.unique(SCORE)) < len(SCORE)  # the ties that tau-b corrects for are there


def test_tau_b_differs_from_tau_c_with_ties():
    q = rank_quality(SCORE, TARGET, TEST)
    assert q.kendall != pytest.approx(stats.kendalltau(SCORE, TARGET, variant="c").statistic)


def test_a_reversed_proxy_has_negative_correlations():
    q = rank_quality(-SCORE, TARGET, TEST)
    assert q.kendall < -0.5 and q.spearman < -0.6


def test_top_k_by_hand():
    values = np.array([3.0, 9.0, 1.0, 9.0, 5.0])
    assert top_k(values, 2).tolist() == [1, 3]  # tie at 9: lower position first
    assert top_k(values, 3).tolist() == [1, 3, 4]
    assert top_k_size(200, 0.01) == 2 and top_k_size(200, 0.05) == 10
    assert top_k_size(50, 0.01) == 1


def test_precision_and_mean_test_by_hand():
    target = np.arange(100, dtype=float)  # best are 99, 98, ...
    score = target.copy()
    score[[99, 98]] = -1  # the proxy misses the two best
    test = np.arange(100, dtype=float) / 10
    q = rank_quality(score, target, test)
    assert q.top1pct_precision == 0.0  # k=1: proxy picks 97, target's best is 99
    assert q.top5pct_precision == pytest.approx(3 / 5)  # {97,96,95,94,93} vs {99..95}
    assert q.top1pct_mean_test == pytest.approx(9.7)
    assert q.top5pct_mean_test == pytest.approx(np.mean([9.7, 9.6, 9.5, 9.4, 9.3]))


def test_perfect_proxy():
    q = rank_quality(TARGET * 2 + 1, TARGET, TEST)
    assert q.kendall == pytest.approx(1.0) and q.spearman == pytest.approx(1.0)


def test_bootstrap_is_deterministic_and_brackets_the_estimate():
    a = bootstrap_intervals(SCORE, TARGET, TEST, np.random.default_rng(3), 60)
    b = bootstrap_intervals(SCORE, TARGET, TEST, np.random.default_rng(3), 60)
    assert a == b
    q = rank_quality(SCORE, TARGET, TEST)
    lo, hi = a["kendall"]
    assert lo < q.kendall < hi and hi - lo < 0.3
    c = bootstrap_intervals(SCORE, TARGET, TEST, np.random.default_rng(4), 60)
    assert c["kendall"] != a["kendall"]


def test_row_drops_unscored_and_names_everything():
    score = SCORE.copy()
    score[:20] = np.nan
    row = correlation_row("zico", "cifar10", "valid", "all", score, TARGET, TEST, None)
    assert list(row) == list(CSV_COLUMNS)
    assert row["n"] == 180
    assert row["kendall"] == pytest.approx(
        stats.kendalltau(SCORE[20:], TARGET[20:], variant="b").statistic)
    assert all(np.isnan(row[f"{m}_lo"]) for m in METRICS)


def test_csv_columns_hold_what_the_issue_names():
    for column in ("proxy", "dataset", "target", "subset", "kendall", "spearman",
                   "top1pct_precision", "top5pct_precision", "kendall_lo", "kendall_hi"):
        assert column in CSV_COLUMNS
