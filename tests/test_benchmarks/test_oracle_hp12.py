"""hp=12 queries draw only seeds that exist; a time budget stops a run at the right query."""

from __future__ import annotations

import numpy as np
import pytest

from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.search_loop import run_search
from nas_harness.benchmarks.errors import BudgetExhaustedError, ProtocolError, UnknownNameError
from nas_harness.benchmarks.oracle import Oracle
from nas_harness.benchmarks.protocol import PRESETS, Protocol, get_preset
from nas_harness.benchmarks.space import SSS
from nas_harness.benchmarks.table import HP12_SEEDS, DatasetTable

N = SSS.size


def hp12_table(missing: float = 0.3, seed: int = 0) -> DatasetTable:
    """Seed k's accuracy is ``10 * k + u`` (so a value names its seed); times per seed."""
    rng = np.random.default_rng(seed)
    acc = 10.0 * np.arange(3)[None, :] + rng.uniform(0, 1, (N, 3))
    drop = rng.random((N, 3)) < missing
    drop[np.arange(N), rng.integers(0, 3, N)] = False  # every architecture keeps a seed
    acc[drop] = np.nan
    time = np.where(drop, np.nan, rng.uniform(50, 150, (N, 1)) + np.arange(3) * 7.0)
    return DatasetTable(
        dataset="cifar10", valid_acc=rng.uniform(80, 90, N), test_acc=rng.uniform(80, 90, N),
        params=np.arange(N, dtype=np.int64),
        flops=SSS.channels(SSS.all_indices()).sum(axis=1).astype(float),
        available=np.ones(N, dtype=bool), hp12_valid_acc=acc, hp12_time=time)


def test_seed_draws_only_present_seeds_and_all_of_them() -> None:
    table = hp12_table()
    protocol = Protocol("cifar10", budget=20_000, fidelity="12", max_flops_fraction=None)
    oracle = Oracle(table, protocol, rng=np.random.default_rng(1))
    idx = np.random.default_rng(2).integers(0, N, 20_000)
    acc = oracle.evaluate(idx)
    assert not np.isnan(acc).any()
    seed_col = np.floor(acc / 10).astype(int)
    assert table.hp12_seeds[idx, seed_col].all()
    # an architecture with exactly one present seed always answers with it
    one = table.hp12_seeds[idx].sum(axis=1) == 1
    assert one.any()
    np.testing.assert_array_equal(seed_col[one], np.argmax(table.hp12_seeds[idx[one]], axis=1))
    # where all three exist, each is drawn about a third of the time
    three = table.hp12_seeds[idx].sum(axis=1) == 3
    share = np.bincount(seed_col[three], minlength=3) / three.sum()
    np.testing.assert_allclose(share, 1 / 3, atol=0.03)


def test_seed_draws_are_reproducible_from_the_oracle_stream() -> None:
    table = hp12_table()
    protocol = Protocol("cifar10", budget=100, fidelity="12")
    a = Oracle(table, protocol, rng=np.random.default_rng(5)).evaluate(np.arange(100))
    b = Oracle(table, protocol, rng=np.random.default_rng(5)).evaluate(np.arange(100))
    c = Oracle(table, protocol, rng=np.random.default_rng(6)).evaluate(np.arange(100))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def _expected_stop(table: DatasetTable, order: np.ndarray, acc: np.ndarray,
                   seconds: float) -> int:
    """How many queries of ``order`` fit, from the seeds their accuracies reveal."""
    seed_col = np.floor(acc / 10).astype(int)
    clock = np.cumsum(table.hp12_time[order[:len(acc)], seed_col])
    assert (clock <= seconds).all()
    return len(acc)


class Fixed(Algorithm):
    """Proposes a fixed sequence, ``batch`` at a time (sequential when 1)."""

    def __init__(self, order: np.ndarray, batch: int) -> None:
        self.order, self.batch, self.pos, self.told = order, batch, 0, 0

    def ask(self, max_batch: int) -> np.ndarray:
        k = min(self.batch, max_batch, len(self.order) - self.pos)
        out = self.order[self.pos:self.pos + k]
        self.pos += k
        return out

    def tell(self, indices: np.ndarray, accuracies: np.ndarray) -> None:
        assert len(indices) == len(accuracies)
        self.told += len(indices)


@pytest.mark.parametrize("batch", [1, 7])
def test_time_budget_stops_before_the_query_that_would_overrun(batch: int) -> None:
    table = hp12_table()
    seconds = 2_000.0
    protocol = Protocol("cifar10", budget=500, fidelity="12", max_flops_fraction=None,
                        budget_seconds=seconds)
    order = np.random.default_rng(3).permutation(N)[:500]
    oracle = Oracle(table, protocol, rng=np.random.default_rng(4))
    if batch == 1:  # the search loop: one proposal at a time under a time budget
        algo = Fixed(order, batch)
        log = run_search(algo, oracle)
        assert algo.told == len(log.index)
    else:  # batches straight to the oracle: it charges the prefix that fits
        for start in range(0, len(order), batch):
            answered = oracle.evaluate(order[start:start + batch])
            if len(answered) < batch:
                break
        log = oracle.log
    k = len(log.index)
    assert 10 < k < 40 and oracle.remaining == 0
    np.testing.assert_array_equal(log.index, order[:k])
    seed_col = np.floor(log.valid_acc / 10).astype(int)
    charged = table.hp12_time[log.index, seed_col]
    np.testing.assert_array_equal(log.elapsed, np.cumsum(charged))
    assert log.elapsed[-1] <= seconds and oracle.elapsed == log.elapsed[-1]
    # the next proposal, with any present seed, would have overrun the budget
    next_times = table.hp12_time[order[k]]
    assert (log.elapsed[-1] + next_times[~np.isnan(next_times)] > seconds).any()
    # the same oracle stream replayed by hand agrees on the stopping query
    replay = Oracle(table, protocol, rng=np.random.default_rng(4))
    answered = [replay.query(int(i)) for i in order[:k]]
    np.testing.assert_array_equal(answered, log.valid_acc)


