"""Rankings (mean ranks, Friedman, Nemenyi) on hand-made curves with answers worked by hand.

Independent routes: Friedman's textbook formula without ties, 12 / (n k (k + 1)) sum R_j^2 -
3 n (k + 1), with its chi-square(k - 1) tail (exp(-x / 2) for k = 3); Demsar's (2006) table of
q_alpha (k = 3: 2.343 at 0.05, 2.052 at 0.10); the Nemenyi p-value from the studentized range
distribution directly; invariance to run order and to relabelling the algorithms.
"""

import contextlib
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from nas_harness.analysis.metrics import ranks as rk
from nas_harness.analysis.metrics.aggregate import VALUE_COLUMN, StepCurves

Q05_K3, Q10_K3 = 2.343, 2.052  # Demsar 2006, Table 5(a) and 5(b), k = 3


def _curves(per_alg, dataset="cifar10", runs=None, extra=None):
    """StepCurves from {algorithm: runs x budget array} (optionally run indices, columns).

    ``per_alg`` may map to {dataset: array} for several datasets; ``extra`` maps a column
    name to another {algorithm: array} of the same shapes.
    """
    rows, mats, others = [], [], {name: [] for name in (extra or {})}
    for name in sorted(per_alg):
        by_ds = per_alg[name] if isinstance(per_alg[name], dict) else {dataset: per_alg[name]}
        for ds in sorted(by_ds):
            m = np.asarray(by_ds[ds], dtype=float)
            index = (runs or {}).get(name, range(len(m)))
            for r in index:
                rows.append({"algorithm": name, "dataset": ds, "run_id": f"{ds}/{name}/{r}",
                             "run": r})
            mats.append(m)
            for col in others:
                others[col].append(np.asarray(extra[col][name], dtype=float))
    values = {VALUE_COLUMN: np.concatenate(mats)}
    values.update({col: np.concatenate(parts) for col, parts in others.items()})
    return StepCurves(values[VALUE_COLUMN].shape[1], pd.DataFrame(rows), values)


@contextlib.contextmanager
def _no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# -- ranking blocks -----------------------------------------------------------------------------

def test_rank_blocks_best_first_ties_averaged_nan_last():
    v = np.array([[3.0, 1.0], [3.0, np.nan], [1.0, 2.0]])
    np.testing.assert_allclose(rk.rank_blocks(v), [[1.5, 2], [1.5, 3], [3, 1]])


def test_only_common_run_indices_form_blocks():
    curves = _curves({"a": np.ones((3, 2)), "b": np.zeros((2, 2)), "c": np.zeros((5, 2))})
    values, runs = rk.aligned(curves, "cifar10", ["a", "b", "c"])
    assert values.shape == (3, 2, 2) and runs.tolist() == [0, 1]


def test_aligned_matches_runs_by_their_index_not_their_position():
    a = np.array([[3.0], [5.0], [7.0]])  # run indices 3, 5, 7
    b = np.array([[50.0], [70.0], [90.0]])  # run indices 5, 7, 9
    curves = _curves({"a": a, "b": b}, runs={"a": [3, 5, 7], "b": [5, 7, 9]})
    values, runs = rk.aligned(curves, "cifar10", ["b", "a"])
    assert runs.tolist() == [5, 7] and runs.dtype == np.int64
    np.testing.assert_array_equal(values[:, :, 0], [[50.0, 70.0], [5.0, 7.0]])


def test_aligned_without_common_runs_or_algorithms():
    curves = _curves({"a": np.ones((2, 4)), "b": np.ones((2, 4))}, runs={"a": [0, 1],
                                                                          "b": [2, 3]})
    for names, dataset in ((["a", "b"], "cifar10"), (["a", "b"], "cifar100"), ([], "cifar10")):
        values, runs = rk.aligned(curves, dataset, names)
        assert values.shape == (len(names), 0, 4)
        assert runs.shape == (0,) and runs.dtype == np.int64


def test_aligned_reads_the_column_asked_for():
    curves = _curves({"a": [[1.0, 2.0]], "b": [[3.0, 4.0]]},
                     extra={"other": {"a": [[10.0, 20.0]], "b": [[30.0, 40.0]]}})
    values, _ = rk.aligned(curves, "cifar10", ["a", "b"], column="other")
    np.testing.assert_array_equal(values[:, 0, :], [[10.0, 20.0], [30.0, 40.0]])


