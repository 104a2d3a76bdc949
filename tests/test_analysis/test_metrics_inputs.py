"""The statistics refuse the inputs under which their answers would mean nothing.

A significance level outside (0, 1) (at alpha >= 1 a pair with A12 = 0.5 and p = 1 would be
"significant" in no direction), a quantile fraction outside [0, 1] or not finite (it would
index outside the sorted values), and a significant comparison claimed at A12 = 0.5.
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from nas_harness.analysis.metrics import ranks as rk
from nas_harness.analysis.metrics import significance as sig
from nas_harness.analysis.metrics.aggregate import VALUE_COLUMN, StepCurves, nan_quantiles

BAD_ALPHAS = [0, 0.0, 1, 1.0, 1.5, -0.05, math.nan, math.inf, True, "0.05", None]


@pytest.mark.parametrize("alpha", [1e-9, 0.05, 0.5, 0.999999, np.float64(0.1)])
def test_check_alpha_returns_a_level_inside_zero_one_as_a_float(alpha):
    got = sig.check_alpha(alpha)
    assert got == float(alpha) and type(got) is float


@pytest.mark.parametrize("alpha", BAD_ALPHAS)
def test_check_alpha_refuses_anything_else_in_one_line_naming_the_range(alpha):
    with pytest.raises(ValueError) as exc:
        sig.check_alpha(alpha)
    message = str(exc.value)
    assert "strictly between 0 and 1" in message and repr(alpha) in message
    assert "\n" not in message


def _samples():
    x = np.arange(8, dtype=float)
    return {("cifar10", 50): {"a": x, "b": x + 30.0}}


@pytest.mark.parametrize("alpha", [1.0, 2.0, 0.0, -1.0])
def test_pairwise_tests_refuse_a_level_outside_zero_one(alpha):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        sig.pairwise_tests(_samples(), alpha=alpha)


def test_pairwise_tests_use_a_level_just_below_one():
    # identical samples: p = 1 is not below 0.999, so nothing is significant at A12 = 0.5
    x = np.arange(6, dtype=float)
    row = sig.pairwise_tests({("c", 1): {"a": x, "b": x.copy()}}, alpha=0.999).iloc[0]
    assert row["a12"] == 0.5 and row["p_holm"] == 1.0
    assert not row["significant"] and row["better"] == ""
    row = sig.pairwise_tests(_samples(), alpha=0.999).iloc[0]
    assert row["significant"] and row["better"] == "b"


def _row(**kw):
    row = {"algorithm_a": "a", "algorithm_b": "b", "p_holm": 0.01, "a12": 0.9,
           "significant": True, "note": ""}
    row.update(kw)
    return row


def test_claim_refuses_a_level_outside_zero_one():
    for alpha in (1.0, 0.0, 5):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            sig.claim(_row(significant=False, p_holm=0.3), alpha=alpha)


def test_claim_refuses_a_significant_row_at_a12_one_half():
    with pytest.raises(ValueError, match=r"A12 = 0\.5") as exc:
        sig.claim(_row(a12=0.5))
    assert "a vs b" in str(exc.value) and "\n" not in str(exc.value)


def test_claim_names_the_direction_on_either_side_of_one_half():
    assert sig.claim(_row(a12=0.51)).startswith("a > b ")
    assert "A12 = 0.51" in sig.claim(_row(a12=0.51))
    assert sig.claim(_row(a12=0.49)).startswith("b > a ")
    assert "A12 = 0.51" in sig.claim(_row(a12=0.49))
    # not significant at A12 = 0.5: said so, with the level given
    text = sig.claim(_row(a12=0.5, p_holm=1.0, significant=False), alpha=0.1)
    assert text.startswith("a vs b: no significant difference at alpha = 0.1 ")


def _curves():
    """Three algorithms, four runs, one query (hand-made values)."""
    per_alg = {"a": [1.0, 2.0, 3.0, 1.0], "b": [2.0, 3.0, 1.0, 3.0], "c": [3.0, 1.0, 2.0, 2.0]}
    runs = pd.DataFrame([{"algorithm": a, "dataset": "cifar10", "run_id": f"{a}/{r}", "run": r}
                         for a in "abc" for r in range(4)])
    values = np.array([v for a in "abc" for v in per_alg[a]])[:, None]
    return StepCurves(1, runs, {VALUE_COLUMN: values})


@pytest.mark.parametrize("alpha", [1.0, 0.0, 1.2])
def test_ranks_refuse_a_level_outside_zero_one(alpha):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        rk.nemenyi_cd(3, 10, alpha)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        rk.friedman_nemenyi(_curves(), ["a", "b", "c"], ["cifar10"], [1], alpha=alpha)


def test_ranks_keep_a_valid_level():
    test = rk.friedman_nemenyi(_curves(), ["a", "b", "c"], ["cifar10"], [1], alpha=0.1)
    assert test.alpha == 0.1 and test.critical_difference == pytest.approx(rk.nemenyi_cd(3, 4, 0.1))


@pytest.mark.parametrize("q", [-0.01, 1.01, math.nan, math.inf, -math.inf, 2])
def test_nan_quantiles_refuse_a_fraction_outside_zero_one(q):
    with pytest.raises(ValueError) as exc:
        nan_quantiles(np.ones((3, 2)), (0.5, q))
    assert "between 0 and 1" in str(exc.value) and repr(q) in str(exc.value)


def test_nan_quantiles_at_the_ends_are_the_extremes():
    m = np.array([[3.0, np.nan], [1.0, 7.0], [2.0, 5.0]])
    np.testing.assert_array_equal(nan_quantiles(m, (0, 1)), [[1.0, 5.0], [3.0, 7.0]])


def test_nan_quantiles_of_infinite_values_are_exact_where_neighbours_are_equal():
    # a + frac * (b - a) with frac = 0 and a = b = inf would be NaN (inf - inf); the value is
    # taken as it is instead, as numpy's own median of these values does
    m = np.array([[1.0, -np.inf], [np.inf, -np.inf], [np.inf, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = nan_quantiles(m, (0.0, 0.5, 1.0))
    np.testing.assert_array_equal(got, [[1.0, -np.inf], [np.inf, -np.inf], [np.inf, 0.0]])
    assert np.median(m[:, 0]) == np.inf and np.median(m[:, 1]) == -np.inf
