"""Protocol, SearchContext and the presets by value, on small made-up tables (synthetic data)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nas_harness.benchmarks.errors import ProtocolError, UnknownNameError
from nas_harness.benchmarks.protocol import (
    DEFAULT_BUDGET,
    DEFAULT_FLOPS_FRACTION,
    PRESETS,
    TIME_BUDGET_QUERY_CAP,
    Protocol,
    SearchContext,
    get_preset,
)
from nas_harness.benchmarks.space import SearchSpace
from nas_harness.benchmarks.table import DatasetTable

SPACE = SearchSpace(options=((8, 16), (8, 16)))  # 4 architectures


def _table(flops=(1.0, 2.0, 3.0, 4.0), available=(True,) * 4, hp12_time=None):
    n = len(flops)
    acc = np.linspace(50.0, 80.0, n)
    return DatasetTable(dataset="cifar10", valid_acc=acc, test_acc=acc + 1,
                        params=np.arange(n, dtype=np.int64), flops=np.array(flops, dtype=float),
                        available=np.array(available), hp12_time=hp12_time)


def test_defaults():
    p = Protocol()
    assert (p.dataset, p.budget, p.fidelity, p.max_flops_fraction, p.budget_seconds) == \
        ("cifar10", DEFAULT_BUDGET, "90", DEFAULT_FLOPS_FRACTION, None)
    assert (DEFAULT_BUDGET, DEFAULT_FLOPS_FRACTION) == (500, 0.5)


def test_dataset_aliases_and_fidelity_numbers_are_normalised():
    assert Protocol("CIFAR10").dataset == "cifar10"
    assert Protocol(fidelity=12).fidelity == "12"  # type: ignore[arg-type]
    with pytest.raises(UnknownNameError, match="unknown fidelity '200'; choose one of: 90, 12"):
        Protocol(fidelity="200")


@pytest.mark.parametrize("budget", [1, np.int64(3), 10_000])
def test_a_positive_integer_budget_is_kept(budget):
    assert Protocol(budget=budget).budget == budget


@pytest.mark.parametrize("budget", [0, -1, 2.5, "10", None])
def test_any_other_budget_is_refused(budget):
    with pytest.raises(ProtocolError, match="query budget must be a positive integer"):
        Protocol(budget=budget)  # type: ignore[arg-type]


@pytest.mark.parametrize("fraction", [1.0, 1, 0.5, 1e-9, None])
def test_a_fraction_in_zero_one_or_none_is_kept(fraction):
    assert Protocol(max_flops_fraction=fraction).max_flops_fraction == fraction


@pytest.mark.parametrize("fraction", [0, 0.0, -0.5, 1.0001, math.inf, math.nan])
def test_any_other_fraction_is_refused(fraction):
    with pytest.raises(ProtocolError, match=r"max_flops_fraction must be in \(0, 1\]"):
        Protocol(max_flops_fraction=fraction)


@pytest.mark.parametrize("seconds", [1, 0.5, np.float64(20000.0), np.int32(7)])
def test_a_positive_time_budget_at_hp12_is_kept_as_a_float(seconds):
    p = Protocol(fidelity="12", budget_seconds=seconds)
    assert p.budget_seconds == float(seconds) and type(p.budget_seconds) is float


@pytest.mark.parametrize("seconds", [0, -1.0, math.inf, math.nan, True, "100"])
def test_any_other_time_budget_is_refused(seconds):
    with pytest.raises(ProtocolError, match="time budget must be a positive number of seconds"):
        Protocol(fidelity="12", budget_seconds=seconds)


def test_a_time_budget_needs_hp12():
    with pytest.raises(ProtocolError, match="use it with --fidelity 12"):
        Protocol(fidelity="90", budget_seconds=100.0)


def test_max_flops_is_the_fraction_of_the_largest_model_ignoring_missing_values():
    table = _table(flops=(1.0, np.nan, 8.0, 2.0))
    assert Protocol(max_flops_fraction=0.25).max_flops(table) == 2.0
    assert Protocol(max_flops_fraction=1.0).max_flops(table) == 8.0
    assert Protocol(max_flops_fraction=None).max_flops(table) == math.inf


def test_the_context_has_the_table_s_costs_the_limit_and_the_budget():
    table = _table()
    context = SearchContext.for_protocol(table, Protocol(budget=7, max_flops_fraction=0.5),
                                         SPACE)
    assert context.space is SPACE and context.budget == 7 and type(context.budget) is int
    assert context.max_flops == 2.0
    assert context.flops is table.flops and context.params is table.params
    # the limit itself is feasible
    assert context.is_feasible(np.arange(4)).tolist() == [True, True, False, False]
    assert bool(context.is_feasible(1)) and not bool(context.is_feasible(2))
    assert context.feasible_indices().tolist() == [0, 1]


def test_a_constraint_that_no_available_architecture_satisfies_is_refused():
    # the only architecture under the limit has no data
    table = _table(flops=(1.0, 9.0, 10.0, 12.0), available=(False, True, True, True))
    with pytest.raises(ProtocolError) as exc:
        SearchContext.for_protocol(table, Protocol(max_flops_fraction=0.5), SPACE)
    assert str(exc.value) == ("no architecture with data satisfies FLOPs <= 6.0000M on "
                              "cifar10; raise max_flops_fraction")
    ok = _table(flops=(1.0, 6.0, 10.0, 12.0), available=(False, True, True, True))
    assert SearchContext.for_protocol(ok, Protocol(max_flops_fraction=0.5), SPACE).max_flops \
        == 6.0


def test_a_time_budget_needs_the_table_s_training_times():
    with pytest.raises(ProtocolError, match="lacks; build it from the official archive"):
        SearchContext.for_protocol(_table(), Protocol(fidelity="12", budget_seconds=10.0),
                                   SPACE)


def _timed(times, available=(True,) * 4):
    return _table(available=available, hp12_time=np.array(times, dtype=float))


def test_a_query_cap_that_could_end_a_timed_run_first_is_refused_with_the_cap_needed():
    # fastest available query: 2 s (the 1 s one has no data); 4 queries x 2 s < 9 s
    times = [[1.0, 1.0, 1.0], [2.0, 3.0, 4.0], [5.0, 5.0, 5.0], [6.0, 6.0, 6.0]]
    table = _timed(times, available=(False, True, True, True))
    protocol = Protocol(fidelity="12", budget=4, budget_seconds=9.0, max_flops_fraction=None)
    with pytest.raises(ProtocolError) as exc:
        SearchContext.for_protocol(table, protocol, SPACE)
    assert str(exc.value) == ("a query cap of 4 could end a 9-second run on cifar10 before its "
                              "clock does (the fastest query takes 2.0 s); use --budget 5 or "
                              "more")
    # exactly enough queries: accepted
    fine = Protocol(fidelity="12", budget=4, budget_seconds=8.0, max_flops_fraction=None)
    assert SearchContext.for_protocol(table, fine, SPACE).budget == 4


def test_presets():
    assert get_preset("natsbench") is PRESETS["natsbench"]
    assert get_preset("  LayerNAS ") is PRESETS["layernas"]
    natsbench = PRESETS["natsbench"]
    assert (natsbench.fidelity, natsbench.max_flops_fraction, natsbench.runs,
            natsbench.budget) == ("12", None, 500, TIME_BUDGET_QUERY_CAP)
    assert dict(natsbench.budget_seconds) == {"cifar10": 20000.0, "cifar100": 40000.0,
                                              "ImageNet16-120": 60000.0}
    layernas = PRESETS["layernas"]
    assert (layernas.fidelity, layernas.max_flops_fraction, layernas.runs, layernas.budget,
            layernas.budget_seconds) == ("12", 0.5, 100, 500, None)
    with pytest.raises(UnknownNameError) as exc:
        get_preset("nats")
    assert str(exc.value).strip("'\"") == \
        "unknown protocol 'nats'; choose one of: natsbench, layernas"
