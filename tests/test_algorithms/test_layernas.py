"""LayerNAS on a hand-made table with a known optimum, and its query-count bound."""

import numpy as np
import pytest

from nas_harness.algorithms.layernas import (
    LayerNAS,
    bucketize,
    min_completion_flops,
    resolve_layer_order,
    top_k_per_bucket,
)
from nas_harness.algorithms.params import ParamError
from nas_harness.algorithms.testing import drive, synthetic_landscape
from nas_harness.benchmarks.protocol import SearchContext
from nas_harness.benchmarks.space import SearchSpace

# 3 layers x 3 options (values 1, 2, 3); cost = sum of values, limit 6;
# accuracy = 10*c1 + 5*c2 + c3, so the constrained optimum is 3:2:1 (accuracy 41).
TINY = SearchSpace(options=((1, 2, 3),) * 3)
CH = TINY.channels(TINY.all_indices())
FLOPS = CH.sum(axis=1).astype(float)
ACC = (CH @ np.array([10, 5, 1])).astype(float)


def tiny(budget=100):
    return SearchContext(TINY, FLOPS, np.zeros(TINY.size, np.int64), 6.0, budget)


def run(budget=100, **params):
    algo = LayerNAS(tiny(budget), np.random.default_rng(0),
                    LayerNAS.Params(num_buckets=2, top_k=1, bucketing="linear", **params))
    asked = drive(algo, ACC, budget)
    return algo, TINY.format_many(np.concatenate(asked))


def test_hand_table_optimum_is_what_we_think():
    feasible = FLOPS <= 6
    assert TINY.format(int(np.flatnonzero(feasible)[np.argmax(ACC[feasible])])) == "3:2:1"


def test_one_pass_from_the_smallest_base_evaluates_exactly_these():
    # layer 1: x:1:1 for x=1..3 (costs 3,4,5 -> buckets 0,0..1: keep 1:1:1 and 3:1:1);
    # layer 2: children of 3:1:1 and 1:1:1 that stay searchable (3:3:x is not: 3+3+1 > 6);
    # layer 3: children of the bucket winners 3:2:1 and 1:2:1.
    algo, seen = run(unsearched="min", passes=1)
    assert seen == ["1:1:1", "2:1:1", "3:1:1", "3:2:1", "1:2:1", "1:3:1", "1:2:2", "1:2:3"]
    assert algo.queries_per_pass == [8]
    assert "3:2:1" in seen and algo.ask(5).size == 0


def test_largest_base_is_lowered_to_feasible_stand_ins():
    # base 3:3:3 (cost 9) breaks the limit: each child keeps its searched layer and lowers
    # the others together until it fits (1:3:3 -> 1:2:2, 2:3:3 -> 2:2:2, 3:3:3 -> 3:1:1).
    _, seen = run(unsearched="max", passes=1, infeasible="stand-in")
    assert seen == ["1:2:2", "2:2:2", "3:1:1", "3:1:2", "3:2:1", "2:1:3", "2:3:1"]
    assert all(FLOPS[TINY.parse(s)] <= 6 for s in seen)


def test_repeated_passes_restart_from_the_best_and_stop_when_nothing_is_new():
    algo, seen = run(unsearched="min", passes=0)
    assert seen[:8] == ["1:1:1", "2:1:1", "3:1:1", "3:2:1", "1:2:1", "1:3:1", "1:2:2", "1:2:3"]
    assert algo.queries_per_pass[-1] == 0 and len(set(seen)) == len(seen)
    assert algo.ask(3).size == 0 and algo.ask(3).size == 0


