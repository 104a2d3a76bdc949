"""run_search: the ask/tell loop against an oracle, with a scripted algorithm (synthetic table).

A scripted algorithm proposes what the test says and records what it is told, so the loop's
budget, batches, conversions and contract errors are checked by value.
"""

from __future__ import annotations

import numpy as np
import pytest
from sweep_fixtures import synthetic_table

from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.search_loop import AlgorithmContractError, run_search
from nas_harness.benchmarks.oracle import Oracle
from nas_harness.benchmarks.protocol import Protocol

TABLE = synthetic_table()["cifar10"]


class Scripted(Algorithm):
    """Proposes each item of ``script`` in turn (whatever its type); records every call."""

    name = "scripted"

    def __init__(self, context, rng, params=None, script=()):
        super().__init__(context, rng, params)
        self.script = list(script)
        self.max_batches: list[int] = []
        self.told: list[tuple[list[int], list[float]]] = []

    def ask(self, max_batch):
        self.max_batches.append(max_batch)
        return self.script.pop(0) if self.script else np.empty(0, np.int64)

    def tell(self, indices, valid_acc):
        assert type(indices) is np.ndarray and indices.dtype == np.int64
        self.told.append((indices.tolist(), np.asarray(valid_acc).tolist()))


def _run(script, budget=6):
    oracle = Oracle(TABLE, Protocol("cifar10", budget=budget, max_flops_fraction=None))
    algo = Scripted(oracle.context, np.random.default_rng(0), script=script)
    return algo, run_search(algo, oracle)


def test_batches_and_single_proposals_are_charged_and_told_the_validation_accuracy():
    algo, log = _run([np.array([3, 4, 5]), np.array([9]), np.array([3, 1])])
    assert log.index.tolist() == [3, 4, 5, 9, 3, 1]
    assert algo.told == [([3, 4, 5], TABLE.valid_acc[[3, 4, 5]].tolist()),
                         ([9], [TABLE.valid_acc[9]]),
                         ([3, 1], TABLE.valid_acc[[3, 1]].tolist())]
    assert log.valid_acc.tolist() == TABLE.valid_acc[[3, 4, 5, 9, 3, 1]].tolist()
    assert log.duplicate.tolist() == [False, False, False, False, True, False]
    # max_batch is what is left of the budget, and the loop stops when nothing is left
    assert algo.max_batches == [6, 3, 2]


def test_the_loop_stops_when_ask_returns_nothing():
    algo, log = _run([np.array([2]), np.empty(0, np.int64), np.array([7])])
    assert log.index.tolist() == [2] and algo.told == [([2], [TABLE.valid_acc[2]])]
    assert algo.max_batches == [6, 5]
    with pytest.raises(AlgorithmContractError, match="proposed no architecture before its "
                                                     "first query"):
        _run([[]])  # nothing at all: a run that measured nothing is an error, not a result


def test_lists_and_other_integer_types_are_converted_to_int64():
    algo, log = _run([[1, 2], np.array([3], dtype=np.int32), np.array([4, 5], dtype=np.uint16),
                      (6,)])
    assert log.index.tolist() == [1, 2, 3, 4, 5, 6]
    assert [t[0] for t in algo.told] == [[1, 2], [3], [4, 5], [6]]


def test_more_proposals_than_max_batch_is_a_contract_error_naming_both_numbers():
    with pytest.raises(AlgorithmContractError) as exc:
        _run([np.array([1, 2]), np.array([3, 4, 5, 6, 7])])
    assert str(exc.value) == "Scripted.ask proposed 5 architectures but max_batch was 4"
    with pytest.raises(AlgorithmContractError, match="proposed 3 architectures but max_batch "
                                                     "was 2"):
        _run([[1, 2, 3]], budget=2)


@pytest.mark.parametrize(("answer", "shape", "dtype"), [
    (np.array([1.0, 2.0]), "(2,)", "float64"),
    (np.array([[1, 2]]), "(1, 2)", "int64"),
    (np.array(["1"]), "(1,)", "<U1"),
    (np.array([True, False]), "(2,)", "bool"),
])
def test_anything_but_a_1d_integer_array_is_a_contract_error(answer, shape, dtype):
    with pytest.raises(AlgorithmContractError) as exc:
        _run([answer])
    assert str(exc.value) == (f"Scripted.ask must return a 1-D integer array of architecture "
                              f"indices, got shape {shape} dtype {dtype}")


def test_exactly_the_budget_is_spent_one_by_one():
    algo, log = _run([np.array([i]) for i in range(10)], budget=4)
    assert log.index.tolist() == [0, 1, 2, 3]
    assert algo.max_batches == [4, 3, 2, 1]
    assert [t[0] for t in algo.told] == [[0], [1], [2], [3]]


def test_single_and_batched_queries_give_the_same_log():
    _, one = _run([np.array([i]) for i in (5, 8, 5, 2)], budget=4)
    _, batch = _run([np.array([5, 8, 5, 2])], budget=4)
    for field in ("index", "valid_acc", "feasible", "duplicate"):
        np.testing.assert_array_equal(getattr(one, field), getattr(batch, field))


def _timed_oracle(seconds, budget=100):
    """hp=12 with every query taking 10 simulated seconds (synthetic times)."""
    from dataclasses import replace

    n = TABLE.num_archs
    table = replace(TABLE, hp12_valid_acc=np.tile(TABLE.valid_acc[:, None], (1, 3)),
                    hp12_time=np.full((n, 3), 10.0))
    protocol = Protocol("cifar10", budget=budget, fidelity="12", budget_seconds=seconds,
                        max_flops_fraction=None)
    return Oracle(table, protocol, rng=np.random.default_rng(0))


def test_under_a_time_budget_proposals_come_one_by_one_until_the_clock_ends():
    oracle = _timed_oracle(35.0)
    algo = Scripted(oracle.context, np.random.default_rng(0),
                    script=[np.array([i]) for i in (4, 5, 6, 7, 8)])
    log = run_search(algo, oracle)
    assert log is not None and log.index.tolist() == [4, 5, 6]
    assert log.elapsed.tolist() == [10.0, 20.0, 30.0]
    # max_batch is 1 under a time budget; the fourth query would pass 35 s: not told
    assert algo.max_batches == [1, 1, 1, 1]
    assert [t[0] for t in algo.told] == [[4], [5], [6]]
    assert algo.told[0][1] == [TABLE.valid_acc[4]]

