"""The fast paths of the search loop give exactly what the straightforward code gives.

Each optimised helper is compared, bit for bit and draw for draw, with a plain re-statement
of what it replaces (kept here as the reference), so a change that shifts the random stream
or a float fails here before it changes committed results.
"""

import numpy as np
import pytest

from nas_harness.algorithms._common import Neighbourhood, feasible_indices
from nas_harness.algorithms._policy import Adam, FactorisedPolicy, sample_allowed_positions
from nas_harness.algorithms.ppo import _std
from nas_harness.benchmarks.space import SSS, SearchSpace


def _reference_mutate(hood, rng, index, allowed):
    cand, prob = hood.neighbours(index)
    ok = allowed[cand]
    if not ok.any():
        return None
    cand, prob = cand[ok], prob[ok]
    cdf = np.cumsum(prob)
    pick = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
    return int(cand[min(pick, len(cand) - 1)])


@pytest.mark.parametrize("density", [1.0, 0.5, 0.05, 0.001])
def test_cached_mutator_draws_what_neighbourhood_search_draws(density):
    space = SearchSpace(options=((1, 2, 3), (1, 2), (1, 2, 3, 4), (5, 6, 7)))
    for hood_space in (space, SSS):
        hood = Neighbourhood(hood_space)
        allowed = np.random.default_rng(1).random(hood_space.size) < density
        mutate = hood.mutator(allowed)
        fast, slow = np.random.default_rng(2), np.random.default_rng(2)
        parents = np.random.default_rng(3).integers(0, hood_space.size, 400)
        for parent in parents.tolist() * 2:          # the second pass hits the memo
            assert mutate(fast, parent) == _reference_mutate(hood, slow, parent, allowed)
            assert hood.mutate(fast, parent, allowed) == _reference_mutate(hood, slow, parent,
                                                                            allowed)
        assert fast.random() == slow.random()       # the same number of draws


def _reference_sample(policy, rng, n, allowed, unique=False, max_rounds=4):
    """The vectorised rejection sampler as first written (blocks of look-ahead draws)."""
    got, have, taken = [], 0, set()
    for _ in range(max_rounds):
        need = n - have
        look = max(8 * need, 32)
        pos = policy.sample_positions(rng, look, consume=False)
        ok = allowed[policy.to_index(pos)]
        if unique:
            accepted = 0
            for j, i in enumerate(policy.to_index(pos).tolist()):
                if ok[j]:
                    if i in taken or accepted >= need:
                        ok[j] = False
                    else:
                        taken.add(i)
                        accepted += 1
        hits = np.flatnonzero(ok)[:need]
        used = int(hits[-1]) + 1 if len(hits) == need else look
        policy.consume(used)
        got.append(pos[hits])
        have += len(hits)
        if have >= n:
            break
    for _ in range(8 if have < n else 0):
        cand = rng.integers(0, len(allowed), size=8 * (n - have))
        for i in cand[allowed[cand]].tolist():
            if have < n and not (unique and i in taken):
                taken.add(i)
                got.append(policy.to_positions(np.array([i])))
                have += 1
        if have >= n:
            break
    if have < n:
        pool = np.flatnonzero(allowed)
        if taken:
            pool = np.setdiff1d(pool, np.fromiter(taken, dtype=np.int64))
        if len(pool):
            extra = (rng.choice(pool, size=min(n - have, len(pool)), replace=False) if unique
                     else pool[rng.integers(0, len(pool), size=n - have)])
            got.append(policy.to_positions(extra))
    return got[0] if len(got) == 1 else np.concatenate(got)


@pytest.mark.parametrize("unique", [False, True])
@pytest.mark.parametrize("density", [0.9, 0.3, 0.01, 0.0002])
def test_policy_sampling_matches_the_vectorised_sampler(unique, density):
    allowed = np.random.default_rng(5).random(SSS.size) < density
    fast_policy = FactorisedPolicy(SSS.num_options, np.random.default_rng(6), 2.0)
    slow_policy = FactorisedPolicy(SSS.num_options, np.random.default_rng(6), 2.0)
    fast, slow = np.random.default_rng(7), np.random.default_rng(7)
    for step, n in enumerate([1, 1, 3, 10, 1, 25, 2, 60, 1, 5] * 3):
        a = sample_allowed_positions(fast_policy, fast, n, allowed, unique=unique)
        b = _reference_sample(slow_policy, slow, n, allowed, unique=unique)
        np.testing.assert_array_equal(a, b)
        assert a.dtype == np.int64 and a.shape == (len(b), len(SSS.num_options))
        assert fast_policy._upos == slow_policy._upos
        if step % 4 == 3:                             # the logits move: caches must follow
            for pol in (fast_policy, slow_policy):
                pol.logits[:, 2] += 0.7
                pol.changed()
    assert fast.random() == slow.random()


def test_adam_in_place_equals_the_textbook_expression_bit_for_bit():
    rng = np.random.default_rng(0)
    params = rng.standard_normal((5, 8))
    ref = params.copy()
    opt = Adam(params.shape, lr=0.05)
    m = np.zeros_like(params)
    v = np.zeros_like(params)
    for t in range(1, 30):
        grad = rng.standard_normal(params.shape)
        opt.step(params, grad)
        m = 0.9 * m + (1 - 0.9) * grad
        v = 0.999 * v + (1 - 0.999) * (grad * grad)
        ref -= (0.05 / (1 - 0.9 ** t)) * m / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        np.testing.assert_array_equal(params, ref)


def test_advantage_std_is_numpy_std_bit_for_bit():
    rng = np.random.default_rng(0)
    for n in (2, 7, 8, 9, 10, 31, 200):
        x = rng.normal(90, 3, size=n)
        assert _std(x) == x.std()


def test_feasible_indices_are_computed_once_and_read_only():
    from nas_harness.algorithms.testing import synthetic_landscape

    context, _ = synthetic_landscape(50)
    first = feasible_indices(context)
    assert first is feasible_indices(context)
    np.testing.assert_array_equal(first, context.feasible_indices())
    assert not first.flags.writeable


def test_a_pickled_mutator_draws_the_same_and_does_not_carry_the_memo():
    import pickle

    hood = Neighbourhood(SSS)
    allowed = np.random.default_rng(1).random(SSS.size) < 0.5
    mutate = hood.mutator(allowed)
    for parent in range(0, SSS.size, 97):
        mutate(np.random.default_rng(0), parent)
    copy = pickle.loads(pickle.dumps(mutate))
    assert len(pickle.dumps(mutate)) < 40_000          # the mask, not hundreds of tables
    for parent in range(0, SSS.size, 89):
        assert copy(np.random.default_rng(parent), parent) == mutate(
            np.random.default_rng(parent), parent)
