"""The oracle charges one unit per query, flags duplicates and hides test accuracy."""

import numpy as np
import pytest

from benchmarks.errors import (
    BudgetExhaustedError,
    InvalidArchitectureError,
    ProtocolError,
    UnknownNameError,
)
from benchmarks.oracle import Oracle
from benchmarks.protocol import Protocol, SearchContext
from benchmarks.space import SSS
from benchmarks.table import DatasetTable


def synthetic_table(hp12: bool = False) -> DatasetTable:
    rng = np.random.default_rng(0)
    n = SSS.size
    flops = SSS.channels(SSS.all_indices()).sum(axis=1).astype(float)
    return DatasetTable(
        dataset="cifar10",
        valid_acc=rng.uniform(80, 90, n),
        test_acc=rng.uniform(80, 90, n),
        params=np.arange(n, dtype=np.int64),
        flops=flops,
        available=np.ones(n, dtype=bool),
        hp12_valid_acc=rng.uniform(50, 60, (n, 3)) if hp12 else None,
    )


def test_evaluate_charges_and_logs():
    table = synthetic_table()
    oracle = Oracle(table, Protocol("cifar10", budget=5))
    acc = oracle.evaluate([3, 4])
    np.testing.assert_array_equal(acc, table.valid_acc[[3, 4]])
    assert (oracle.used, oracle.remaining) == (2, 3)
    oracle.evaluate(np.array([3, 9, 9]))
    log = oracle.log
    assert log.index.tolist() == [3, 4, 3, 9, 9]
    assert log.duplicate.tolist() == [False, False, True, False, True]
    with pytest.raises(BudgetExhaustedError, match="only 0 of 5 remain"):
        oracle.evaluate(0)


def test_budget_is_all_or_nothing():
    oracle = Oracle(synthetic_table(), Protocol("cifar10", budget=3))
    oracle.evaluate([1, 2])
    with pytest.raises(BudgetExhaustedError):
        oracle.evaluate([5, 6])
    assert oracle.used == 2 and len(oracle.log.index) == 2


def test_cost_is_free_and_feasibility_uses_half_the_largest_model():
    table = synthetic_table()
    oracle = Oracle(table, Protocol("cifar10", budget=1))
    flops, _params = oracle.cost(np.arange(10))
    assert oracle.used == 0
    np.testing.assert_array_equal(flops, table.flops[:10])
    assert oracle.context.max_flops == pytest.approx(0.5 * table.flops.max())
    assert oracle.context.is_feasible(0) and not oracle.context.is_feasible(32767)


def test_context_exposes_no_accuracy():
    ctx = SearchContext.for_protocol(synthetic_table(), Protocol())
    assert not any("acc" in name for name in vars(ctx))


def test_hp12_draws_seeds_from_the_injected_rng():
    table = synthetic_table(hp12=True)
    protocol = Protocol("cifar10", budget=50, fidelity="12")
    a = Oracle(table, protocol, rng=np.random.default_rng(1)).evaluate(np.full(50, 7))
    b = Oracle(table, protocol, rng=np.random.default_rng(1)).evaluate(np.full(50, 7))
    np.testing.assert_array_equal(a, b)
    assert set(a) <= set(table.hp12_valid_acc[7]) and len(set(a)) > 1
    with pytest.raises(ProtocolError, match="rng"):
        Oracle(table, protocol)


def test_protocol_errors():
    with pytest.raises(ProtocolError, match="hp=12"):
        Oracle(synthetic_table(), Protocol(fidelity="12"), rng=np.random.default_rng())
    with pytest.raises(UnknownNameError, match="choose one of"):
        Protocol(dataset="mnist")
    with pytest.raises(UnknownNameError, match="fidelity"):
        Protocol(fidelity="200")
    with pytest.raises(ProtocolError, match="positive integer"):
        Protocol(budget=0)
    with pytest.raises(ProtocolError, match="max_flops_fraction"):
        Protocol(max_flops_fraction=1.5)
    with pytest.raises(ProtocolError, match="no architecture"):
        Oracle(synthetic_table(), Protocol(max_flops_fraction=1e-9))


def test_dataset_aliases_normalise():
    assert Protocol(dataset="imagenet16-120").dataset == "ImageNet16-120"
    assert Protocol(dataset="CIFAR100").dataset == "cifar100"


def test_scalar_query_matches_evaluate_and_interleaves_in_order():
    table = synthetic_table()
    fast = Oracle(table, Protocol("cifar10", budget=6))
    slow = Oracle(table, Protocol("cifar10", budget=6))
    assert fast.query(5) == slow.evaluate(5)[0]
    fast.evaluate([7, 5])
    slow.evaluate([7, 5])
    assert fast.query(np.int64(32767)) == slow.evaluate([32767])[0]
    fast.query(7)
    slow.evaluate(7)
    a, b = fast.log, slow.log
    for field in ("index", "valid_acc", "feasible", "duplicate"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert a.index.tolist() == [5, 7, 5, 32767, 7]
    assert a.duplicate.tolist() == [False, False, True, False, True]
    assert a.feasible.tolist() == [True, True, True, False, True]
    fast.query(1)
    with pytest.raises(BudgetExhaustedError):
        fast.query(2)
    assert fast.used == 6


def test_scalar_query_rejects_bad_indices_without_charging():
    oracle = Oracle(synthetic_table(), Protocol("cifar10", budget=3))
    with pytest.raises(InvalidArchitectureError, match="outside"):
        oracle.query(40000)
    with pytest.raises(TypeError):
        oracle.query(1.5)
    assert oracle.used == 0 and len(oracle.log.index) == 0


def test_hp12_scalar_query_uses_the_rng_path():
    table = synthetic_table(hp12=True)
    oracle = Oracle(table, Protocol("cifar10", budget=2, fidelity="12"),
                    rng=np.random.default_rng(3))
    assert oracle.query(7) in set(table.hp12_valid_acc[7])
