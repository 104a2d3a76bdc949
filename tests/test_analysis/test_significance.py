"""Pairwise tests on hand-made samples with known answers."""

import warnings

import numpy as np
import pytest
from scipy import stats

from analysis.metrics import significance as sig


def test_a12_known_values_and_ties():
    assert sig.a12([2, 3, 4], [1, 1, 1]) == 1.0
    assert sig.a12([1, 1, 1], [2, 3, 4]) == 0.0
    assert sig.a12([1, 2], [1, 2]) == 0.5
    # by hand: pairs (1,1)=.5 (1,3)=0 (2,1)=1 (2,3)=0
    assert sig.a12([1, 2], [1, 3]) == pytest.approx(1.5 / 4)
    assert np.isnan(sig.a12([], [1.0]))


def test_a_known_shift_is_significant_and_its_direction_named():
    x = np.arange(8, dtype=float)
    y = x + 30.0  # no overlap: exact two-sided p = 2 / C(16, 8)
    test = sig.mann_whitney(x, y)
    assert test.p_value == pytest.approx(2 / 12870)
    assert test.a12 == 0.0 and test.u_statistic == 0.0 and test.note == ""
    frame = sig.pairwise_tests({("cifar10", 50): {"slow": x, "fast": y}}, order=["slow", "fast"])
    row = frame.iloc[0]
    assert row["significant"] and row["better"] == "fast" and row["effect"] == "large"
    assert row["ci_low_b"] <= y.mean() <= row["ci_high_b"]
    assert "fast > slow" in sig.claim(row)


def test_identical_and_constant_samples_give_p_one_with_a_note_and_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = sig.mann_whitney([1.0, 2.0, 3.0], [3.0, 2.0, 1.0])
        flat = sig.mann_whitney([5.0] * 4, [5.0] * 3)
        frame = sig.pairwise_tests({("c", 10): {"a": np.full(5, 7.0), "b": np.full(5, 7.0)}})
    assert (same.p_value, same.a12, same.note) == (1.0, 0.5, sig.NOTE_IDENTICAL)
    assert (flat.p_value, flat.note) == (1.0, sig.NOTE_EQUAL)
    row = frame.iloc[0]
    assert row["p_holm"] == 1.0 and not row["significant"] and row["note"]
    assert (row["ci_low_a"], row["ci_high_a"]) == (7.0, 7.0)
    assert "no significant difference" in sig.claim(row)


def test_ties_use_scipys_tie_corrected_test():
    x, y = [1, 1, 2, 2, 3, 3, 3], [2, 3, 3, 4, 4, 4, 5]
    test = sig.mann_whitney(x, y)
    assert test.p_value == pytest.approx(stats.mannwhitneyu(x, y).pvalue)
    assert test.a12 == pytest.approx(stats.mannwhitneyu(x, y).statistic / 49)


def test_holm_matches_the_step_down_by_hand_and_leaves_untested_out():
    adjusted = sig.holm([0.01, 0.04, np.nan, 0.03])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, np.nan, 0.06])


def test_holm_family_is_each_dataset_and_checkpoint():
    rng = np.random.default_rng(0)
    base = rng.normal(size=30)
    samples = {("d", q): {"a": base, "b": base + 0.4, "c": base + 0.8} for q in (10, 20)}
    frame = sig.pairwise_tests(samples)
    assert len(frame) == 6
    for _, family in frame.groupby("query"):
        np.testing.assert_allclose(family["p_holm"], sig.holm(family["p_value"]))


def test_two_algorithms_only_and_missing_values():
    frame = sig.pairwise_tests({("d", 5): {"a": [1.0, np.nan, 2.0], "b": []}})
    row = frame.iloc[0]
    assert row["n_a"] == 2 and row["n_b"] == 0 and row["note"] == sig.NOTE_EMPTY
    assert np.isnan(row["p_holm"]) and not row["significant"]
    assert "not tested" in sig.claim(row)


def test_bootstrap_is_seeded_and_covers_the_mean():
    x = np.random.default_rng(1).normal(10, 1, 50)
    a = sig.bootstrap_mean_ci(x, np.random.default_rng(3))
    b = sig.bootstrap_mean_ci(x, np.random.default_rng(3))
    assert a == b and a[0] < x.mean() < a[1] and a[1] - a[0] < 1.0