def _three():
    """Three algorithms, two runs, three queries; the order changes with the query."""
    return _curves({
        "a": [[3.0, 1.0, 2.0], [3.0, 1.0, 2.0]],
        "b": [[2.0, 2.0, 3.0], [2.0, 2.0, 3.0]],
        "c": [[1.0, 3.0, 1.0], [1.0, 3.5, 1.0]],
    })


def test_block_matrix_takes_each_checkpoints_column():
    curves = _three()
    np.testing.assert_array_equal(rk.block_matrix(curves, ["a", "b", "c"], ["cifar10"], [1]),
                                  [[3.0, 2.0, 1.0], [3.0, 2.0, 1.0]])
    np.testing.assert_array_equal(
        rk.block_matrix(curves, ["c", "a"], ["cifar10"], [2, 3]),
        [[3.0, 1.0], [3.5, 1.0], [1.0, 2.0], [1.0, 2.0]])


def test_block_matrix_skips_checkpoints_outside_the_budget_and_missing_datasets():
    curves = _three()
    for checkpoints, datasets in (([0, 4, -1], ["cifar10"]), ([1, 2], ["cifar100"]),
                                  ([], ["cifar10"])):
        matrix = rk.block_matrix(curves, ["a", "b", "c"], datasets, checkpoints)
        assert matrix.shape == (0, 3)
    assert rk.block_matrix(curves, ["a", "b", "c"], ["cifar10"], [0, 3, 4]).shape == (2, 3)


def test_block_matrix_reads_the_column_asked_for():
    curves = _curves({"a": [[1.0]], "b": [[2.0]]}, extra={"x": {"a": [[9.0]], "b": [[8.0]]}})
    np.testing.assert_array_equal(rk.block_matrix(curves, ["a", "b"], ["cifar10"], [1], "x"),
                                  [[9.0, 8.0]])


# -- Friedman and Nemenyi -----------------------------------------------------------------------

def _consistent(runs=2, budget=2):
    base = np.arange(runs * budget, dtype=float).reshape(runs, budget)
    return _curves({"good": base + 100, "mid": base + 50, "bad": base})


def test_friedman_and_nemenyi_by_hand():
    # 4 blocks, always good > mid > bad: rank sums 4, 8, 12;
    # chi2 = 12 / (4 * 3 * 4) * (16 + 64 + 144) - 3 * 4 * 4 = 8, p = exp(-8 / 2)
    with _no_warnings():
        test = rk.friedman_nemenyi(_consistent(), ["bad", "good", "mid"], ["cifar10"], [1, 2])
    assert test.tested and test.note == "" and test.n_blocks == 4 and test.alpha == 0.05
    assert test.mean_ranks.to_dict() == {"bad": 3.0, "good": 1.0, "mid": 2.0}
    assert test.statistic == pytest.approx(8.0) and isinstance(test.statistic, float)
    assert test.p_value == pytest.approx(np.exp(-4.0))
    # Nemenyi: |mean rank difference| / sqrt(k (k + 1) / (6 N)) = d / sqrt(1/2), times sqrt(2)
    # on the studentized range scale: 2 d
    assert test.nemenyi.loc["good", "bad"] == pytest.approx(
        stats.studentized_range.sf(4.0, 3, np.inf), rel=1e-4)
    assert test.nemenyi.loc["mid", "bad"] == pytest.approx(
        stats.studentized_range.sf(2.0, 3, np.inf), rel=1e-4)
    assert list(test.nemenyi.index) == list(test.nemenyi.columns) == ["bad", "good", "mid"]
    assert (test.nemenyi.dtypes == np.float64).all()
    np.testing.assert_allclose(np.diag(test.nemenyi), 1.0)
    assert test.critical_difference == pytest.approx(Q05_K3 * np.sqrt(0.5), rel=1e-3)


def test_the_level_sets_the_critical_difference():
    test = rk.friedman_nemenyi(_consistent(), ["bad", "good", "mid"], ["cifar10"], [1, 2],
                               alpha=0.1)
    assert test.alpha == 0.1 and test.tested
    assert test.critical_difference == pytest.approx(Q10_K3 * np.sqrt(0.5), rel=1e-3)


