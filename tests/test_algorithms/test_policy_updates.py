"""REINFORCE's and PPO's updates by value, against a plain textbook reference.

The reference is written from the formulas, not from the implementation: a softmax per layer,
``d log pi / d logits = onehot - softmax``, the bias-corrected EMA baseline, the clipped
surrogate, and Adam (Kingma & Ba 2015: betas 0.9 and 0.999, eps 1e-8, descent on ``-grad``).
One ``ask``/``tell`` round is replayed on a copy of the logits and compared to the algorithm's.
"""

from __future__ import annotations

import numpy as np
import pytest

from nas_harness.algorithms.ppo import PPO
from nas_harness.algorithms.reinforce import Reinforce
from nas_harness.algorithms.testing import synthetic_landscape


def _softmax(logits):
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _log_prob(logits, positions):
    with np.errstate(divide="ignore"):  # options a layer lacks have probability 0
        logp = np.log(_softmax(logits))
    return np.array([logp[np.arange(len(row)), row].sum() for row in positions])


def _grad_log_prob(logits, positions, weights):
    """sum_i w_i d log pi(x_i) / d logits, per layer onehot - softmax."""
    probs = _softmax(logits)
    grad = np.zeros_like(logits)
    for row, w in zip(positions, weights, strict=True):
        onehot = np.zeros_like(logits)
        onehot[np.arange(len(row)), row] = 1.0
        grad += w * (onehot - probs)
    return grad


class _Adam:
    def __init__(self, shape, lr):
        self.lr, self.m, self.v, self.t = lr, np.zeros(shape), np.zeros(shape), 0

    def ascend(self, params, grad):
        """One Adam step that increases the objective whose gradient is ``grad``."""
        g = -grad
        self.t += 1
        self.m = 0.9 * self.m + 0.1 * g
        self.v = 0.999 * self.v + 0.001 * g * g
        m_hat = self.m / (1 - 0.9 ** self.t)
        v_hat = self.v / (1 - 0.999 ** self.t)
        return params - self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)


def _round(cls, params, seed=0, rounds=1):
    """Run ``rounds`` ask/tell rounds; returns the logits before each and the data told."""
    context, acc = synthetic_landscape(200, max_flops_fraction=0.6)
    algo = cls(context, np.random.default_rng(seed), params)
    history = []
    for _ in range(rounds):
        before = algo.policy.logits.copy()
        asked = algo.ask(params.batch_size)
        positions = np.array([context.space.positions(int(i)) for i in asked])
        algo.tell(asked, acc[asked])
        history.append((before, positions, acc[asked], asked))
    return algo, history


def _ema_advantages(rewards, state):
    """NATS-Bench's baseline: each reward is folded in first, then the advantage is taken."""
    out = []
    for r in rewards:
        state["num"] = 0.9 * state["num"] + 0.1 * r
        state["den"] = 0.9 * state["den"] + 0.1
        out.append(r - state["num"] / state["den"])
    return np.array(out)


def test_reinforce_rounds_equal_the_textbook_update():
    params = Reinforce.Params(batch_size=4, learning_rate=0.05, ema_momentum=0.9)
    algo, history = _round(Reinforce, params, seed=3, rounds=4)
    adam, state = _Adam(algo.policy.logits.shape, 0.05), {"num": 0.0, "den": 0.0}
    logits = history[0][0]
    for before, positions, rewards, _ in history:
        np.testing.assert_allclose(before, logits, rtol=0, atol=1e-9)
        adv = _ema_advantages(rewards.tolist(), state)
        logits = adam.ascend(logits, _grad_log_prob(logits, positions, adv))
    np.testing.assert_allclose(algo.policy.logits, logits, rtol=0, atol=1e-9)
    # the first advantage of a run is 0 (the bias-corrected EMA of one reward is that reward)
    assert _ema_advantages([history[0][2][0]], {"num": 0.0, "den": 0.0})[0] == 0.0


