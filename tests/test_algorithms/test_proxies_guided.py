"""Proxy-guided random search, evolution and LayerNAS.

On a synthetic landscape (invented numbers, ``synthetic_landscape``) and, where the data is
present, on the real table.
"""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import numpy as np
import pytest

from nas_harness.algorithms.guided import GuidedEvolution, GuidedLayerNAS, GuidedRandom
from nas_harness.algorithms.layernas import LayerNAS
from nas_harness.algorithms.testing import drive, synthetic_landscape
from nas_harness.benchmarks.errors import ProtocolError
from nas_harness.benchmarks.protocol import FreeSignals

ROOT = Path(__file__).resolve().parents[2]
GUIDED = (GuidedRandom, GuidedEvolution, GuidedLayerNAS)


def with_proxy(budget: int, proxy: np.ndarray | None = None, name: str = "ntk"):
    context, acc = synthetic_landscape(budget)
    if proxy is None:  # a noisy copy of the accuracy: a proxy that helps
        proxy = acc + np.random.default_rng(9).normal(0, 1.0, len(acc))
    return dataclasses.replace(context, signals=FreeSignals({name: proxy})), acc, proxy


def run(cls, budget: int, seed: int, proxy: np.ndarray | None = None, **params):
    context, acc, proxy = with_proxy(budget, proxy)
    asked = drive(cls(context, np.random.default_rng(seed), cls.Params(**params)), acc, budget)
    return np.concatenate(asked), context, proxy


@pytest.mark.parametrize("cls", GUIDED)
def test_same_seed_same_proposals_within_budget(cls):
    a, context, _ = run(cls, 60, 5)
    b, _, _ = run(cls, 60, 5)
    assert np.array_equal(a, b) and 0 < len(a) <= 60
    if cls is not GuidedLayerNAS:  # LayerNAS evaluates children as built
        assert context.is_feasible(a).all()


@pytest.mark.parametrize("cls", GUIDED)
def test_undeclared_proxy_fails_loudly(cls):
    context, acc = synthetic_landscape(20)
    with pytest.raises(ProtocolError, match="--free-signals ntk"):
        drive(cls(context, np.random.default_rng(0), cls.Params()), acc, 20)
    guided, acc, _ = with_proxy(20)
    with pytest.raises(ProtocolError, match=r"'zico'.*declared: ntk"):
        drive(cls(guided, np.random.default_rng(0), cls.Params(proxy="zico")), acc, 20)


def test_guided_random_evaluates_its_sample_best_first():
    asked, context, proxy = run(GuidedRandom, 50, 3, sample_size=400)
    assert np.all(np.diff(proxy[asked]) <= 0)
    assert len(np.unique(asked)) == 50
    # the 50 best of a 400 sample are far better by proxy than a uniform draw
    feasible = context.feasible_indices()
    assert proxy[asked].mean() > np.quantile(proxy[feasible], 0.8)


def test_guided_random_prefix_does_not_depend_on_the_budget():
    long, _, _ = run(GuidedRandom, 200, 11)
    short, _, _ = run(GuidedRandom, 50, 11)
    assert np.array_equal(long[:50], short)


def test_guided_evolution_starts_from_the_proxy_top():
    asked, context, proxy = run(GuidedEvolution, 40, 2, population_size=10)
    feasible = context.feasible_indices()
    top = feasible[np.lexsort((feasible, -proxy[feasible]))][:10]
    assert asked[:10].tolist() == top.tolist()
    assert len(asked) == 40  # then evolution goes on


def test_guided_layernas_with_a_flat_proxy_is_layernas():
    context, acc = synthetic_landscape(120)
    flat = dataclasses.replace(context, signals=FreeSignals({"ntk": np.zeros(len(acc))}))
    guided = drive(GuidedLayerNAS(flat, np.random.default_rng(0)), acc, 120)
    plain = drive(LayerNAS(context, np.random.default_rng(0)), acc, 120)
    assert np.array_equal(np.concatenate(guided), np.concatenate(plain))


def test_guided_layernas_expands_in_proxy_order():
    asked, _, proxy = run(GuidedLayerNAS, 5, 0)  # the first layer step: 5 of its children
    assert np.all(np.diff(proxy[asked]) <= 0)


def test_guided_algorithms_pickle_mid_run():
    context, acc, _ = with_proxy(30)
    algo = GuidedEvolution(context, np.random.default_rng(1))
    drive(algo, acc, 15)
    copy = pickle.loads(pickle.dumps(algo))
    assert copy.ask(1).tolist() == algo.ask(1).tolist()


def test_plugin_registers_the_three(tmp_path):
    from nas_harness.algorithms.registry import load_plugin

    names = load_plugin(ROOT / "experiments" / "proxies_plugin.py")
    assert names == ["guided-evolution", "guided-layernas", "guided-random"]


@pytest.mark.parametrize("name", ["guided-random", "guided-evolution", "guided-layernas"])
def test_real_table_runs_with_declared_signals(table, data_dir, name):
    from nas_harness.algorithms.registry import load_plugin, resolve_params
    from nas_harness.runner import RunTask, search

    load_plugin(ROOT / "experiments" / "proxies_plugin.py")
    from nas_harness.algorithms.registry import get_algorithm

    task = RunTask(name, name, (("proxy", "naswot"),), "cifar100", 0, 100,
                   protocol_options=(("free_signals", ("naswot",)),))
    trajectory = search(task, table["cifar100"], get_algorithm(name),
                        resolve_params(name, {"proxy": "naswot"}))
    assert 0 < trajectory.num_rows <= 100
