"""Regularized evolution step by step: who is selected, who dies, what a child is.

Each test replays the algorithm's own generator (a copy taken before ``ask``) to know which
members the tournament samples, and spies on the mutation to see which parent it was given,
so the assertions are exact values: the parent is the first best of the sampled members, the
member that leaves is the oldest, the child is a one-layer change of that parent.
"""

import copy

import numpy as np
import pytest

from nas_harness.algorithms.regularized_evolution import RegularizedEvolution
from nas_harness.algorithms.testing import synthetic_landscape
from nas_harness.benchmarks.protocol import SearchContext
from nas_harness.benchmarks.space import SSS, SearchSpace

P = RegularizedEvolution.Params


def _filled(params, accs, seed=0, max_flops_fraction=1.0):
    """An algorithm whose initial population was told the accuracies ``accs``, in order."""
    context, _ = synthetic_landscape(200, max_flops_fraction=max_flops_fraction)
    algo = RegularizedEvolution(context, np.random.default_rng(seed), params)
    first = algo.ask(len(accs))
    assert len(first) == params.population_size == len(accs)
    algo.tell(first, np.asarray(accs, dtype=float))
    return context, algo, first


def _spy(algo, name):
    """Record the parent handed to the mutation ``name`` (``_mutate`` or ``_resample``)."""
    parents = []
    inner = getattr(algo, name)

    def spied(*args):
        parents.append(args[-1])
        return inner(*args)

    setattr(algo, name, spied)
    return parents


def _layers_changed(a, b):
    return int((SSS.positions(int(a)) != SSS.positions(int(b))).sum())


def test_the_initial_population_is_one_batch_then_one_child_per_ask():
    context, algo, first = _filled(P(population_size=5, tournament_size=2),
                                   [70.0, 71.0, 72.0, 73.0, 74.0])
    assert len(np.unique(first)) == 5 and context.is_feasible(first).all()
    np.testing.assert_array_equal(algo._pop_index, first)
    np.testing.assert_array_equal(algo._pop_acc, [70.0, 71.0, 72.0, 73.0, 74.0])
    assert len(algo.ask(10)) == 1


def test_the_initial_population_may_come_in_several_batches():
    context, _ = synthetic_landscape(50, max_flops_fraction=1.0)
    algo = RegularizedEvolution(context, np.random.default_rng(3), P(population_size=5))
    a = algo.ask(3)
    algo.tell(a, np.array([1.0, 2.0, 3.0]))
    b = algo.ask(10)
    assert (len(a), len(b)) == (3, 2)
    algo.tell(b, np.array([4.0, 5.0]))
    np.testing.assert_array_equal(algo._pop_index, np.concatenate([a, b]))
    np.testing.assert_array_equal(algo._pop_acc, [1.0, 2.0, 3.0, 4.0, 5.0])


@pytest.mark.parametrize("mutation, spied", [("different", "_mutate"), ("resample", "_resample")])
def test_the_parent_is_the_first_best_of_the_sampled_members(mutation, spied):
    # ties on purpose: members 1 and 3 share the best accuracy, so the first sampled wins
    accs = [70.0, 90.0, 60.0, 90.0, 80.0, 50.0]
    _, algo, _ = _filled(P(population_size=6, tournament_size=3, mutation=mutation), accs)
    parents = _spy(algo, spied)
    for step in range(12):
        replay = copy.deepcopy(algo.rng)
        picks = replay.integers(0, 6, size=3).tolist()
        best = picks[0]
        for pick in picks:
            if algo._pop_acc[pick] > algo._pop_acc[best]:
                best = pick
        child = algo.ask(1)
        assert parents[-1] == algo._pop_index[best], (step, picks)
        changed = _layers_changed(child[0], parents[-1])
        assert changed == 1 if mutation == "different" else changed <= 1
        algo.tell(child, np.array([0.0]))
    assert len(parents) == 12


def test_selection_pressure_the_best_member_fathers_every_child_of_a_big_tournament():
    # 4 members, 40 draws with replacement: the best is sampled unless all 40 miss it
    # ((3/4)^40 < 1e-5), so every child is a one-layer change of the best member
    accs = [10.0, 20.0, 30.0, 99.0]
    _, algo, first = _filled(P(population_size=4, tournament_size=40), accs)
    parents = _spy(algo, "_mutate")
    for _ in range(3):  # three children; the best (the youngest) is still alive
        child = algo.ask(1)
        assert _layers_changed(child[0], first[3]) == 1
        algo.tell(child, np.array([0.0]))
    assert parents == [first[3]] * 3


