"""multi-distribution by value: ASNG's step against its definition, the draws, the pooling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nas_harness.algorithms.multi_distribution import (
    ASNG,
    MultiDistribution,
    coefficients,
    ranking_utility,
)


def fisher_norm(grad: np.ndarray, theta: np.ndarray) -> float:
    """sqrt(g' F g), F the Fisher matrix of each row without its last option.

    F = diag(1/th) + 11'/last: the definition, written independently of the module's closed form.
    """
    total = 0.0
    for g_row, th_row in zip(grad, theta, strict=True):
        g, th, last = g_row[:-1], th_row[:-1], th_row[-1]
        fisher = np.diag(1.0 / th) + np.ones((len(th), len(th))) / last
        total += float(g @ fisher @ g)
    return math.sqrt(total)


def test_a_new_distribution_is_uniform_with_asng_constants() -> None:
    d = ASNG(3, 4, alpha=1.5, delta_init=0.7)
    assert d.theta.tolist() == [[0.25] * 4] * 3
    assert (d.alpha, d.delta_init, d.big_delta, d.gamma) == (1.5, 0.7, 1.0, 0.0)
    assert d.dim == 9 and d.s.tolist() == [0.0] * 9
    assert d.theta_min == pytest.approx(1 / 9)


def test_prob_is_the_product_over_layers() -> None:
    d = ASNG(2, 3, alpha=1.5, delta_init=1.0)
    d.theta = np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3]])
    p = d.prob(np.array([[0, 1], [2, 2], [1, 0]]))
    assert p.tolist() == pytest.approx([0.5 * 0.6, 0.2 * 0.3, 0.3 * 0.1], rel=1e-15)


def test_one_step_follows_the_definition() -> None:
    d = ASNG(2, 3, alpha=1.5, delta_init=0.5)
    d.theta_min = 0.01                                # so that the steps are not restricted
    positions = np.array([[0, 1], [1, 1], [2, 0], [0, 2]])
    weights = np.array([1.0, 0.5, -0.5, -1.0])
    theta0 = d.theta.copy()
    onehot = np.zeros((4, 2, 3))
    for n, row in enumerate(positions):
        for layer, option in enumerate(row):
            onehot[n, layer, option] = 1.0
    grad = sum(w * (o - theta0) for w, o in zip(weights, onehot, strict=True)) / 4
    norm = fisher_norm(grad, theta0)
    delta, beta = 0.5, 0.5 / math.sqrt(4)
    d.update(positions, weights)
    step = theta0 + delta * grad / norm
    assert step.min() > d.theta_min                   # no range restriction in this step
    np.testing.assert_allclose(d.theta, step, rtol=1e-12)
    assert d.gamma == pytest.approx(beta * (2 - beta), rel=1e-12)
    assert float(d.s @ d.s) == pytest.approx(beta * (2 - beta), rel=1e-12)
    assert d.big_delta == pytest.approx(
        math.exp(beta * (d.gamma - beta * (2 - beta) / 1.5)), rel=1e-12)
    # the second step's delta is delta_init / big_delta
    theta1, big = d.theta.copy(), d.big_delta
    d.update(positions, weights)
    grad = sum(w * (o - theta1) for w, o in zip(weights, onehot, strict=True)) / 4
    step = theta1 + (0.5 / big) * grad / fisher_norm(grad, theta1)
    np.testing.assert_allclose(d.theta, step / step.sum(axis=1, keepdims=True), rtol=1e-9)


def test_a_zero_gradient_changes_nothing() -> None:
    d = ASNG(2, 2, alpha=1.5, delta_init=1.0)
    d.update(np.array([[0, 1], [1, 0]]), np.array([1.0, 1.0]))   # the samples cancel out
    assert d.theta.tolist() == [[0.5, 0.5], [0.5, 0.5]]
    assert (d.big_delta, d.gamma) == (1.0, 0.0)


def test_the_range_restriction_keeps_every_probability_at_least_theta_min() -> None:
    d = ASNG(1, 3, alpha=1.5, delta_init=2.0)
    d.theta = np.array([[0.8, 0.15, 0.05]])
    d.theta_min = 0.1
    d.update(np.array([[0], [0], [2], [1]]), np.array([1.0, 1.0, -1.0, -1.0]))
    assert d.theta.min() == pytest.approx(0.1, rel=1e-12)
    assert d.theta.sum() == pytest.approx(1.0, rel=1e-15)
    # the step overshoots: the two losing options are held at theta_min, the winner gets the rest
    np.testing.assert_allclose(d.theta, [[0.8, 0.1, 0.1]], rtol=1e-12)


@pytest.mark.parametrize("k, spread, expected", [
    (3, "log", [0.0, 1.0, 100.0]),
    (5, "log", [0.0, 1.0, 100.0 ** (1 / 3), 100.0 ** (2 / 3), 100.0]),
    (2, "linear", [0.0, 100.0]),
    (1, "linear", [0.0]),
])
def test_more_coefficients(k: int, spread: str, expected: list[float]) -> None:
    assert coefficients(k, 100.0, spread).tolist() == pytest.approx(expected, rel=1e-12)


def test_ranking_utility_of_odd_sizes_and_ties_in_the_middle() -> None:
    # n = 5: mu = 2; the best two +1/2, the worst two -1/2, the middle one 0
    assert ranking_utility(np.array([3.0, 1.0, 5.0, 2.0, 4.0])).tolist() == [
        0.0, -0.5, 0.5, -0.5, 0.5]
    # ties across the +/- boundary share the mean
    assert ranking_utility(np.array([1.0, 1.0, 0.0])).tolist() == pytest.approx(
        [0.5, 0.5, -1.0])
    assert ranking_utility(np.array([1.0, 0.0, 0.0])).tolist() == pytest.approx(
        [1.0, -0.5, -0.5])


def _algo(pooling: str, k: int = 3, m: int = 2, max_flops_fraction: float = 1.0,
          **extra: object):
    from nas_harness.algorithms.testing import synthetic_landscape

    context, acc = synthetic_landscape(60, max_flops_fraction=max_flops_fraction)
    params = MultiDistribution.Params(pooling=pooling, num_distributions=k,
                                      samples_per_distribution=m, **extra)  # type: ignore[arg-type]
    return MultiDistribution(context, np.random.default_rng(3), params), context, acc


def _one_iteration(algo, acc, sizes=(4, 4)):
    asked = []
    for size in sizes:
        idx = algo.ask(size)
        asked.append(idx)
        algo.tell(idx, acc[idx])
    return np.concatenate(asked)


@pytest.mark.parametrize("pooling", ["importance", "independent"])
def test_one_iteration_updates_every_distribution_as_defined(pooling: str) -> None:
    import copy

    algo, context, acc = _algo(pooling, k=3, m=2, spread="linear", max_coefficient=600.0)
    assert algo.lambdas.tolist() == [0.0, 300.0, 600.0]
    before = copy.deepcopy(algo.dists)
    index = _one_iteration(algo, acc, sizes=(4, 4))
    assert len(index) == 6                       # one iteration: K x m samples, in two asks
    positions = algo._batch
    assert (positions @ algo._weights).tolist() == index.tolist()
    # the positions are the options of each layer of the architecture
    channels = context.space.channels(index)
    opts = np.array(context.space.options)
    assert np.array_equal(opts[np.arange(5), positions], channels)
    cost = np.asarray(context.flops, dtype=float)[index] / float(np.max(context.flops))
    a = acc[index]
    probs = np.array([d.prob(positions) for d in before])
    for k, d in enumerate(before):
        if pooling == "independent":
            mine = slice(2 * k, 2 * k + 2)
            d.update(positions[mine], ranking_utility(a[mine] - algo.lambdas[k] * cost[mine]))
        else:
            d.update(positions,
                     ranking_utility(a - algo.lambdas[k] * cost) * probs[k] / probs.mean(0))
        np.testing.assert_allclose(algo.dists[k].theta, d.theta, rtol=1e-12)
        assert algo.dists[k].big_delta == pytest.approx(d.big_delta, rel=1e-12)


def test_asks_cut_an_iteration_and_a_new_one_starts_after_the_last_tell() -> None:
    algo, _, acc = _algo("importance", k=2, m=3)
    first = algo.ask(4)
    algo.tell(first, acc[first])
    batch = algo._batch.copy()
    rest = algo.ask(10)
    assert len(first) == 4 and len(rest) == 2            # the iteration's remaining two
    assert (batch @ algo._weights).tolist() == [*first.tolist(), *rest.tolist()]
    algo.tell(rest, acc[rest])
    again = algo.ask(10)
    assert len(again) == 6 and not np.array_equal(algo._batch, batch)


def test_draws_respect_the_flops_limit_and_follow_theta() -> None:
    algo, context, _ = _algo("importance", k=1, m=2, max_flops_fraction=0.3)
    dist = algo.dists[0]
    dist.theta = np.full((5, 8), 1e-9)
    dist.theta[:, 0] = 1.0 - 7e-9                        # almost surely the smallest option
    drawn = algo._draw(dist, 50)
    assert drawn.shape == (50, 5) and drawn.dtype == np.int64
    assert (drawn == 0).mean() > 0.99
    every = algo._draw(ASNG(5, 8, 1.5, 1.0), 200) @ algo._weights
    assert np.all(context.flops[every] <= context.max_flops)
    assert len(set(every.tolist())) > 100                # uniform: many different ones


def test_a_distribution_stuck_over_the_limit_is_one_clear_error(monkeypatch) -> None:
    from nas_harness.algorithms import multi_distribution as md

    algo, _, _ = _algo("importance", k=1, m=2)
    algo._feasible = np.zeros_like(algo._feasible)
    monkeypatch.setattr(md, "MAX_REDRAWS", 3)
    with pytest.raises(md.DistributionsStuckError, match="3 rounds"):
        algo._draw(algo.dists[0], 2)


def test_cost_is_the_fraction_of_the_largest() -> None:
    algo, context, _ = _algo("importance")
    assert algo._cost.max() == 1.0
    np.testing.assert_allclose(algo._cost, context.flops / context.flops.max(), rtol=1e-15)
    assert algo._weights.tolist() == [8 ** 4, 8 ** 3, 8 ** 2, 8, 1]
    assert algo._options == 8 and len(algo.dists) == 3


def test_spaces_with_unequal_option_counts_are_refused() -> None:
    from nas_harness.algorithms.testing import synthetic_landscape
    from nas_harness.benchmarks.errors import HarnessError
    from nas_harness.benchmarks.space import SearchSpace

    context, _ = synthetic_landscape(10, space=SearchSpace(options=((8, 16), (8, 16, 24))),
                                     max_flops_fraction=1.0)
    with pytest.raises(HarnessError, match="same number of options"):
        MultiDistribution(context, np.random.default_rng(0))


def test_the_second_step_decays_gamma() -> None:
    d = ASNG(2, 3, alpha=1.5, delta_init=0.5)
    d.theta_min = 0.01
    positions = np.array([[0, 1], [1, 1], [2, 0], [0, 2]])
    weights = np.array([1.0, 0.5, -0.5, -1.0])
    d.update(positions, weights)
    gamma1, big1 = d.gamma, d.big_delta
    d.update(positions, weights)
    beta2 = (0.5 / big1) / math.sqrt(4)
    assert d.gamma == pytest.approx((1 - beta2) ** 2 * gamma1 + beta2 * (2 - beta2), rel=1e-12)


def test_the_zero_gradient_threshold_is_strict() -> None:
    # one layer of two options, one sample: grad = w * (onehot - theta) = (w/2, -w/2) exactly
    d = ASNG(1, 2, alpha=1.5, delta_init=0.1)
    d.theta_min = 0.01
    d.update(np.array([[0]]), np.array([2e-18]))          # |grad| == 1e-18: a step
    assert d.theta[0, 0] > 0.5
    tiny = ASNG(2, 3, alpha=1.5, delta_init=0.1)
    positions = np.array([[0, 1], [1, 1], [2, 0], [0, 2]])
    weights = np.array([1.0, 0.5, -0.5, -1.0]) * 2e-18
    grad = np.abs(sum(w * (np.eye(3)[p] - 1 / 3) for w, p in zip(weights, positions,
                                                                  strict=True)) / 4)
    assert grad.max() < 1e-18 < 16 * grad.max()           # below the threshold, not far
    tiny.update(positions, weights)
    assert tiny.theta.tolist() == [[1 / 3] * 3] * 2 and tiny.big_delta == 1.0


@pytest.mark.parametrize("pooling", ["importance", "independent"])
def test_pooled_weights_are_the_importance_ratios(pooling: str) -> None:
    import copy

    algo, context, acc = _algo(pooling, k=3, m=2, spread="linear", max_coefficient=600.0)
    rng = np.random.default_rng(11)
    for d in algo.dists:                       # different distributions: ratios differ
        d.theta = rng.uniform(0.5, 1.5, d.theta.shape)
        d.theta /= d.theta.sum(axis=1, keepdims=True)
    before = copy.deepcopy(algo.dists)
    index = _one_iteration(algo, acc, sizes=(6,))
    positions = algo._batch
    cost = context.flops[index] / context.flops.max()
    a = acc[index]
    probs = np.array([d.prob(positions) for d in before])
    for k, d in enumerate(before):
        if pooling == "independent":
            mine = slice(2 * k, 2 * k + 2)
            d.update(positions[mine], ranking_utility(a[mine] - algo.lambdas[k] * cost[mine]))
        else:
            mixture = probs.mean(axis=0)
            d.update(positions, ranking_utility(a - algo.lambdas[k] * cost) * probs[k] / mixture)
        np.testing.assert_allclose(algo.dists[k].theta, d.theta, rtol=1e-12)


def test_the_largest_allowed_architecture_is_feasible() -> None:
    algo, context, _ = _algo("importance", max_flops_fraction=1.0)
    assert context.max_flops == context.flops.max()
    assert algo._feasible.all()


class _FixedU:
    """A stand-in generator whose uniform draws are all ``u`` (to hit cdf edges exactly)."""

    def __init__(self, u: float) -> None:
        self.u = u

    def random(self, shape):
        return np.full(shape, self.u)


def test_a_draw_on_a_cdf_edge_takes_the_next_option() -> None:
    algo, _, _ = _algo("importance", k=1, m=2)
    dist = ASNG(5, 8, 1.5, 1.0)                 # cdf 1/8, 2/8, ...: 0.25 is an edge exactly
    algo.rng = _FixedU(0.25)                    # type: ignore[assignment]
    assert algo._draw(dist, 2).tolist() == [[1] * 5] * 2
    # a cdf that ends short of the draw (rounding) gives the last option, not one past it
    dist.theta = np.full((5, 8), 0.1)
    algo.rng = _FixedU(0.95)                    # type: ignore[assignment]
    algo._feasible = np.ones_like(algo._feasible)
    assert algo._draw(dist, 1).tolist() == [[7] * 5]


def test_asking_for_nothing_draws_nothing() -> None:
    algo, _, acc = _algo("importance", k=2, m=2)
    idx = algo.ask(4)
    algo.tell(idx, acc[idx])
    batch = algo._batch
    assert algo.ask(0).size == 0
    assert algo._batch is batch
    assert algo.ask(4).size == 4 and algo._batch is not batch


def test_float32_flops_give_a_float64_cost() -> None:
    from dataclasses import replace

    from nas_harness.algorithms.testing import synthetic_landscape

    context, _ = synthetic_landscape(10, max_flops_fraction=1.0)
    context = replace(context, flops=context.flops.astype(np.float32))
    algo = MultiDistribution(context, np.random.default_rng(0))
    assert algo._cost.dtype == np.float64
    np.testing.assert_array_equal(algo._cost, context.flops.astype(np.float64)
                                  / float(context.flops.max()))
