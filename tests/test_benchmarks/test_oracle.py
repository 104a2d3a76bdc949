"""The oracle charges one unit per query, flags duplicates and hides test accuracy."""

import numpy as np
import pytest

from nas_harness.benchmarks import oracle as oracle_module
from nas_harness.benchmarks.errors import (
    BudgetExhaustedError,
    DataIntegrityError,
    InvalidArchitectureError,
    ProtocolError,
    UnknownNameError,
)
from nas_harness.benchmarks.oracle import Oracle, _PerTable, _python_columns
from nas_harness.benchmarks.protocol import Protocol, SearchContext
from nas_harness.benchmarks.space import SSS, SearchSpace
from nas_harness.benchmarks.table import DatasetTable


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
    for edge in (SSS.size, -1):  # one past the last index, on both routes
        with pytest.raises(InvalidArchitectureError, match=f"index {edge} is outside 0..32767"):
            oracle.query(edge)
        with pytest.raises(InvalidArchitectureError, match=f"index {edge} is outside 0..32767"):
            oracle.evaluate([edge])
    assert oracle.query(SSS.size - 1) == oracle.table.valid_acc[-1]
    assert oracle.query(0) == oracle.table.valid_acc[0]
    assert oracle.used == 2
    oracle = Oracle(synthetic_table(), Protocol("cifar10", budget=3))
    with pytest.raises(TypeError):
        oracle.query(1.5)
    assert oracle.used == 0 and len(oracle.log.index) == 0


def test_hp12_scalar_query_uses_the_rng_path():
    table = synthetic_table(hp12=True)
    oracle = Oracle(table, Protocol("cifar10", budget=2, fidelity="12"),
                    rng=np.random.default_rng(3))
    assert oracle.query(7) in set(table.hp12_valid_acc[7])


def test_hp12_draws_every_available_seed_uniformly():
    """Over many draws every seed is read -- the first one included -- about equally often.

    Written against behaviour, not the call: whichever way the oracle draws "one seed among
    those available", an hp=12 query must be able to read seed 777 (column 0).
    """
    table = synthetic_table(hp12=True)
    n = 3000
    oracle = Oracle(table, Protocol("cifar10", budget=n, fidelity="12"),
                    rng=np.random.default_rng(11))
    acc = oracle.evaluate(np.full(n, 7))
    row = table.hp12_valid_acc[7]
    assert len(set(row.tolist())) == 3  # the three seeds are told apart by their value
    seed_of = {float(v): s for s, v in enumerate(row)}
    counts = np.bincount([seed_of[float(a)] for a in acc], minlength=3)
    assert counts.sum() == n and (counts > 0).all()
    # uniform: each share within 5 points of 1/3 (the standard error is 0.9 points)
    np.testing.assert_allclose(counts / n, 1 / 3, atol=0.05)
    # the scalar route reads seed 0 too
    single = Oracle(table, Protocol("cifar10", budget=300, fidelity="12"),
                    rng=np.random.default_rng(12))
    assert row[0] in {single.query(7) for _ in range(300)}


def _partial_table() -> DatasetTable:
    table = synthetic_table()
    available = np.ones(SSS.size, dtype=bool)
    available[[5, 6]] = False
    return DatasetTable(table.dataset, table.valid_acc, table.test_acc, table.params,
                        table.flops, available)


def test_partial_table_refuses_architectures_without_data_and_charges_nothing():
    table = _partial_table()
    assert not table.is_complete
    oracle = Oracle(table, Protocol("cifar10", budget=10))
    # architectures with data are answered as usual, on both routes
    np.testing.assert_array_equal(oracle.evaluate([2, 3]), table.valid_acc[[2, 3]])
    assert oracle.query(4) == table.valid_acc[4]
    # the first missing one of the batch is named, index and channels
    with pytest.raises(DataIntegrityError,
                       match=r"^architecture 5 \(8:8:8:8:48\) has no data in this \(partial\)"):
        oracle.evaluate([2, 5, 6])
    with pytest.raises(DataIntegrityError, match=r"architecture 6 \(8:8:8:8:56\)"):
        oracle.query(6)
    assert oracle.used == 3 and oracle.log.index.tolist() == [2, 3, 4]


def test_column_cache_is_per_table():
    a, b = synthetic_table(), synthetic_table(hp12=True)
    cols = _python_columns(a)
    assert _python_columns(a) is cols  # built once per table
    assert cols.valid_acc == a.valid_acc.tolist() and cols.flops == a.flops.tolist()
    fresh = _python_columns(b)
    assert fresh is not cols and fresh.valid_acc == b.valid_acc.tolist()
    assert _python_columns(b) is fresh


def test_per_table_memo_is_bounded_and_drops_the_oldest():
    memo = _PerTable(2)
    tables = [synthetic_table() for _ in range(3)]
    made = []

    def make(k):
        return lambda: made.append(k) or k

    assert [memo.get(t, "x", make(k)) for k, t in enumerate(tables)] == [0, 1, 2]
    assert len(memo) == 2 and made == [0, 1, 2]
    assert memo.get(tables[2], "x", make(9)) == 2          # kept
    assert memo.get(tables[1], "x", make(9)) == 1
    assert memo.get(tables[1], "y", make(7)) == 7          # another key of the same table
    assert memo.get(tables[0], "x", make(8)) == 8          # dropped first, so made again
    assert len(memo) == 2 and made == [0, 1, 2, 7, 8]


def test_the_oracles_memos_stay_bounded_over_many_tables():
    for _ in range(20):
        Oracle(synthetic_table(), Protocol("cifar10", budget=1)).query(0)
    assert len(oracle_module._COLUMNS) <= 8 and len(oracle_module._CONTEXTS) <= 16