def test_two_blocks_are_enough():
    # rank sums 2, 4, 6: chi2 = 12 / (2 * 3 * 4) * 56 - 24 = 4, p = exp(-2)
    test = rk.friedman_nemenyi(_consistent(runs=1), ["good", "mid", "bad"], ["cifar10"], [1, 2])
    assert test.tested and test.n_blocks == 2
    assert test.statistic == pytest.approx(4.0) and test.p_value == pytest.approx(np.exp(-2.0))


def test_one_block_is_not_tested():
    with _no_warnings():
        test = rk.friedman_nemenyi(_consistent(runs=1), ["good", "mid", "bad"], ["cifar10"], [2],
                                   alpha=0.1)
    assert not test.tested and test.note == rk.NOTE_FEW_BLOCKS and test.n_blocks == 1
    assert test.mean_ranks.to_dict() == {"good": 1.0, "mid": 2.0, "bad": 3.0}
    _assert_untested(test, ["good", "mid", "bad"])
    assert test.alpha == 0.1


def _assert_untested(test, names):
    assert np.isnan(test.statistic) and np.isnan(test.p_value)
    assert np.isnan(test.critical_difference)
    assert list(test.nemenyi.index) == list(test.nemenyi.columns) == names
    assert test.nemenyi.isna().all().all() and (test.nemenyi.dtypes == np.float64).all()


def test_no_block_at_all_gives_nan_mean_ranks_without_warning():
    curves = _consistent()
    with _no_warnings():
        test = rk.friedman_nemenyi(curves, ["good", "mid", "bad"], ["cifar10"], [9])
    assert test.n_blocks == 0 and test.note == rk.NOTE_FEW_BLOCKS
    assert list(test.mean_ranks.index) == ["good", "mid", "bad"]
    assert test.mean_ranks.isna().all() and test.mean_ranks.dtype == float
    _assert_untested(test, ["good", "mid", "bad"])


def test_fewer_than_three_algorithms_says_so_and_does_not_crash():
    curves = _curves({"a": np.ones((3, 4)), "b": np.zeros((3, 4))})
    with _no_warnings():
        test = rk.friedman_nemenyi(curves, ["a", "b"], ["cifar10"], [4], alpha=0.01)
    assert not test.tested and test.note == rk.NOTE_FEW and "fewer than three" in test.note
    assert test.mean_ranks.to_dict() == {"a": 1.0, "b": 2.0}
    assert test.n_blocks == 3 and test.alpha == 0.01
    _assert_untested(test, ["a", "b"])


def test_all_tied_blocks_give_p_one_without_warning():
    curves = _curves({n: np.ones((4, 3)) for n in "abc"})
    with _no_warnings():
        test = rk.friedman_nemenyi(curves, ["a", "b", "c"], ["cifar10"], [3], alpha=0.1)
    assert test.tested and test.note == "" and test.n_blocks == 4 and test.alpha == 0.1
    assert test.statistic == 0.0 and test.p_value == 1.0 and (test.mean_ranks == 2.0).all()
    assert list(test.nemenyi.index) == list(test.nemenyi.columns) == ["a", "b", "c"]
    assert (test.nemenyi == 1.0).all().all()
    assert test.critical_difference == pytest.approx(Q10_K3 * np.sqrt(12 / 24), rel=1e-3)


def test_no_incumbent_anywhere_is_a_tie_too():
    curves = _curves({n: np.full((3, 2), np.nan) for n in "abc"})
    with _no_warnings():
        test = rk.friedman_nemenyi(curves, ["a", "b", "c"], ["cifar10"], [1, 2])
    assert test.tested and test.p_value == 1.0 and test.statistic == 0.0
    assert (test.mean_ranks == 2.0).all()


def test_no_incumbent_ties_with_minus_infinity_as_in_the_ranking():
    # rank_blocks ranks "no incumbent" as -inf; the all-tie shortcut must agree
    curves = _curves({"a": np.full((3, 1), np.nan), "b": np.full((3, 1), -np.inf),
                      "c": np.full((3, 1), -np.inf)})
    with _no_warnings():
        test = rk.friedman_nemenyi(curves, ["a", "b", "c"], ["cifar10"], [1])
    assert test.p_value == 1.0 and (test.mean_ranks == 2.0).all()