def test_the_oldest_member_leaves_and_the_ring_runs_forward():
    accs = [1.0, 2.0, 3.0, 4.0]
    _, algo, first = _filled(P(population_size=4, tournament_size=2), accs)
    members, values = list(first), list(accs)
    for k in range(10):  # more than two full turns of the ring
        child = algo.ask(1)
        told = 100.0 + k
        algo.tell(child, np.array([told]))
        members[k % 4], values[k % 4] = int(child[0]), told  # the oldest slot is replaced
        np.testing.assert_array_equal(algo._pop_index, members)
        np.testing.assert_array_equal(algo._pop_acc, values)
        assert algo._head == (k + 1) % 4


def test_after_a_full_turn_the_youngest_members_remain_in_age_order_from_the_head():
    _, algo, _ = _filled(P(population_size=3, tournament_size=2), [5.0, 6.0, 7.0])
    children = []
    for k in range(7):
        child = algo.ask(1)
        algo.tell(child, np.array([float(k)]))
        children.append(int(child[0]))
    head = algo._head
    oldest_first = np.roll(algo._pop_index, -head).tolist()
    assert oldest_first == children[-3:]
    np.testing.assert_array_equal(np.roll(algo._pop_acc, -head), [4.0, 5.0, 6.0])


def test_fitness_is_stored_as_told_and_drives_selection_after_replacement():
    # the child told 100 replaces the oldest member and is then the best: it fathers the rest
    accs = [50.0, 60.0, 70.0]
    _, algo, _ = _filled(P(population_size=3, tournament_size=30), accs)
    star = algo.ask(1)
    algo.tell(star, np.array([100.0]))
    assert algo._pop_acc.tolist() == [100.0, 60.0, 70.0]
    parents = _spy(algo, "_mutate")
    for _ in range(2):
        child = algo.ask(1)
        algo.tell(child, np.array([0.0]))
    assert parents == [int(star[0])] * 2


@pytest.mark.parametrize("preset", ["natsbench", "pyglove"])
def test_the_presets_resample_one_layer_of_the_parent_and_are_not_random_search(preset):
    params = P(**RegularizedEvolution.presets[preset].params)
    assert params.mutation == "resample"
    size = params.population_size
    _, algo, _ = _filled(params, list(np.linspace(60.0, 90.0, size)))
    parents = _spy(algo, "_resample")
    same = 0
    for _ in range(40):
        child = int(algo.ask(1)[0])
        assert _layers_changed(child, parents[-1]) <= 1
        same += child == parents[-1]
        algo.tell(np.array([child]), np.array([0.0]))
    assert len(parents) == 40
    assert 0 < same < 20  # the parent itself comes back about 1 time in 8


def test_resample_from_a_parent_with_no_feasible_change_returns_none_and_ask_draws_uniformly():
    context, _ = synthetic_landscape(50, max_flops_fraction=0.05)
    algo = RegularizedEvolution(context, np.random.default_rng(0), P(mutation="resample"))
    infeasible_parent = int(np.argmax(context.flops))  # the widest network: all too big
    assert algo._resample(infeasible_parent) is None
    feasible = context.feasible_indices()
    child = algo._resample(int(feasible[0]))
    assert child is not None and context.is_feasible(child)


def test_different_and_resample_mutations_give_different_streams():
    def children(mutation):
        _, algo, _ = _filled(P(population_size=4, tournament_size=2, mutation=mutation),
                             [1.0, 2.0, 3.0, 4.0], seed=5)
        out = []
        for _ in range(6):
            child = algo.ask(1)
            algo.tell(child, np.array([0.5]))
            out.append(int(child[0]))
        return out

    assert children("different") != children("resample")


# -- the constraint, uneven layers, and parents without a feasible mutation ----------------------

def _context(space, flops, max_flops, budget=60):
    flops = np.asarray(flops, dtype=float)
    params = np.zeros(space.size, dtype=np.int64)
    return SearchContext(space=space, flops=flops, params=params, max_flops=max_flops,
                         budget=budget)


@pytest.mark.parametrize("mutation", ["different", "resample"])
def test_an_architecture_exactly_at_the_flops_limit_is_a_feasible_child(mutation):
    context, _ = synthetic_landscape(50, max_flops_fraction=1.0)
    widest = int(np.argmax(context.flops))
    assert context.flops[widest] == context.max_flops
    parent = int(SSS.parse("64:64:64:64:32"))
    algo = RegularizedEvolution(context, np.random.default_rng(0), P(mutation=mutation))
    draw = algo._mutate if mutation == "different" else (lambda rng, p: algo._resample(p))
    children = {draw(algo.rng, parent) for _ in range(600)}
    assert widest in children


