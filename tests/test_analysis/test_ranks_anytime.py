"""Rankings (Friedman/Nemenyi) and anytime targets (ECDF, AOCC, ERT) on hand-made curves."""

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.metrics import anytime as at
from analysis.metrics import ranks as rk
from analysis.metrics.aggregate import VALUE_COLUMN, StepCurves
from analysis.metrics.references import References


def _curves(per_alg, dataset="cifar10"):
    """StepCurves from {algorithm: runs x budget array}."""
    rows, mats = [], []
    for name in sorted(per_alg):
        m = np.asarray(per_alg[name], dtype=float)
        for r in range(len(m)):
            rows.append({"algorithm": name, "dataset": dataset, "run_id": f"{name}-{r}",
                         "run": r})
        mats.append(m)
    values = np.concatenate(mats)
    return StepCurves(values.shape[1], pd.DataFrame(rows), {VALUE_COLUMN: values})


def test_rank_blocks_best_first_ties_averaged_nan_last():
    v = np.array([[3.0, 1.0], [3.0, np.nan], [1.0, 2.0]])
    np.testing.assert_allclose(rk.rank_blocks(v), [[1.5, 2], [1.5, 3], [3, 1]])


def test_a_consistently_best_algorithm_ranks_first_and_friedman_sees_it():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(20, 10))
    curves = _curves({"good": base + 5, "mid": base + 2.5, "bad": base})
    test = rk.friedman_nemenyi(curves, ["bad", "good", "mid"], ["cifar10"], [5, 10])
    assert test.tested and test.n_blocks == 40
    assert test.mean_ranks.to_dict() == {"bad": 3.0, "good": 1.0, "mid": 2.0}
    assert test.p_value < 1e-10
    assert test.nemenyi.loc["good", "bad"] < 0.05
    assert test.critical_difference == pytest.approx(2.343 * np.sqrt(3 * 4 / (6 * 40)), rel=1e-3)
    assert rk.rank_table(test)["algorithm"].tolist() == ["good", "mid", "bad"]
    over = rk.ranks_over_queries(curves, ["bad", "good", "mid"], ["cifar10"])
    assert len(over) == 30 and set(over["n_blocks"]) == {20}


def test_fewer_than_three_algorithms_says_so_and_does_not_crash():
    curves = _curves({"a": np.ones((3, 4)), "b": np.zeros((3, 4))})
    test = rk.friedman_nemenyi(curves, ["a", "b"], ["cifar10"], [4])
    assert not test.tested and "fewer than three" in test.note
    assert test.mean_ranks.to_dict() == {"a": 1.0, "b": 2.0}


def test_all_tied_blocks_give_p_one_without_warning():
    curves = _curves({n: np.ones((4, 3)) for n in "abc"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        test = rk.friedman_nemenyi(curves, ["a", "b", "c"], ["cifar10"], [3])
    assert test.p_value == 1.0 and (test.mean_ranks == 2.0).all()


def test_only_common_run_indices_form_blocks():
    curves = _curves({"a": np.ones((3, 2)), "b": np.zeros((2, 2)), "c": np.zeros((5, 2))})
    values, runs = rk.aligned(curves, "cifar10", ["a", "b", "c"])
    assert values.shape == (3, 2, 2) and runs.tolist() == [0, 1]


REF = References("cifar10", 1.0, 10, 0, 90.0, 90.0, 0, 91.0, (0,))


def test_hitting_times_ecdf_aocc_and_ert_by_hand():
    values = np.array([[np.nan, 85.0, 88.0, 90.0],
                       [80.0, 80.0, 80.0, 80.0]])
    times = at.hitting_times(values, np.array([90.0, 85.0, 80.0]))
    np.testing.assert_array_equal(times, [[4, 2, 2], [np.inf, np.inf, 1]])
    curve = at.ecdf(times, 4)
    np.testing.assert_allclose(curve, [1 / 6, 3 / 6, 3 / 6, 4 / 6])
    assert at.aocc(np.ones(4)) == pytest.approx(1.0) and at.aocc(np.zeros(4)) == 0.0
    # COCO ERT: (4 + 4 spent by the failing run) / 1 success; target 80: (2 + 1) / 2
    assert at.ert(times[:, 0], np.array([4.0, 4.0])) == 8.0
    assert at.ert(times[:, 2], np.array([4.0, 4.0])) == 1.5
    assert at.ert(np.array([np.inf]), np.array([4.0])) == np.inf


def test_anytime_tables_on_curves():
    curves = _curves({"a": [[85.0, 90.0], [85.0, 85.0]], "b": [[80.0, 80.0], [80.0, 80.0]]})
    per_target, areas, ecdf = at.anytime(curves, {"cifar10": REF}, {"cifar10": 10.0},
                                         n_targets=3)
    a = per_target[per_target["algorithm"] == "a"].set_index("target_regret")
    assert a.loc[0.0, "success_rate"] == 0.5 and a.loc[0.0, "ert"] == 4.0  # (2 + 2) / 1
    assert a.loc[5.0, "success_rate"] == 1.0 and a.loc[5.0, "ert"] == 1.0
    assert list(per_target.columns[:3]) == ["dataset", "algorithm", "target_regret"]
    aocc = areas.set_index("algorithm")["aocc"]
    assert aocc["a"] > aocc["b"] > 0
    assert len(ecdf) == 4 and ecdf["fraction"].max() <= 1.0