def _ppo_reference(logits, positions, rewards, adam, baseline, p):
    base = baseline["num"] / baseline["den"] if baseline["den"] else float(np.mean(rewards))
    adv = rewards - base
    for r in rewards.tolist():
        baseline["num"] = p.baseline_momentum * baseline["num"] + (1 - p.baseline_momentum) * r
        baseline["den"] = p.baseline_momentum * baseline["den"] + (1 - p.baseline_momentum)
    if p.normalize_advantage and len(adv) > 1:
        adv = adv / (adv.std() + 1e-8)
    old = _log_prob(logits, positions)
    for _ in range(p.epochs):
        ratio = np.exp(_log_prob(logits, positions) - old)
        unclipped = adv * ratio
        clipped_term = np.clip(ratio, 1 - p.clip, 1 + p.clip) * adv
        # the gradient flows only where the unclipped term is the minimum
        active = unclipped <= clipped_term
        weights = np.where(active, adv * ratio, 0.0) / len(adv)
        grad = _grad_log_prob(logits, positions, weights)
        if not grad.any():
            break
        logits = adam.ascend(logits, grad)
    return logits


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize(("epochs", "clip"), [(1, 0.2), (4, 0.2), (6, 0.05)])
def test_ppo_rounds_equal_the_textbook_update(normalize, epochs, clip):
    params = PPO.Params(batch_size=5, epochs=epochs, clip=clip, learning_rate=0.3,
                        normalize_advantage=normalize, baseline_momentum=0.8)
    algo, history = _round(PPO, params, seed=1, rounds=3)
    adam, baseline = _Adam(algo.policy.logits.shape, 0.3), {"num": 0.0, "den": 0.0}
    logits = history[0][0]
    for before, positions, rewards, _ in history:
        np.testing.assert_allclose(before, logits, rtol=0, atol=1e-6)
        logits = _ppo_reference(logits, positions, rewards, adam, baseline, params)
    np.testing.assert_allclose(algo.policy.logits, logits, rtol=0, atol=1e-6)


def test_ppo_with_many_epochs_stops_once_every_sample_is_clipped():
    # a large learning rate moves the ratios out of the clip range at once: later epochs add
    # no gradient, so the logits stop changing (an epoch that still stepped would move them)
    params = PPO.Params(batch_size=6, epochs=30, clip=0.01, learning_rate=0.5)
    algo, history = _round(PPO, params, seed=2, rounds=1)
    ref = _ppo_reference(history[0][0], history[0][1], history[0][2],
                         _Adam(algo.policy.logits.shape, 0.5), {"num": 0.0, "den": 0.0},
                         params)
    np.testing.assert_allclose(algo.policy.logits, ref, rtol=0, atol=1e-6)
    assert algo.optimizer.t < 30


@pytest.mark.parametrize("cls", [PPO, Reinforce])
def test_avoid_duplicates_never_proposes_an_evaluated_architecture_again(cls):
    params = cls.Params(batch_size=8, avoid_duplicates=True, learning_rate=0.5)
    context, acc = synthetic_landscape(120, max_flops_fraction=0.05)
    algo = cls(context, np.random.default_rng(0), params)
    seen: list[int] = []
    for _ in range(15):
        asked = algo.ask(8)
        if len(asked) == 0:
            break
        assert not set(asked.tolist()) & set(seen)
        assert context.is_feasible(asked).all()
        seen += asked.tolist()
        algo.tell(asked, acc[asked])
    assert len(seen) == len(set(seen)) >= 60


@pytest.mark.parametrize("cls", [PPO, Reinforce])
def test_with_duplicates_allowed_a_converged_policy_repeats(cls):
    params = cls.Params(batch_size=8, avoid_duplicates=False, learning_rate=0.5)
    context, acc = synthetic_landscape(400, max_flops_fraction=0.05)
    algo = cls(context, np.random.default_rng(0), params)
    seen: list[int] = []
    for _ in range(50):
        asked = algo.ask(8)
        seen += asked.tolist()
        algo.tell(asked, acc[asked])
    assert len(set(seen)) < len(seen)


@pytest.mark.parametrize("cls", [PPO, Reinforce])
def test_ask_gives_batch_size_proposals_and_the_rest_of_the_budget_at_the_end(cls):
    params = cls.Params(batch_size=7)
    context, acc = synthetic_landscape(17, max_flops_fraction=0.5)
    algo = cls(context, np.random.default_rng(4), params)
    sizes = []
    for max_batch in (100, 3, 100, 100, 100):
        asked = algo.ask(max_batch)
        sizes.append(len(asked))
        if len(asked):
            algo.tell(asked, acc[asked])
    assert sizes == [7, 3, 7, 0, 0]