UNEVEN = SearchSpace(options=((8, 16), (8, 16, 24, 32)))  # 2 and 4 options


def test_resample_picks_a_layer_then_any_of_its_options_on_uneven_layers():
    # P(layer, option) = 1 / (L * K_layer): the parent comes back with 1/4 + 1/8 = 3/8, the
    # other option of the 2-option layer with 1/4, each other option of the other with 1/8
    context = _context(UNEVEN, np.ones(UNEVEN.size), 1.0)
    algo = RegularizedEvolution(context, np.random.default_rng(0), P(mutation="resample"))
    parent = int(UNEVEN.parse("8:16"))
    n = 16000
    draws = np.array([algo._resample(parent) for _ in range(n)])
    expected = {parent: 3 / 8, int(UNEVEN.parse("16:16")): 1 / 4,
                int(UNEVEN.parse("8:8")): 1 / 8, int(UNEVEN.parse("8:24")): 1 / 8,
                int(UNEVEN.parse("8:32")): 1 / 8}
    assert set(np.unique(draws).tolist()) == set(expected)
    for child, prob in expected.items():
        got = (draws == child).mean()
        assert abs(got - prob) < 4 * np.sqrt(prob * (1 - prob) / n), (child, got, prob)


def test_resample_under_the_constraint_is_uniform_over_the_feasible_pairs():
    # two of the five children are over the limit: the other pairs keep their ratio 3:2:1:1
    flops = np.ones(UNEVEN.size)
    flops[int(UNEVEN.parse("16:16"))] = flops[int(UNEVEN.parse("8:32"))] = 5.0
    context = _context(UNEVEN, flops, 1.0)
    algo = RegularizedEvolution(context, np.random.default_rng(1), P(mutation="resample"))
    parent = int(UNEVEN.parse("8:16"))
    n = 16000
    draws = np.array([algo._resample(parent) for _ in range(n)])
    expected = {parent: 3 / 5, int(UNEVEN.parse("8:8")): 1 / 5,
                int(UNEVEN.parse("8:24")): 1 / 5}
    assert set(np.unique(draws).tolist()) == set(expected)
    for child, prob in expected.items():
        got = (draws == child).mean()
        assert abs(got - prob) < 4 * np.sqrt(prob * (1 - prob) / n), (child, got, prob)


@pytest.mark.parametrize("mutation", ["different", "resample"])
def test_a_parent_without_a_feasible_mutation_gives_a_uniform_feasible_child(mutation):
    # only two architectures are feasible, and they differ in every layer: no one-layer
    # change of either is feasible, so each child of `different` is a uniform draw of the two
    # (resampling gives the parent back); the stream is replayed here: the population, then
    # per child the tournament and that draw
    a, b = int(SSS.parse("8:8:8:8:8")), int(SSS.parse("16:16:16:16:16"))
    flops = np.full(SSS.size, 9.0)
    flops[[a, b]] = 1.0
    context = _context(SSS, flops, 1.0, budget=30)
    params = P(population_size=4, tournament_size=3, mutation=mutation)
    algo = RegularizedEvolution(context, np.random.default_rng(7), params)
    feasible = np.array([a, b])
    replay = np.random.default_rng(7)
    first = algo.ask(10)
    np.testing.assert_array_equal(first, feasible[replay.integers(0, 2, size=4)])
    algo.tell(first, np.array([1.0, 2.0, 3.0, 4.0]))
    for _ in range(20):
        picks = replay.integers(0, 4, size=3).tolist()  # the tournament
        best = picks[0]
        for pick in picks:
            if algo._pop_acc[pick] > algo._pop_acc[best]:
                best = pick
        child = algo.ask(5)
        assert child.dtype == np.int64
        if mutation == "resample":  # only the parent's own options are feasible: the parent
            replay.random()
            assert child.tolist() == [int(algo._pop_index[best])]
        else:
            assert child.tolist() == [int(feasible[replay.integers(0, 2, size=1)[0]])]
        algo.tell(child, np.array([0.5]))


def test_nothing_is_proposed_for_a_zero_batch_or_after_the_budget():
    context, acc = synthetic_landscape(12, max_flops_fraction=1.0)
    algo = RegularizedEvolution(context, np.random.default_rng(0), P(population_size=4))
    assert algo.ask(0).size == 0
    first = algo.ask(4)
    algo.tell(first, acc[first])
    assert algo.ask(0).size == 0  # a full population and no room: still nothing
    asked = 4
    while asked < 12:
        child = algo.ask(3)
        assert len(child) == 1
        algo.tell(child, acc[child])
        asked += 1
    assert algo.ask(5).size == 0 and algo.num_proposed == 12