def test_a_run_without_incumbent_ranks_last_in_the_test():
    curves = _curves({"a": [[np.nan], [np.nan], [np.nan], [np.nan]],
                      "b": [[1.0], [1.0], [1.0], [1.0]], "c": [[2.0], [2.0], [2.0], [2.0]]})
    test = rk.friedman_nemenyi(curves, ["a", "b", "c"], ["cifar10"], [1])
    assert test.mean_ranks.to_dict() == {"a": 3.0, "b": 2.0, "c": 1.0}
    assert test.statistic == pytest.approx(8.0)  # the same as any consistent order


def test_friedman_reads_the_column_asked_for():
    curves = _curves({"a": [[1.0, 1.0]], "b": [[2.0, 2.0]], "c": [[3.0, 3.0]]},
                     extra={"x": {"a": [[3.0, 3.0]], "b": [[2.0, 2.0]], "c": [[1.0, 1.0]]}})
    test = rk.friedman_nemenyi(curves, ["a", "b", "c"], ["cifar10"], [1, 2], column="x")
    assert test.mean_ranks.to_dict() == {"a": 1.0, "b": 2.0, "c": 3.0}


def test_blocks_span_datasets_and_checkpoints():
    per = {"a": {"cifar10": [[1.0, 3.0]], "cifar100": [[3.0, 3.0]]},
           "b": {"cifar10": [[2.0, 2.0]], "cifar100": [[2.0, 2.0]]},
           "c": {"cifar10": [[3.0, 1.0]], "cifar100": [[1.0, 1.0]]}}
    test = rk.friedman_nemenyi(_curves(per), ["a", "b", "c"], ["cifar10", "cifar100"], [1, 2])
    # blocks: (3, 2, 1), (1, 2, 3), (1, 2, 3), (1, 2, 3) as ranks of a, b, c
    assert test.n_blocks == 4
    assert test.mean_ranks.to_dict() == {"a": 1.5, "b": 2.0, "c": 2.5}


@given(st.lists(st.permutations([0, 1, 2, 3]), min_size=2, max_size=6),
       st.permutations(["p", "q", "r", "s"]))
def test_friedman_is_the_textbook_formula_and_ignores_labels(orders, labels):
    # distinct values in every block (no ties): the textbook statistic is exact
    n, k = len(orders), 4
    values = {name: [[float(order[j])] for order in orders] for j, name in enumerate("abcd")}
    curves = _curves(values)
    test = rk.friedman_nemenyi(curves, list("abcd"), ["cifar10"], [1])
    rank_sums = np.array([sum(k - order[j] for order in orders) for j in range(k)])
    expected = 12.0 / (n * k * (k + 1)) * np.sum(rank_sums ** 2) - 3 * n * (k + 1)
    if np.all(rank_sums == rank_sums[0]):
        return
    assert test.statistic == pytest.approx(expected)
    assert test.p_value == pytest.approx(stats.chi2.sf(expected, k - 1))
    np.testing.assert_allclose(test.mean_ranks.to_numpy(), rank_sums / n)
    # relabel the algorithms: the same numbers under the new names
    renamed = _curves({new: values[old] for old, new in zip("abcd", labels, strict=True)})
    again = rk.friedman_nemenyi(renamed, list(labels), ["cifar10"], [1])
    assert again.statistic == pytest.approx(test.statistic)
    np.testing.assert_allclose(again.mean_ranks.to_numpy(), test.mean_ranks.to_numpy())
    np.testing.assert_allclose(again.nemenyi.to_numpy(), test.nemenyi.to_numpy())


def test_run_order_in_the_curves_does_not_matter():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(6, 4))
    curves = _curves({"x": base, "y": base + rng.normal(size=(6, 4)), "z": base + 1})
    order = rng.permutation(len(curves.runs))
    shuffled = StepCurves(curves.budget, curves.runs.iloc[order].reset_index(drop=True),
                          {VALUE_COLUMN: curves[VALUE_COLUMN][order]})
    one = rk.friedman_nemenyi(curves, ["x", "y", "z"], ["cifar10"], [2, 4])
    two = rk.friedman_nemenyi(shuffled, ["x", "y", "z"], ["cifar10"], [2, 4])
    assert one.statistic == two.statistic and one.p_value == two.p_value
    pd.testing.assert_series_equal(one.mean_ranks, two.mean_ranks)