def test_paper_evaluates_children_as_built_and_never_makes_them_incumbent():
    # base 3:3:3 (cost 9 > 6). Layer 1: x:3:3 costs 7, 8, 9, all over the limit but searchable
    # (x:1:1 fits), queried as built; buckets [7, 8) and [8, 9] keep 1:3:3 and 3:3:3.
    # Layer 2: 3:y:3 searchable for y <= 2, 1:y:3 for every y (1:3:3 looked up); buckets keep
    # 3:2:3 and 1:2:3. Layer 3: every completion is checked exactly (3:2:1; 1:2:1, 1:2:2).
    from nas_harness.benchmarks.records import incumbents

    algo, seen = run(passes=1)
    assert seen == ["1:3:3", "2:3:3", "3:3:3", "3:1:3", "3:2:3", "1:1:3", "1:2:3",
                    "3:2:1", "1:2:1", "1:2:2"]
    over = [s for s in seen if FLOPS[TINY.parse(s)] > 6]
    assert over == ["1:3:3", "2:3:3", "3:3:3", "3:1:3", "3:2:3"]
    assert algo.ask(5).size == 0 and algo.queries_per_pass == [10]    # one pass, then done
    index = np.array([TINY.parse(s) for s in seen])
    inc = incumbents(index, ACC[index], FLOPS[index] <= 6)
    assert TINY.format(int(inc.index[-1])) == "3:2:1"                  # the feasible optimum
    assert (inc.index[:5] == -1).all()              # the five over the limit never count


def test_stand_in_preset_and_layer_order_messages():
    from nas_harness.algorithms.registry import resolve_algorithm, resolve_params

    cls, preset = resolve_algorithm("layernas:stand-in")
    assert cls is LayerNAS and preset == {"infeasible": "stand-in", "passes": 0}
    assert resolve_params("layernas:stand-in", {"passes": 2}).passes == 2
    for bad in ("4,3,2,1", "0,1,2,3,4,5", "0,0,1,2,3"):
        with pytest.raises(ParamError, match=r"all 5 layers, a permutation of 0\.\.4"):
            LayerNAS.Params(layer_order=bad)
    assert LayerNAS.Params(layer_order="4,3,2,1,0").layer_order == "4,3,2,1,0"


def test_budget_cut_mid_layer():
    _, seen = run(budget=4, unsearched="min", passes=0)
    assert seen == ["1:1:1", "2:1:1", "3:1:1", "3:2:1"]


@pytest.mark.parametrize(("buckets", "k"), [(1, 1), (2, 3), (5, 3), (4, 2)])
@pytest.mark.parametrize("unsearched", ["min", "mid", "max"])
def test_one_pass_costs_at_most_the_bound(buckets, k, unsearched):
    context, acc = synthetic_landscape(budget=10_000)
    algo = LayerNAS(context, np.random.default_rng(0),
                    LayerNAS.Params(num_buckets=buckets, top_k=k, unsearched=unsearched,
                                    passes=1))
    asked = drive(algo, acc, 10_000)
    total = sum(len(a) for a in asked)
    s, layers = 8, 5
    assert algo.queries_per_pass == [total]
    assert 0 < total <= s + (layers - 1) * buckets * k * s
    assert len(np.unique(np.concatenate(asked))) == total   # nothing queried twice


def test_helpers():
    assert resolve_layer_order("reverse", 3) == (2, 1, 0)
    assert resolve_layer_order("2,0,1", 3) == (2, 0, 1)
    with pytest.raises(ParamError):
        resolve_layer_order("0,1", 3)
    np.testing.assert_array_equal(bucketize(np.array([1.0, 2, 3, 4]), 2, "linear"),
                                  [0, 0, 1, 1])
    np.testing.assert_array_equal(bucketize(np.array([1.0, 10, 100]), 2, "log"), [0, 1, 1])
    np.testing.assert_array_equal(bucketize(np.array([5.0, 5.0]), 3, "log"), [0, 0])
    kept = top_k_per_bucket(np.array([0, 0, 1, 1, 1]), np.array([1.0, 3, 2, 9, 2]), 1)
    np.testing.assert_array_equal(kept, [3, 1])
    low = min_completion_flops(FLOPS, TINY, (0,))
    assert low[TINY.parse("3:3:3")] == 5 and low[TINY.parse("1:2:3")] == 3


def test_runs_are_identical_under_hp90_and_differ_under_hp12():
    # the README's "why the band is zero": LayerNAS draws nothing at random, so only the
    # oracle's per-query seed draw at hp=12 can make two runs differ (synthetic table)
    from sweep_fixtures import synthetic_table

    from nas_harness.algorithms.search_loop import run_search
    from nas_harness.benchmarks.oracle import Oracle
    from nas_harness.benchmarks.protocol import Protocol

    table = synthetic_table()["cifar100"]

    def final(fidelity, seed):
        oracle = Oracle(table, Protocol("cifar100", budget=500, fidelity=fidelity),
                        rng=np.random.default_rng(seed))
        log = run_search(LayerNAS(oracle.context, np.random.default_rng(seed)), oracle)
        return tuple(log.index)

    assert len({final("90", seed) for seed in range(4)}) == 1
    assert len({final("12", seed) for seed in range(4)}) > 1


