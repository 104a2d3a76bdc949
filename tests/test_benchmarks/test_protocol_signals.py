"""Free signals in the protocol, by value: names, the query cost, the meter and its charges."""

from __future__ import annotations

import numpy as np
import pytest

from nas_harness.benchmarks.errors import ProtocolError
from nas_harness.benchmarks.protocol import FreeSignals, Protocol, SearchContext, signal_names
from nas_harness.benchmarks.space import SSS


def test_signal_names_are_sorted_lower_case_and_unique():
    assert signal_names("NTK, naswot,ntk") == ("naswot", "ntk")
    assert signal_names(["params", " flops ", "", "params"]) == ("flops", "params")
    assert signal_names("") == () and signal_names([]) == ()
    assert signal_names("a" + "b" * 31) == ("a" + "b" * 31,)  # 32 characters: the longest


@pytest.mark.parametrize("bad", ["1ntk", "n-tk", "a" + "b" * 32, "_x", "ntk;rm"])
def test_a_signal_name_that_is_not_a_proxy_name_is_one_line(bad):
    with pytest.raises(ProtocolError) as info:
        signal_names(f"ntk,{bad}")
    assert str(info.value) == (f"free signal {bad.strip().lower()!r} is not a proxy name; give "
                               "names like ntk,naswot (see `nas-harness proxies list`)")


def test_the_protocol_stores_signals_sorted_and_the_cost_as_a_float():
    p = Protocol("cifar10", free_signals="ntk,naswot", proxy_query_cost=1)
    assert p.free_signals == ("naswot", "ntk")
    assert p.proxy_query_cost == 1.0 and type(p.proxy_query_cost) is float
    assert Protocol("cifar10", free_signals=("ntk",), proxy_query_cost=0).proxy_query_cost == 0.0
    assert Protocol("cifar10").free_signals == () and Protocol("cifar10").proxy_query_cost == 0.0
    assert Protocol("cifar10", free_signals="ntk",
                    proxy_query_cost=np.float64(0.25)).proxy_query_cost == 0.25


@pytest.mark.parametrize("cost", [True, "0.5", -0.01, 1.01, float("nan"), None])
def test_a_query_cost_outside_0_1_or_not_a_number_is_refused(cost):
    with pytest.raises(ProtocolError) as info:
        Protocol("cifar10", free_signals="ntk", proxy_query_cost=cost)
    assert str(info.value) == ("proxy_query_cost is a fraction of a query in [0, 1] (0: free), "
                               f"got {cost!r}")


def test_a_cost_without_a_declared_signal_is_refused():
    with pytest.raises(ProtocolError) as info:
        Protocol("cifar10", proxy_query_cost=0.5)
    assert str(info.value) == ("proxy_query_cost charges proxy reads, but no free signal is "
                               "declared; add --free-signals NAME[,NAME]")


def _meter(cost: float = 0.5) -> FreeSignals:
    return FreeSignals({"ntk": np.array([3.0, 1.0, 2.0, np.nan]),
                        "naswot": np.array([0.5, 0.25, 1.0, 2.0])}, cost)


def test_the_meter_declares_its_signals_sorted_and_read_only():
    meter = _meter()
    assert meter.declared == ("naswot", "ntk")
    column = meter.read("ntk")
    with pytest.raises(ValueError):
        column[0] = 9.0
    assert FreeSignals({}).declared == () and FreeSignals({}).charged == 0.0


def test_the_meter_charges_each_architecture_once_per_signal():
    meter = _meter(0.5)
    got = meter.read("ntk", np.array([2, 0, 2]))
    assert got.tolist() == [2.0, 3.0, 2.0]             # in the order asked, repeats included
    assert meter.evaluations == 2 and meter.charged == 1.0
    assert meter.read("ntk", [0, 1]).tolist() == [3.0, 1.0]
    assert meter.evaluations == 3 and meter.charged == 1.5  # 0 was read before: 1 is new
    assert np.array_equal(meter.read("ntk"), [3.0, 1.0, 2.0, np.nan], equal_nan=True)
    assert meter.evaluations == 4                       # the whole column: only 3 was unseen
    meter.read("ntk")
    assert meter.evaluations == 4                       # nothing unseen is left
    meter.read("naswot", [3])
    assert meter.evaluations == 5 and meter.charged == 2.5  # another signal is its own count


def test_a_free_meter_counts_but_charges_nothing():
    meter = _meter(0.0)
    meter.read("naswot")
    assert meter.evaluations == 4 and meter.charged == 0.0


def test_reading_an_undeclared_signal_names_what_is_declared():
    with pytest.raises(ProtocolError) as info:
        _meter().read("synflow", [0])
    assert str(info.value) == (
        "the algorithm read free signal 'synflow', which this run's protocol does not declare "
        "(declared: naswot, ntk); run with --free-signals synflow (or free_signals in the "
        "experiment's [protocol])")
    with pytest.raises(ProtocolError, match=r"\(declared: none\)"):
        FreeSignals({}).read("ntk")


def _context(signals: FreeSignals | None) -> SearchContext:
    flops = np.ones(SSS.size)
    return SearchContext(space=SSS, flops=flops, params=np.ones(SSS.size, dtype=np.int64),
                         max_flops=1.0, budget=10, signals=signals)


def test_the_context_reads_through_its_meter_and_refuses_without_one():
    meter = FreeSignals({"ntk": np.arange(SSS.size, dtype=float)}, 0.25)
    context = _context(meter)
    assert context.signal("ntk", np.array([5, 7])).tolist() == [5.0, 7.0]
    assert meter.evaluations == 2 and meter.charged == 0.5
    assert len(context.signal("ntk")) == SSS.size
    with pytest.raises(ProtocolError) as info:
        _context(None).signal("ntk", [1])
    assert str(info.value) == (
        "the algorithm read free signal 'ntk', but this run's protocol declares no free "
        "signals; run with --free-signals ntk (or free_signals in the experiment's [protocol])")