def test_a_consistently_best_algorithm_ranks_first_and_friedman_sees_it():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(20, 10))
    curves = _curves({"good": base + 5, "mid": base + 2.5, "bad": base})
    test = rk.friedman_nemenyi(curves, ["bad", "good", "mid"], ["cifar10"], [5, 10])
    assert test.tested and test.n_blocks == 40
    assert test.mean_ranks.to_dict() == {"bad": 3.0, "good": 1.0, "mid": 2.0}
    assert test.p_value < 1e-10
    assert test.nemenyi.loc["good", "bad"] < 0.05
    assert test.critical_difference == pytest.approx(Q05_K3 * np.sqrt(3 * 4 / (6 * 40)),
                                                     rel=1e-3)
    assert rk.rank_table(test)["algorithm"].tolist() == ["good", "mid", "bad"]


def test_nemenyi_cd_by_demsars_table():
    assert rk.nemenyi_cd(3, 10) == pytest.approx(Q05_K3 * np.sqrt(12 / 60), rel=1e-3)
    assert rk.nemenyi_cd(3, 10, alpha=0.1) == pytest.approx(Q10_K3 * np.sqrt(12 / 60), rel=1e-3)
    assert rk.nemenyi_cd(5, 7) == pytest.approx(2.728 * np.sqrt(30 / 42), rel=1e-3)


# -- tables -------------------------------------------------------------------------------------

def test_rank_table_best_first_ties_by_name():
    test = rk.RankTest(pd.Series({"b": 2.0, "c": 1.5, "a": 2.0}), 7, 1.0, 0.5,
                       pd.DataFrame(), 1.0, 0.05, "")
    expected = pd.DataFrame({"algorithm": ["c", "a", "b"], "mean_rank": [1.5, 2.0, 2.0],
                             "n_blocks": [7, 7, 7]})
    pd.testing.assert_frame_equal(rk.rank_table(test), expected)


def test_ranks_over_queries_by_hand():
    curves = _three()
    over = rk.ranks_over_queries(curves, ["a", "b", "c"], ["cifar10"])
    expected = pd.DataFrame({
        "dataset": ["cifar10"] * 9, "algorithm": list("aaabbbccc"),
        "query": np.array([1, 2, 3] * 3, dtype=np.int64), "n_blocks": [2] * 9,
        "mean_rank": [1.0, 3.0, 2.0, 2.0, 2.0, 1.0, 3.0, 1.0, 3.0]})
    pd.testing.assert_frame_equal(over, expected)


def test_ranks_over_queries_skips_datasets_without_common_runs():
    per = {"a": {"cifar10": [[1.0, 2.0]], "cifar100": [[1.0, 1.0]]},
           "b": {"cifar100": [[2.0, 0.0]]}}
    over = rk.ranks_over_queries(_curves(per), ["a", "b"], ["cifar10", "cifar100"])
    expected = pd.DataFrame({
        "dataset": ["cifar100"] * 4, "algorithm": list("aabb"),
        "query": np.array([1, 2, 1, 2], dtype=np.int64), "n_blocks": [1] * 4,
        "mean_rank": [2.0, 1.0, 1.0, 2.0]})
    pd.testing.assert_frame_equal(over, expected)


def test_ranks_over_queries_reads_the_column_asked_for():
    curves = _curves({"a": [[1.0]], "b": [[2.0]]}, extra={"x": {"a": [[5.0]], "b": [[4.0]]}})
    over = rk.ranks_over_queries(curves, ["a", "b"], ["cifar10"], column="x")
    assert over["mean_rank"].tolist() == [1.0, 2.0]


def test_ranks_over_queries_of_nothing_has_the_columns():
    over = rk.ranks_over_queries(_three(), ["a", "b"], ["cifar100"])
    assert over.empty
    assert list(over.columns) == ["dataset", "algorithm", "query", "n_blocks", "mean_rank"]


def test_rank_table_mean_ranks_are_floats_whatever_they_were_given_as():
    test = rk.RankTest(pd.Series({"a": 2, "b": 1}), 3, 1.0, 0.5, pd.DataFrame(), 1.0, 0.05, "")
    table = rk.rank_table(test)
    assert table["mean_rank"].dtype == np.float64 and table["algorithm"].tolist() == ["b", "a"]
