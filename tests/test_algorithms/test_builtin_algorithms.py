"""Behaviour of the built-in algorithms beyond the conformance kit."""

import numpy as np
import pytest

from nas_harness.algorithms._common import Neighbourhood
from nas_harness.algorithms._policy import (
    Adam,
    EMABaseline,
    FactorisedPolicy,
    sample_allowed_positions,
)
from nas_harness.algorithms.ppo import PPO, clipped_surrogate
from nas_harness.algorithms.random_search import RandomSearch
from nas_harness.algorithms.regularized_evolution import RegularizedEvolution
from nas_harness.algorithms.reinforce import Reinforce
from nas_harness.algorithms.search_loop import AlgorithmContractError
from nas_harness.algorithms.testing import drive, synthetic_landscape
from nas_harness.benchmarks.space import SSS, SearchSpace


def test_log_prob_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    policy = FactorisedPolicy((3, 4, 2), rng, init_std=0.7)
    pos = policy.sample_positions(rng, 6)
    w = rng.normal(size=6)
    analytic = policy.weighted_grad(pos, w)
    numeric = np.zeros_like(analytic)
    for layer, option in zip(*np.nonzero(policy.valid), strict=True):
        for sign in (1, -1):
            policy.logits[layer, option] += sign * 1e-6
            policy.changed()
            numeric[layer, option] += sign * (w * policy.log_prob(pos)).sum() / 2e-6
            policy.logits[layer, option] -= sign * 1e-6
        policy.changed()
    np.testing.assert_allclose(analytic, numeric, atol=1e-5)
    assert np.all(np.isneginf(policy.logits[~policy.valid]))
    np.testing.assert_allclose(policy.probs().sum(axis=1), 1.0)


def test_batched_rejection_equals_one_at_a_time():
    allowed = np.random.default_rng(1).random(SSS.size) < 0.3
    one = FactorisedPolicy(SSS.num_options, np.random.default_rng(2), 0.5)
    many = FactorisedPolicy(SSS.num_options, np.random.default_rng(2), 0.5)
    r1, r2 = np.random.default_rng(3), np.random.default_rng(3)
    singles = np.concatenate([sample_allowed_positions(one, r1, 1, allowed) for _ in range(20)])
    batch = sample_allowed_positions(many, r2, 20, allowed)
    np.testing.assert_array_equal(singles, batch)
    assert allowed[one.to_index(singles)].all()
    unique = sample_allowed_positions(many, r2, 50, allowed, unique=True)
    assert len(np.unique(many.to_index(unique))) == 50


def test_adam_matches_the_textbook_update():
    params = np.array([1.0, -2.0])
    opt = Adam((2,), lr=0.1)
    g = np.array([0.5, -1.0])
    opt.step(params, g)
    # first step: m_hat = g, v_hat = g^2 -> params -= lr * sign(g)
    np.testing.assert_allclose(params, [0.9, -1.9], atol=1e-7)


def test_ema_baseline_is_bias_corrected_like_nats_bench():
    ema = EMABaseline(0.9)
    ema.update(10.0)
    assert ema.value == pytest.approx(10.0)
    ema.update(20.0)
    assert ema.value == pytest.approx((0.9 * 0.1 * 10 + 0.1 * 20) / (0.9 * 0.1 + 0.1))


@pytest.mark.parametrize("cls", [PPO, Reinforce])
def test_policy_methods_learn_the_good_options(cls):
    # accuracy rewards the largest option of every layer; the policy must move towards it
    space = SearchSpace(options=((1, 2, 3, 4),) * 3)
    context, _ = synthetic_landscape(200, space=space, max_flops_fraction=1.0)
    acc = space.positions(space.all_indices()).sum(axis=1).astype(float)
    algo = cls(context, np.random.default_rng(0))
    before = algo.policy.probs()[:, -1].copy()
    drive(algo, acc, 200)
    assert np.all(algo.policy.probs()[:, -1] > before + 0.1)


def test_ppo_surrogate_gradient_and_clipping():
    rng = np.random.default_rng(0)
    policy = FactorisedPolicy((3, 4, 2), rng, init_std=0.5)
    pos = policy.sample_positions(rng, 8)
    adv = rng.normal(size=8)
    old = policy.log_prob(pos) + rng.uniform(-0.1, 0.1, size=8)   # ratios near 1, unclipped
    ratio = np.exp(policy.log_prob(pos) - old)
    assert np.all(np.abs(ratio - 1) < 0.2 - 0.05)
    _, grad = clipped_surrogate(policy, pos, adv, old, 0.2)
    numeric = np.zeros_like(grad)
    for layer, option in zip(*np.nonzero(policy.valid), strict=True):
        for sign in (1, -1):
            policy.logits[layer, option] += sign * 1e-6
            policy.changed()
            numeric[layer, option] += sign * clipped_surrogate(policy, pos, adv, old, 0.2)[0]
            policy.logits[layer, option] -= sign * 1e-6
        policy.changed()
    np.testing.assert_allclose(grad, numeric / 2e-6, atol=1e-5)
    # far from the old policy in the direction the advantage favours: no gradient at all
    beyond = policy.log_prob(pos) - np.where(adv > 0, 1.0, -1.0)
    assert not clipped_surrogate(policy, pos, adv, beyond, 0.2)[1].any()


