"""Reference lines from the table and the quality / stability / efficiency criteria."""

import numpy as np
import pandas as pd
import pytest

from analysis.metrics.aggregate import step_curves
from analysis.metrics.criteria import criteria, queries_to_optimum, queries_to_settle
from analysis.metrics.references import references
from analysis.testing import hand_trajectory
from benchmarks.errors import DataIntegrityError
from benchmarks.protocol import Protocol
from benchmarks.table import DatasetTable

NAN = np.nan


def _table(valid, test, flops):
    n = len(valid)
    return DatasetTable("cifar10", np.asarray(valid, float), np.asarray(test, float),
                        np.zeros(n, dtype=np.int64), np.asarray(flops, float),
                        np.ones(n, dtype=bool))


def test_references_respect_the_constraint_and_rank_by_validation():
    # arch 0 is best by validation and test but infeasible (flops 10 > 0.5 * 10)
    table = _table(valid=[99, 80, 85, 85, 70], test=[99, 95, 90, 91, 96],
                   flops=[10, 1, 2, 3, 4])
    ref = references(table, Protocol("cifar10", budget=3))
    assert ref.max_flops == 5.0 and ref.num_feasible == 4
    assert ref.optimal_indices == (2, 3)  # tied validation: both count as the optimum
    assert ref.best_by_valid_index == 2 and ref.best_by_valid_test_acc == 90.0
    assert ref.best_test_index == 4 and ref.best_test_acc == 96.0
    unconstrained = references(table, Protocol("cifar10", budget=3, max_flops_fraction=None))
    assert unconstrained.best_by_valid_index == 0 and unconstrained.best_test_acc == 99.0


def test_queries_to_optimum_and_to_settle():
    index = np.array([[-1, 3, 3, 7, 7], [1, 1, 1, 1, 1]], dtype=float)
    np.testing.assert_array_equal(queries_to_optimum(index, (7, 9)), [4, np.inf])
    values = np.array([[NAN, 90.0, 93.0, 92.95, 93.0],
                       [91.0, 93.0, 91.0, 93.0, 93.05],
                       [NAN, NAN, NAN, NAN, NAN]])
    # first query after which the value stays within 0.1 of the final one
    np.testing.assert_array_equal(queries_to_settle(values), [3, 4, np.inf])


def _curves(values_by_run, index_by_run, algorithm="a"):
    frames = [hand_trajectory(f"cifar10/{algorithm}/{r:03d}", v, index=i, run=r,
                              algorithm=algorithm)
              for r, (v, i) in enumerate(zip(values_by_run, index_by_run, strict=True))]
    return step_curves(pd.concat(frames, ignore_index=True), None,
                       ("incumbent_test_acc", "incumbent_index"))


def test_criteria_on_hand_made_runs():
    table = _table(valid=[50, 60, 70, 80], test=[91, 92, 93, 94], flops=[1, 1, 1, 1])
    ref = references(table, Protocol("cifar10", budget=4, max_flops_fraction=None))
    assert ref.optimal_indices == (3,)
    curves = _curves(
        [[91, 92, 94, 94], [92, 92, 92, 94], [91, 93, 93, 93], [NAN, 91, 91, 91]],
        [[0, 1, 3, 3], [1, 1, 1, 3], [0, 2, 2, 2], [-1, 0, 0, 0]],
    )
    row = criteria(curves, {"cifar10": ref}).iloc[0]
    final = np.array([94, 94, 93, 91.0])
    assert row["n_runs"] == 4 and row["n_final"] == 4
    assert row["final_mean"] == pytest.approx(final.mean())
    assert row["final_std"] == pytest.approx(final.std(ddof=1))
    assert row["final_iqr"] == pytest.approx(np.percentile(final, 75) - np.percentile(final, 25))
    assert row["found_optimum"] == 0.5
    # reached at 3, 4, never, never: the median run never gets there
    assert row["queries_to_optimum"] == np.inf
    # settled at 3, 4, 2, 2 -> median 2.5
    assert row["queries_to_settle"] == 2.5


def test_criteria_median_is_finite_when_most_runs_reach_the_optimum():
    table = _table(valid=[50, 80], test=[91, 94], flops=[1, 1])
    ref = references(table, Protocol("cifar10", budget=3, max_flops_fraction=None))
    curves = _curves([[91, 94, 94], [94, 94, 94], [91, 91, 91]],
                     [[0, 1, 1], [1, 1, 1], [0, 0, 0]])
    row = criteria(curves, {"cifar10": ref}).iloc[0]
    assert row["queries_to_optimum"] == 2.0  # 2, 1, inf
    assert row["found_optimum"] == pytest.approx(2 / 3)


def test_criteria_need_the_index_curves_and_references():
    curves = step_curves(hand_trajectory("cifar10/a/000", [1, 2]))
    with pytest.raises(DataIntegrityError, match="incumbent_index"):
        criteria(curves, {})
    full = step_curves(hand_trajectory("cifar10/a/000", [1, 2]), None,
                       ("incumbent_test_acc", "incumbent_index"))
    with pytest.raises(DataIntegrityError, match="reference"):
        criteria(full, {})