def test_time_budget_prefix_and_exhaustion() -> None:
    table = hp12_table(missing=0.0)
    first = float(table.hp12_time[0, 0])
    seconds = 3 * first + 1e-9  # only architecture 0, three times (times equal up to seed)
    table = DatasetTable(**{**table.__dict__, "hp12_time": np.repeat(
        table.hp12_time[:, :1], 3, axis=1)})
    protocol = Protocol("cifar10", budget=50, fidelity="12", budget_seconds=seconds)
    oracle = Oracle(table, protocol, rng=np.random.default_rng(0))
    acc = oracle.evaluate([0, 0, 0, 0, 0])
    assert len(acc) == 3 and oracle.used == 3 and oracle.remaining == 0
    np.testing.assert_allclose(oracle.log.elapsed, [first, 2 * first, 3 * first])
    with pytest.raises(BudgetExhaustedError, match="time budget"):
        oracle.evaluate([1])
    with pytest.raises(BudgetExhaustedError, match="time budget"):
        oracle.query(1)


def test_query_budget_runs_log_no_clock() -> None:
    oracle = Oracle(hp12_table(), Protocol("cifar10", budget=5, fidelity="12"),
                    rng=np.random.default_rng(0))
    oracle.evaluate([1, 2])
    oracle.query(3)
    assert np.isnan(oracle.log.elapsed).all() and not oracle.timed


def test_time_budget_needs_hp12_and_its_times() -> None:
    with pytest.raises(ProtocolError, match="--fidelity 12"):
        Protocol("cifar10", budget=10, budget_seconds=100.0)
    with pytest.raises(ProtocolError, match="positive number of seconds"):
        Protocol("cifar10", budget=10, fidelity="12", budget_seconds=-1.0)
    no_times = DatasetTable(**{**hp12_table().__dict__, "hp12_time": None})
    with pytest.raises(ProtocolError, match="official archive"):
        Oracle(no_times, Protocol("cifar10", budget=10, fidelity="12", budget_seconds=10.0),
               rng=np.random.default_rng(0))


def test_presets_carry_their_sources() -> None:
    nats, layer = get_preset("natsbench"), get_preset("LayerNAS")
    assert nats.fidelity == layer.fidelity == "12"
    assert nats.max_flops_fraction is None and layer.max_flops_fraction == 0.5
    assert dict(nats.budget_seconds) == {"cifar10": 20000.0, "cifar100": 40000.0,
                                         "ImageNet16-120": 60000.0}
    assert layer.budget_seconds is None and (layer.runs, layer.budget) == (100, 500)
    for preset in PRESETS.values():
        assert "hp=12" in preset.source
    assert nats.algorithms == ("random", "evolution", "reinforce") and layer.algorithms == ()
    assert "draw-fig6.py" in nats.source
    for dataset, seconds in nats.budget_seconds.items():
        Protocol(dataset, budget=nats.budget, fidelity="12", max_flops_fraction=None,
                 budget_seconds=seconds)
    with pytest.raises(UnknownNameError, match="natsbench"):
        get_preset("nasbench")
    assert HP12_SEEDS == (777, 888, 999)


def test_a_run_that_ends_before_its_first_query_is_an_error_not_a_complete_run() -> None:
    from nas_harness.algorithms.search_loop import AlgorithmContractError

    table = hp12_table(missing=0.0)
    quickest = float(np.nanmin(table.hp12_time))
    protocol = Protocol("cifar10", budget=5, fidelity="12", budget_seconds=quickest / 2)
    oracle = Oracle(table, protocol, rng=np.random.default_rng(0))
    with pytest.raises(ProtocolError, match=(
            r"^the time budget of [0-9.e+]+ simulated seconds ended before Fixed's first query "
            r"finished; give a larger --budget-seconds$")):
        run_search(Fixed(np.arange(5), 1), oracle)
    assert oracle.used == 0
    oracle = Oracle(table, Protocol("cifar10", budget=5, fidelity="12"),
                    rng=np.random.default_rng(0))
    with pytest.raises(AlgorithmContractError, match=(
            r"^Fixed.ask proposed no architecture before its first query, so the run measured "
            "nothing")):
        run_search(Fixed(np.empty(0, dtype=np.int64), 1), oracle)
    # one query is enough to be a run
    oracle = Oracle(table, Protocol("cifar10", budget=5, fidelity="12"),
                    rng=np.random.default_rng(0))
    assert run_search(Fixed(np.array([7]), 1), oracle).index.tolist() == [7]