def test_neighbourhood_reaches_every_one_layer_change_and_nothing_else():
    hood = Neighbourhood(SSS)
    rng = np.random.default_rng(0)
    index = SSS.parse("16:64:8:40:32")
    allowed = np.ones(SSS.size, dtype=bool)
    draws = {hood.mutate(rng, index, allowed) for _ in range(3000)}
    assert len(draws) == 5 * 7
    for child in draws:
        assert (SSS.positions(child) != SSS.positions(index)).sum() == 1
    only = hood.neighbours(index)[0][:1]
    allowed[:] = False
    allowed[only] = True
    assert hood.mutate(rng, index, allowed) == int(only[0])
    allowed[:] = False
    assert hood.mutate(rng, index, allowed) is None


NATS_EA = RegularizedEvolution.Params(population_size=10, tournament_size=3)


def test_evolution_children_are_one_layer_mutations_of_population_members():
    context, acc = synthetic_landscape(60)
    algo = RegularizedEvolution(context, np.random.default_rng(0), NATS_EA)
    first = algo.ask(60)
    assert len(first) == 10
    algo.tell(first, acc[first])
    members = set(first.tolist())
    for _ in range(20):
        child = algo.ask(5)
        assert len(child) == 1
        diffs = [(SSS.positions(child[0]) != SSS.positions(m)).sum() for m in members]
        assert 1 in diffs  # a one-layer change of some member (it may equal another one)
        algo.tell(child, acc[child])
        members = set(algo._pop_index.tolist())
    assert len(algo._pop_index) == 10


def test_evolution_keeps_the_youngest_population():
    context, acc = synthetic_landscape(40)
    algo = RegularizedEvolution(context, np.random.default_rng(1), NATS_EA)
    asked = np.concatenate(drive(algo, acc, 40))
    assert sorted(algo._pop_index.tolist()) == sorted(asked[-10:].tolist())


def test_random_search_is_uniform_over_feasible_and_without_repeats():
    context, acc = synthetic_landscape(3000, max_flops_fraction=0.2)
    asked = np.concatenate(drive(RandomSearch(context, np.random.default_rng(0)), acc, 3000))
    assert len(np.unique(asked)) == len(asked) and context.is_feasible(asked).all()
    feasible = context.feasible_indices()
    # mean index of a uniform sample is close to the mean feasible index
    assert abs(asked.mean() - feasible.mean()) < 4 * feasible.std() / np.sqrt(len(asked))
    with_rep = RandomSearch(context, np.random.default_rng(0), RandomSearch.Params(replace=True))
    assert len(np.concatenate(drive(with_rep, acc, 3000))) == 3000


def test_tell_must_match_ask():
    context, acc = synthetic_landscape(10)
    algo = RandomSearch(context, np.random.default_rng(0))
    proposals = algo.ask(3)
    with pytest.raises(AlgorithmContractError, match="exactly the indices"):
        algo.tell(proposals[:2], acc[proposals[:2]])
    with pytest.raises(AlgorithmContractError, match="before tell"):
        algo.ask(3)


def test_evolution_resample_mutation_is_nats_bench_s_draw():
    # NATS-Bench's mutate_size_func: a layer uniformly, then one of ALL its options, so the
    # parent itself comes back with probability 1/8 (every layer has 8 options)
    context, _ = synthetic_landscape(10, max_flops_fraction=1.0)
    algo = RegularizedEvolution(context, np.random.default_rng(0),
                                RegularizedEvolution.Params(mutation="resample"))
    parent = SSS.parse("16:64:8:40:32")
    draws = np.array([algo._resample(parent) for _ in range(8000)])
    same = (draws == parent).mean()
    assert abs(same - 1 / 8) < 4 * np.sqrt(1 / 8 * 7 / 8 / 8000)
    changed = draws[draws != parent]
    assert len(np.unique(changed)) == 5 * 7
    assert all((SSS.positions(c) != SSS.positions(parent)).sum() == 1 for c in changed[:200])
    # restricted to feasible children it never returns an infeasible one
    tight, _ = synthetic_landscape(10, max_flops_fraction=0.1)
    small = int(tight.feasible_indices()[0])
    algo = RegularizedEvolution(tight, np.random.default_rng(1),
                                RegularizedEvolution.Params(mutation="resample"))
    assert all(tight.is_feasible(algo._resample(small)) for _ in range(200))
