"""Incumbents: best validation among feasible queries, ties keep the earlier one."""

import numpy as np

from benchmarks.records import incumbents


def test_incumbent_ignores_infeasible_and_keeps_earlier_on_ties():
    inc = incumbents(
        index=np.array([5, 6, 7, 8, 9, 10]),
        valid_acc=np.array([99.0, 3.0, 3.0, 50.0, 10.0, 10.0]),
        feasible=np.array([False, True, True, False, True, True]),
    )
    assert inc.index.tolist() == [-1, 6, 6, 6, 9, 9]
    assert np.isnan(inc.valid_acc[0])
    assert inc.valid_acc[1:].tolist() == [3.0, 3.0, 3.0, 10.0, 10.0]


def test_incumbent_changes_at_the_last_query():
    inc = incumbents(np.arange(4), np.array([1.0, 2.0, 2.0, 5.0]), np.ones(4, dtype=bool))
    assert inc.index.tolist() == [0, 1, 1, 3]


def test_empty_log():
    inc = incumbents(np.array([], dtype=np.int64), np.array([]), np.array([], dtype=bool))
    assert len(inc.index) == 0