def test_the_clipped_surrogate_objective_by_value_on_both_sides_of_the_clip_range():
    from nas_harness.algorithms._policy import FactorisedPolicy
    from nas_harness.algorithms.ppo import clipped_surrogate

    rng = np.random.default_rng(0)
    policy = FactorisedPolicy((3, 4, 2), rng, init_std=0.5)
    pos = policy.sample_positions(rng, 6)
    now = _log_prob(policy.logits, pos)
    # ratios 0.5, 0.9, 1.0, 1.1, 1.5, 2.0 against advantages of both signs
    ratio = np.array([0.5, 0.9, 1.0, 1.1, 1.5, 2.0])
    adv = np.array([-1.0, 2.0, 3.0, -0.5, 1.0, -2.0])
    old = now - np.log(ratio)
    objective, _ = clipped_surrogate(policy, pos, adv, old, 0.2)
    # min(r A, clip(r, 0.8, 1.2) A) per sample, by hand
    by_hand = [min(-0.5, -0.8), min(1.8, 1.8), 3.0, min(-0.55, -0.55), min(1.5, 1.2),
               min(-4.0, -2.4)]
    assert objective == pytest.approx(np.mean(by_hand), abs=1e-12)


def test_ppo_with_two_samples_per_batch_normalises_them():
    params = PPO.Params(batch_size=2, epochs=3, clip=0.2, learning_rate=0.3,
                        normalize_advantage=True, baseline_momentum=0.8)
    algo, history = _round(PPO, params, seed=4, rounds=4)
    adam, baseline = _Adam(algo.policy.logits.shape, 0.3), {"num": 0.0, "den": 0.0}
    logits = history[0][0]
    for _, positions, rewards, _ in history:
        logits = _ppo_reference(logits, positions, rewards, adam, baseline, params)
    np.testing.assert_allclose(algo.policy.logits, logits, rtol=0, atol=1e-6)
    unnormalised = PPO.Params(batch_size=2, epochs=3, clip=0.2, learning_rate=0.3,
                              normalize_advantage=False, baseline_momentum=0.8)
    other, _ = _round(PPO, unnormalised, seed=4, rounds=4)
    assert np.abs(other.policy.logits - algo.policy.logits).max() > 1e-3


def test_a_factorised_policy_on_uneven_layers():
    from nas_harness.algorithms._policy import FactorisedPolicy

    policy = FactorisedPolicy((3, 4, 2), np.random.default_rng(2), init_std=0.5)
    assert policy.valid.tolist() == [[True, True, True, False], [True, True, True, True],
                                     [True, True, False, False]]
    assert policy.weights.tolist() == [8, 2, 1] and policy.width == 4
    drawn = np.random.default_rng(2).standard_normal((3, 4)) * 0.5
    np.testing.assert_array_equal(policy.logits, np.where(policy.valid, drawn, -np.inf))
    # every sampled position is a valid option, and indices round-trip
    pos = policy.sample_positions(np.random.default_rng(3), 400)
    assert (pos < np.array([3, 4, 2])).all() and (pos >= 0).all()
    assert {tuple(p) for p in pos.tolist()} == {(a, b, c) for a in range(3) for b in range(4)
                                                 for c in range(2)}
    index = policy.to_index(pos)
    np.testing.assert_array_equal(index, pos @ np.array([8, 2, 1]))
    np.testing.assert_array_equal(policy.to_positions(index), pos)
    np.testing.assert_allclose(policy.probs(), _softmax(np.where(policy.valid, drawn, -np.inf)))


@pytest.mark.parametrize("cls", [PPO, Reinforce])
def test_the_policy_starts_from_init_std_and_allows_the_flops_limit_itself(cls):
    from nas_harness.algorithms._policy import FactorisedPolicy

    context, _ = synthetic_landscape(50, max_flops_fraction=1.0)
    algo = cls(context, np.random.default_rng(8), cls.Params(init_std=0.7))
    ref = FactorisedPolicy(context.space.num_options, np.random.default_rng(8), 0.7)
    np.testing.assert_array_equal(algo.policy.logits, ref.logits)
    widest = int(np.argmax(context.flops))
    assert algo._allowed[widest] and algo._allowed.all()
