"""run_search at its edges: a run with no query, and proxy reads that use up the budget.

The table is synthetic (``sweep_fixtures.synthetic_table``); proxies here are made-up scores.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sweep_fixtures import synthetic_table

from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.search_loop import AlgorithmContractError, run_search
from nas_harness.benchmarks.errors import ProtocolError
from nas_harness.benchmarks.oracle import Oracle
from nas_harness.benchmarks.protocol import Protocol

TABLE = synthetic_table()["cifar10"]
SCORES = {"ntk": np.arange(TABLE.num_archs, dtype=float)}


class Reader(Algorithm):
    """Each step reads ``reads[i]`` proxy scores (charged), then proposes ``proposals[i]``."""

    name = "reader"

    def __init__(self, context, rng, params=None, steps=()):
        super().__init__(context, rng, params)
        self.steps = list(steps)
        self.told: list[list[int]] = []

    def ask(self, max_batch):
        if not self.steps:
            return np.empty(0, np.int64)
        reads, proposals = self.steps.pop(0)
        if reads:
            self.context.signal("ntk", np.arange(100, 100 + reads))
        return np.asarray(proposals, dtype=np.int64)

    def tell(self, indices, valid_acc):
        self.told.append(indices.tolist())


def _charged(steps, budget=5, cost=1.0):
    protocol = Protocol("cifar10", budget=budget, max_flops_fraction=None,
                        free_signals="ntk", proxy_query_cost=cost)
    oracle = Oracle(TABLE, protocol, signals=SCORES)
    algo = Reader(oracle.context, np.random.default_rng(0), steps=steps)
    return algo, oracle


def test_proposals_beyond_what_the_reads_left_are_cut_to_the_budget():
    algo, oracle = _charged([(4, [1, 2, 3, 4, 5])])    # 4 reads leave 1 of 5 queries
    log = run_search(algo, oracle)
    assert log.index.tolist() == [1] and algo.told == [[1]]
    algo, oracle = _charged([(2, [1, 2, 3, 4, 5])])    # 2 reads leave 3
    assert run_search(algo, oracle).index.tolist() == [1, 2, 3]


def test_reads_that_leave_nothing_end_the_run_with_what_it_queried():
    algo, oracle = _charged([(0, [7, 8]), (3, [1, 2, 3])])  # 2 queries, then 3 reads: none left
    log = run_search(algo, oracle)
    assert log is not None and log.index.tolist() == [7, 8] and algo.told == [[7, 8]]


def test_free_reads_take_nothing_from_the_budget():
    algo, oracle = _charged([(4, [1, 2, 3, 4, 5])], cost=0.0)
    assert run_search(algo, oracle).index.tolist() == [1, 2, 3, 4, 5]


def test_a_run_without_a_query_names_the_algorithm_and_the_fix():
    algo, oracle = _charged([(0, [])])
    with pytest.raises(AlgorithmContractError) as info:
        run_search(algo, oracle)
    assert str(info.value) == (
        "Reader.ask proposed no architecture before its first query, so the run measured "
        "nothing; an algorithm must propose at least one architecture")
    algo, oracle = _charged([(5, [1])])   # the reads used the whole budget before any query
    with pytest.raises(AlgorithmContractError, match=r"^Reader\.ask proposed no architecture"):
        run_search(algo, oracle)


def _timed(seconds):
    n = TABLE.num_archs
    table = replace(TABLE, hp12_valid_acc=np.tile(TABLE.valid_acc[:, None], (1, 3)),
                    hp12_time=np.full((n, 3), 10.0))
    protocol = Protocol("cifar10", budget=100, fidelity="12", budget_seconds=seconds,
                        max_flops_fraction=None)
    return Oracle(table, protocol, rng=np.random.default_rng(0))


def test_a_time_budget_shorter_than_one_query_names_the_budget():
    oracle = _timed(5.0)                 # every query takes 10 simulated seconds
    algo = Reader(oracle.context, np.random.default_rng(0), steps=[(0, [3])])
    with pytest.raises(ProtocolError) as info:
        run_search(algo, oracle)
    assert str(info.value) == (
        "the time budget of 5 simulated seconds ended before Reader's first query finished; "
        "give a larger --budget-seconds")


def test_a_timed_run_whose_algorithm_proposes_nothing_is_the_algorithm_s_fault():
    oracle = _timed(50.0)
    algo = Reader(oracle.context, np.random.default_rng(0), steps=[(0, [])])
    with pytest.raises(AlgorithmContractError, match=r"^Reader\.ask proposed no architecture"):
        run_search(algo, oracle)