def test_scalar_query_flags_duplicates_and_feasibility_at_the_boundary():
    table = synthetic_table()
    limit = 0.5 * table.flops.max()
    at_limit = int(np.flatnonzero(table.flops == limit)[0])  # exactly on the constraint
    over = int(np.flatnonzero(table.flops > limit)[0])
    fast = Oracle(table, Protocol("cifar10", budget=6))
    slow = Oracle(table, Protocol("cifar10", budget=6))
    for i in (3, 3, at_limit, over, 3):
        fast.query(i)
        slow.evaluate([i])
    for log in (fast.log, slow.log):
        assert log.duplicate.tolist() == [False, True, False, False, True]
        assert log.feasible.tolist() == [True, True, True, False, True]
    fast.query(0)
    with pytest.raises(BudgetExhaustedError, match="1 query asked but only 0 of 6 remain"):
        fast.query(1)


def test_pairs_in_one_batch_are_duplicates():
    oracle = Oracle(synthetic_table(), Protocol("cifar10", budget=4))
    oracle.evaluate([5, 5])
    oracle.evaluate([6])
    assert oracle.log.duplicate.tolist() == [False, True, False]


def test_query_log_keeps_types_and_values_across_routes():
    table = synthetic_table()
    oracle = Oracle(table, Protocol("cifar10", budget=5))
    oracle.query(9)
    oracle.evaluate([8, 9])
    oracle.query(32767)
    log = oracle.log
    assert log.index.dtype == np.int64 and log.valid_acc.dtype == np.float64
    assert log.feasible.dtype == bool and log.duplicate.dtype == bool
    np.testing.assert_array_equal(log.valid_acc, table.valid_acc[[9, 8, 9, 32767]])
    assert Oracle(table, Protocol("cifar10", budget=1)).log.index.tolist() == []


def test_the_context_uses_the_oracles_space():
    space = SearchSpace(options=((8, 16), (8, 16)))
    n = space.size
    table = DatasetTable("cifar10", np.arange(n, dtype=float), np.arange(n, dtype=float),
                         np.arange(n, dtype=np.int64), np.arange(1.0, n + 1), np.ones(n, bool))
    oracle = Oracle(table, Protocol("cifar10", budget=2), space=space)
    assert oracle.context.space is space and oracle.space is space
    assert oracle.evaluate([3]).tolist() == [3.0]


def _timed_table(acc_nan=(), time_nan=()) -> DatasetTable:
    """hp=12 accuracies and times of 10 s per query; chosen rows lose all seeds."""
    base = synthetic_table(hp12=True)
    acc = base.hp12_valid_acc.copy()
    time = np.full((SSS.size, 3), 10.0)
    for i in acc_nan:
        acc[i] = np.nan
        time[i] = np.nan
    for i in time_nan:
        time[i] = np.nan
    return DatasetTable(base.dataset, base.valid_acc, base.test_acc, base.params, base.flops,
                        base.available, hp12_valid_acc=acc, hp12_time=time)


def test_hp12_refuses_an_architecture_without_any_seed_and_names_it():
    oracle = Oracle(_timed_table(acc_nan=(5, 6)), Protocol("cifar10", budget=9, fidelity="12"),
                    rng=np.random.default_rng(0))
    assert len(oracle.evaluate([2, 3])) == 2  # others are answered
    with pytest.raises(DataIntegrityError, match=r"^architecture 5 \(8:8:8:8:48\) has no hp=12 "
                                                 r"result on cifar10"):
        oracle.evaluate([2, 5, 6])
    assert oracle.used == 2


def test_time_budget_refuses_a_missing_training_time_and_names_it():
    protocol = Protocol("cifar10", budget=100, fidelity="12", budget_seconds=1000.0)
    oracle = Oracle(_timed_table(time_nan=(5, 6)), protocol, rng=np.random.default_rng(0))
    with pytest.raises(DataIntegrityError, match=r"^architecture 5 \(8:8:8:8:48\) has an hp=12 "
                                                 r"accuracy but no training time on cifar10"):
        oracle.evaluate([2, 5, 6])
    assert oracle.used == 0


def test_a_query_ending_exactly_on_the_time_budget_is_charged():
    protocol = Protocol("cifar10", budget=9, fidelity="12", budget_seconds=30.0)
    oracle = Oracle(_timed_table(), protocol, rng=np.random.default_rng(0))
    assert len(oracle.evaluate([1, 2, 3])) == 3  # 10 + 10 + 10 == 30: all fit
    assert oracle.elapsed == 30.0 and oracle.log.elapsed.tolist() == [10.0, 20.0, 30.0]
    with pytest.raises(BudgetExhaustedError,
                       match="the next query would overrun the time budget of 30 simulated"):
        oracle.query(4)
    assert oracle.used == 3 and oracle.remaining == 0
    # a batch that overruns keeps the prefix ending exactly on the budget (10 + 10 == 20)
    short = Oracle(_timed_table(), Protocol("cifar10", budget=9, fidelity="12",
                                            budget_seconds=20.0), rng=np.random.default_rng(0))
    assert len(short.evaluate([1, 2, 3])) == 2 and short.log.elapsed.tolist() == [10.0, 20.0]


def test_untimed_queries_log_a_float_nan_clock_on_both_routes():
    oracle = Oracle(synthetic_table(), Protocol("cifar10", budget=4))
    oracle.query(1)
    oracle.evaluate([2, 3])
    elapsed = oracle.log.elapsed
    assert elapsed.dtype == np.float64 and np.isnan(elapsed).all() and len(elapsed) == 3