def test_the_second_pass_restarts_at_the_first_layer_from_the_best_feasible_architecture():
    # pass 1 is the 8 queries above; its best feasible architecture is 3:2:1 (accuracy 41).
    # Pass 2 restarts from 3:2:1 at layer 1: its children x:2:1 not seen yet -> only 2:2:1.
    algo, seen = run(unsearched="min", passes=2)
    assert seen[:8] == ["1:1:1", "2:1:1", "3:1:1", "3:2:1", "1:2:1", "1:3:1", "1:2:2", "1:2:3"]
    assert TINY.format(algo.base_index) == "3:2:1"
    assert seen[8] == "2:2:1"
    assert len(algo.queries_per_pass) == 2 and algo.queries_per_pass[0] == 8


def test_the_restart_ignores_infeasible_and_unevaluated_architectures():
    # the paper variant queries infeasible children as built (1:3:3 has accuracy 48 > 41):
    # the restart still starts from the best FEASIBLE evaluated architecture
    algo, seen = run(unsearched="max", passes=2)
    evaluated = [TINY.parse(s) for s in seen[:algo.queries_per_pass[0]]]
    feasible = [i for i in evaluated if FLOPS[i] <= 6]
    assert any(FLOPS[i] > 6 and ACC[i] > ACC[feasible].max() for i in evaluated)
    assert algo.base_index == max(feasible, key=lambda i: ACC[i])


@pytest.mark.parametrize(("unsearched", "base"), [("min", "1:1:1"), ("mid", "2:2:2"),
                                                  ("max", "3:3:3")])
def test_unsearched_layers_hold_the_named_option(unsearched, base):
    algo = LayerNAS(tiny(), np.random.default_rng(0),
                    LayerNAS.Params(unsearched=unsearched, infeasible="as-built"))
    assert TINY.format(algo.base_index) == base


def test_unsearched_random_draws_the_base_from_the_rng():
    bases = {LayerNAS(tiny(), np.random.default_rng(seed),
                      LayerNAS.Params(unsearched="random")).base_index for seed in range(12)}
    assert len(bases) > 3


def test_random_layer_order_is_a_permutation_from_the_rng():
    assert resolve_layer_order("random", 4) == (0, 1, 2, 3)  # no rng: forward
    orders = {resolve_layer_order(" Random ", 4, np.random.default_rng(s)) for s in range(12)}
    assert len(orders) > 3 and all(sorted(o) == [0, 1, 2, 3] for o in orders)
    assert all(type(i) is int for o in orders for i in o)
    algos = {LayerNAS(tiny(), np.random.default_rng(s),
                      LayerNAS.Params(layer_order="random")).order for s in range(12)}
    assert len(algos) > 2


def test_a_bad_layer_order_suggests_the_reverse_order():
    with pytest.raises(ParamError, match=r"permutation of 0\.\.3 such as '3,2,1,0'; got 'x'"):
        resolve_layer_order("x", 4)


# 3 layers with 2, 3 and 4 options: unequal sizes pin the index weights and the "mid" option
UNEVEN = SearchSpace(options=((1, 2), (1, 2, 3), (1, 2, 3, 4)))


def test_mid_and_random_bases_on_layers_of_different_sizes():
    n = UNEVEN.size
    ctx = SearchContext(UNEVEN, np.ones(n), np.zeros(n, np.int64), 2.0, 50)
    mid = LayerNAS(ctx, np.random.default_rng(0), LayerNAS.Params(unsearched="mid"))
    assert UNEVEN.format(mid.base_index) == "2:2:3"  # positions 2//2, 3//2, 4//2
    bases = [UNEVEN.positions(LayerNAS(ctx, np.random.default_rng(s),
                                       LayerNAS.Params(unsearched="random")).base_index)
             for s in range(40)]
    # every option of every layer, the first one included, can be the base
    for layer, size in enumerate(UNEVEN.num_options):
        assert {int(b[layer]) for b in bases} == set(range(size))
