"""Pairwise tests on hand-made samples with known answers."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nas_harness.analysis.metrics import significance as sig


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


# -- boundaries and degenerate samples, by hand -------------------------------------------------

def test_a12_of_single_runs_and_empty_samples_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sig.a12([3.0], [1.0, 2.0]) == 1.0
        assert sig.a12([1.0, 2.0], [3.0]) == 0.0
        assert sig.a12([2.0], [1.0, 2.0, 3.0]) == 0.5  # (1 + 1/2 + 0) / 3
        assert np.isnan(sig.a12([], [1.0])) and np.isnan(sig.a12([1.0], []))
        assert np.isnan(sig.a12([], []))


def test_a12_is_one_minus_the_swapped_a12():
    rng = np.random.default_rng(4)
    x, y = rng.integers(0, 5, 9).astype(float), rng.integers(0, 5, 7).astype(float)
    assert sig.a12(x, y) == pytest.approx(1 - sig.a12(y, x))


def test_numbers_given_as_text_are_compared_as_numbers():
    # "10" < "9" as text; every entry point converts to float first
    ten, nine = np.array(["10", "11"]), np.array(["9", "8"])
    assert sig.a12(ten, nine) == 1.0 and sig.a12(nine, ten) == 0.0
    assert sig.mann_whitney(ten, nine).a12 == 1.0
    assert sig.mann_whitney(nine, ten).a12 == 0.0
    assert sig.bootstrap_mean_ci(np.array(["2", "2"]), np.random.default_rng(0)) == (2.0, 2.0)
    np.testing.assert_allclose(sig.holm(np.array(["0.01", "0.04"])), [0.02, 0.04])
    row = sig.pairwise_tests({("d", 1): {"a": np.array(["10", "11"]),
                                         "b": np.array(["9", "8"])}}).iloc[0]
    assert (row["mean_a"], row["mean_b"], row["a12"]) == (10.5, 8.5, 1.0)


def test_effect_labels_at_vargha_delaneys_thresholds():
    assert sig.effect_label(0.5) == "negligible"
    assert sig.effect_label(0.559) == "negligible" and sig.effect_label(0.441) == "negligible"
    assert sig.effect_label(0.56) == "small" and sig.effect_label(0.44) == "small"
    assert sig.effect_label(0.639) == "small"
    assert sig.effect_label(0.64) == "medium" and sig.effect_label(0.36) == "medium"
    assert sig.effect_label(0.709) == "medium"
    assert sig.effect_label(0.71) == "large" and sig.effect_label(0.29) == "large"
    assert sig.effect_label(1.0) == "large" and sig.effect_label(0.0) == "large"
    assert sig.effect_label(float("nan")) == ""


def test_mann_whitney_of_single_runs_is_the_exact_test():
    # one value below two: U = 0, and 1 of the C(3, 1) = 3 orderings is as extreme each way
    test = sig.mann_whitney([1.0], [2.0, 3.0])
    assert (test.u_statistic, test.a12, test.note) == (0.0, 0.0, "")
    assert test.p_value == pytest.approx(2 / 3)
    test = sig.mann_whitney([2.0, 3.0], [1.0])
    assert (test.u_statistic, test.a12) == (2.0, 1.0) and test.p_value == pytest.approx(2 / 3)


def test_mann_whitney_one_sided():
    x = np.arange(8, dtype=float)
    y = x + 30.0
    assert sig.mann_whitney(x, y, alternative="less").p_value == pytest.approx(1 / 12870)
    assert sig.mann_whitney(y, x, alternative="greater").p_value == pytest.approx(1 / 12870)
    assert sig.mann_whitney(y, x, alternative="less").p_value == pytest.approx(1.0)


def test_degenerate_samples_report_u_at_its_centre():
    same = sig.mann_whitney([1.0, 2.0, 3.0], [3.0, 2.0, 1.0])
    flat = sig.mann_whitney([5.0] * 4, [5.0] * 3)
    assert same.u_statistic == 4.5 and flat.u_statistic == 6.0  # m n / 2
    assert flat.a12 == 0.5 and flat.p_value == 1.0
    wide = sig.mann_whitney([5.0] * 6, [5.0])
    assert (wide.u_statistic, wide.a12, wide.note) == (3.0, 0.5, sig.NOTE_EQUAL)


def test_identical_samples_one_sided_by_hand():
    # [1, 2, 3] against itself: U = 4.5 = m n / 2, tie-corrected variance
    # m n / 12 * ((N + 1) - sum(t^3 - t) / (N (N - 1))) = 9/12 * (7 - 18/30) = 4.8; the
    # continuity correction 0.5 gives p = Phi(0.5 / sqrt(4.8)) = 0.59026
    test = sig.mann_whitney([1.0, 2.0, 3.0], [3.0, 1.0, 2.0], alternative="less")
    assert test.note == sig.NOTE_IDENTICAL and test.u_statistic == 4.5
    assert test.p_value == pytest.approx(0.590262, abs=1e-6)
    # [0, 1] against [1, 0]: U = 2, variance 4/12 * (5 - 12/12) = 4/3, p = Phi(0.5 / 1.1547)
    test = sig.mann_whitney([0.0, 1.0], [1.0, 0.0], alternative="less")
    assert test.p_value == pytest.approx(0.667497, abs=1e-6)
    # all values equal and identical: nothing to order, p = 1 either way
    flat = sig.mann_whitney([5.0] * 3, [5.0] * 3, alternative="less")
    assert (flat.p_value, flat.note) == (1.0, sig.NOTE_IDENTICAL)


def test_empty_samples_are_not_tested():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for a, b in (([], [1.0]), ([1.0, 2.0], []), ([], [])):
            test = sig.mann_whitney(a, b)
            assert test.note == sig.NOTE_EMPTY
            assert all(isinstance(v, float) and np.isnan(v)
                       for v in (test.u_statistic, test.p_value, test.a12))


def test_holm_untested_entries_given_as_none():
    np.testing.assert_allclose(sig.holm([0.01, None, 0.02]), [0.02, np.nan, 0.02])
    assert np.isnan(sig.holm([np.nan, np.nan])).all() and sig.holm([]).shape == (0,)
    # a textbook example: 0.01, 0.02, 0.03, 0.04 -> 4 * 0.01, 3 * 0.02 = 0.06, max(., 2 * 0.03)
    np.testing.assert_allclose(sig.holm([0.04, 0.01, 0.03, 0.02]), [0.06, 0.04, 0.06, 0.06])


def test_bootstrap_percentile_interval_by_hand():
    # nine 0s and one 1: a resample's mean is k / 10 with k ~ Binomial(10, 0.1);
    # P(k <= 2) = 0.930 < 0.975 <= P(k <= 3) = 0.987: the percentile interval is (0, 0.3);
    # at 80%: P(k <= 1) = 0.736 < 0.9 <= 0.930, so (0, 0.2). (BCa would say (0, 0.4..0.5).)
    x = [0.0] * 9 + [1.0]
    assert sig.bootstrap_mean_ci(x, np.random.default_rng(0)) == (0.0, pytest.approx(0.3))
    assert sig.bootstrap_mean_ci(x, np.random.default_rng(0), confidence=0.8) == \
        (0.0, pytest.approx(0.2))


def test_bootstrap_resamples_and_degenerate_samples():
    x = np.random.default_rng(1).normal(10, 1, 50)
    with warnings.catch_warnings():  # scipy's standard error of one resample
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = sig.bootstrap_mean_ci(x, np.random.default_rng(3), n_resamples=1)
    assert lo == hi and x.min() <= lo <= x.max()  # one resample: one mean
    narrow = sig.bootstrap_mean_ci(x, np.random.default_rng(3), confidence=0.5)
    wide = sig.bootstrap_mean_ci(x, np.random.default_rng(3))
    assert wide[0] < narrow[0] < x.mean() < narrow[1] < wide[1]
    assert sig.bootstrap_mean_ci([4.0], np.random.default_rng(0)) == (4.0, 4.0)
    assert sig.bootstrap_mean_ci([4.0, 4.0, 4.0], np.random.default_rng(0)) == (4.0, 4.0)
    # a spread of exactly 1 is a spread: its interval has width
    lo, hi = sig.bootstrap_mean_ci([0.0, 1.0], np.random.default_rng(0))
    assert (lo, hi) == (0.0, 1.0)
    empty = sig.bootstrap_mean_ci([], np.random.default_rng(0))
    assert all(isinstance(v, float) and np.isnan(v) for v in empty)


def test_p_text():
    assert sig.p_text(0.0123) == "= 0.0123"
    assert sig.p_text(0.5) == "= 0.5000"
    assert sig.p_text(1e-4) == "= 0.0001"
    assert sig.p_text(9.9e-5) == "< 0.0001"


# -- the table ----------------------------------------------------------------------------------

def test_a_row_has_every_column_by_hand():
    x = np.arange(8, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = sig.pairwise_tests({("cifar10", np.int64(50)): {"fast": x + 30.0, "slow": x}})
    assert list(frame.columns) == list(sig.SIGNIFICANCE_COLUMNS)
    row = frame.iloc[0].to_dict()
    ci_a, ci_b = (row.pop("ci_low_a"), row.pop("ci_high_a")), (row.pop("ci_low_b"),
                                                                row.pop("ci_high_b"))
    assert row == {
        "dataset": "cifar10", "algorithm_a": "fast", "algorithm_b": "slow", "query": 50,
        "n_a": 8, "n_b": 8, "mean_a": 33.5, "mean_b": 3.5, "u_statistic": 64.0,
        "p_value": pytest.approx(2 / 12870), "p_holm": pytest.approx(2 / 12870), "a12": 1.0,
        "effect": "large", "significant": True, "better": "fast", "note": ""}
    assert type(row["query"]) is int
    # an interval of the mean of 0..7 (+30): inside the range, around the mean, not a point
    assert 30.0 < ci_a[0] < 33.5 < ci_a[1] < 37.0 and 0.0 < ci_b[0] < 3.5 < ci_b[1] < 7.0
    assert ci_a[1] - ci_a[0] == pytest.approx(ci_b[1] - ci_b[0])  # same resampling, shifted


def test_better_names_the_first_algorithm_when_it_is_higher():
    x = np.arange(8, dtype=float)
    row = sig.pairwise_tests({("d", 1): {"hi": x + 0.5 + 30, "lo": x}}).iloc[0]
    assert (row["algorithm_a"], row["better"], row["a12"]) == ("hi", "hi", 1.0)
    flipped = sig.pairwise_tests({("d", 1): {"hi": x + 30, "lo": x}}, order=["lo", "hi"]).iloc[0]
    assert (flipped["algorithm_a"], flipped["better"], flipped["a12"]) == ("lo", "hi", 0.0)


def test_significance_is_strictly_below_alpha():
    x = np.arange(8, dtype=float)
    p = sig.mann_whitney(x, x + 30).p_value
    at = sig.pairwise_tests({("d", 1): {"a": x, "b": x + 30}}, alpha=p).iloc[0]
    above = sig.pairwise_tests({("d", 1): {"a": x, "b": x + 30}}, alpha=p * 1.01).iloc[0]
    assert not at["significant"] and at["better"] == ""
    assert above["significant"] and above["better"] == "b"


def test_no_difference_leaves_better_empty():
    row = sig.pairwise_tests({("d", 1): {"a": [1.0, 2.0, 3.0], "b": [1.5, 2.5, 3.5]}}).iloc[0]
    # a beats b in 3 of the 9 pairs (2 > 1.5, 3 > 1.5, 3 > 2.5)
    assert row["a12"] == pytest.approx(1 / 3) and row["effect"] == "medium"
    assert not row["significant"] and row["better"] == ""


def test_the_table_is_reproducible_from_its_seed_and_the_seed_matters():
    samples = {("d", 5): {"a": np.random.default_rng(5).normal(size=20), "b": np.ones(3)}}
    one = sig.pairwise_tests(samples, seed=11)
    pd.testing.assert_frame_equal(one, sig.pairwise_tests(samples, seed=11))
    other = sig.pairwise_tests(samples, seed=12)
    assert one["ci_low_a"].iloc[0] != other["ci_low_a"].iloc[0]
    assert one["ci_low_b"].iloc[0] == other["ci_low_b"].iloc[0] == 1.0


def test_the_table_does_not_depend_on_the_order_samples_are_given_in():
    rng = np.random.default_rng(6)
    per_alg = {n: rng.normal(size=15) + i for i, n in enumerate("cab")}
    forward = sig.pairwise_tests({("d", 3): per_alg})
    backward = sig.pairwise_tests({("d", 3): dict(reversed(per_alg.items()))})
    pd.testing.assert_frame_equal(forward, backward)
    assert list(zip(forward["algorithm_a"], forward["algorithm_b"], strict=True)) == [
        ("a", "b"), ("a", "c"), ("b", "c")]


def test_missing_runs_are_dropped_before_the_means_and_no_warning_for_an_empty_side():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        row = sig.pairwise_tests({("d", 5): {"a": [np.nan, np.nan], "b": [1.0, np.nan, 3.0]}}
                                 ).iloc[0]
        flipped = sig.pairwise_tests({("d", 5): {"a": [1.0, 3.0], "b": []}}).iloc[0]
    assert flipped["mean_a"] == 2.0 and np.isnan(flipped["mean_b"]) and flipped["n_b"] == 0
    assert (row["n_a"], row["n_b"], row["mean_b"]) == (0, 2, 2.0)
    assert np.isnan(row["mean_a"]) and np.isnan(row["ci_low_a"]) and np.isnan(row["p_value"])
    assert row["better"] == "" and row["effect"] == "" and row["note"] == sig.NOTE_EMPTY


def test_an_empty_sample_set_gives_the_columns():
    frame = sig.pairwise_tests({})
    assert frame.empty and list(frame.columns) == list(sig.SIGNIFICANCE_COLUMNS)


# -- claims in words ----------------------------------------------------------------------------

def _row(**kw):
    return {"algorithm_a": "a", "algorithm_b": "b", "p_holm": 0.01, "a12": 0.8,
            "significant": True, "note": "", **kw}


def test_claim_texts_exactly():
    assert sig.claim(_row()) == ("a > b (Mann-Whitney U, Holm-corrected p = 0.0100, "
                                 "A12 = 0.80, large effect)")
    assert sig.claim(_row(a12=0.1, p_holm=2e-5)) == (
        "b > a (Mann-Whitney U, Holm-corrected p < 0.0001, A12 = 0.90, large effect)")
    assert sig.claim(_row(a12=0.6, p_holm=0.3, significant=False)) == (
        "a vs b: no significant difference at alpha = 0.05 (Mann-Whitney U, "
        "Holm-corrected p = 0.3000, A12 = 0.60)")
    assert sig.claim(_row(a12=0.5, p_holm=1.0, significant=False,
                          note=sig.NOTE_IDENTICAL), alpha=0.1) == (
        "a vs b: no significant difference at alpha = 0.1 (Mann-Whitney U, "
        "Holm-corrected p = 1.0000, A12 = 0.50; identical samples)")
    assert sig.claim(_row(p_holm=np.nan, note=sig.NOTE_EMPTY)) == "a vs b: not tested (no runs)"


def test_claim_of_a_row_without_a_note():
    row = _row(p_holm=0.3, significant=False)
    del row["note"]
    assert sig.claim(row).endswith("A12 = 0.80)")
    assert sig.claim({**row, "note": None}).endswith("A12 = 0.80)")
    assert sig.claim({**row, "p_holm": np.nan}) == "a vs b: not tested ()"
