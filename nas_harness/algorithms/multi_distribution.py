"""Multi-distribution search: K categorical distributions, one per accuracy/cost trade-off.

A black-box version of Noda, Saito & Shirakawa (ICANN 2022), "Efficient Search of Multiple
Neural Architectures with Different Complexities via Importance Sampling": each distribution
``k`` maximises ``accuracy - lambda_k * cost`` (validation accuracy in %, cost = FLOPs as a
fraction of the largest architecture's), is updated by the adaptive stochastic natural
gradient (ASNG, Akimoto et al. ICML 2019), and reuses the samples of *all* K distributions
through importance weights ``p_k(x) / mixture(x)``, so one search yields a model for every
trade-off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from nas_harness.algorithms._common import EMPTY, BudgetedAlgorithm
from nas_harness.algorithms.params import check, param
from nas_harness.algorithms.registry import register
from nas_harness.benchmarks.errors import HarnessError
from nas_harness.benchmarks.protocol import SearchContext

_PAPER = "Noda, Saito & Shirakawa (ICANN 2022)"
_ASNG = "ASNG (Akimoto et al. ICML 2019) and its reference code's default"
MAX_REDRAWS = 10_000
TUNING_RECORD = "results/tuning/multi-distribution.json"


def coefficients(k: int, max_coefficient: float, spread: str) -> np.ndarray:
    """The K trade-off coefficients, ascending, the first 0 (accuracy alone).

    ``linear``: ``0, m/(K-1), ..., m``. ``log``: ``0`` then geometric from 1 to ``m``
    (``m^(j/(K-2))``), so the small coefficients, where the front bends, get most of them.
    """
    if k == 1:
        return np.zeros(1)
    if spread == "linear":
        return np.linspace(0.0, max_coefficient, k)
    if k == 2:
        return np.array([0.0, max_coefficient])
    return np.r_[0.0, max_coefficient ** (np.arange(k - 1) / (k - 2))]


def ranking_utility(values: np.ndarray) -> np.ndarray:
    """ASNG's ranking-based utility (maximising): the best quarter +1/mu, the worst -1/mu.

    ``mu = ceil(n / 4)``; tied values share the mean of their utilities.
    """
    n = len(values)
    mu = math.ceil(n / 4)
    base = np.zeros(n)
    base[:mu] += 1.0 / mu
    base[n - mu:] -= 1.0 / mu
    order = np.argsort(-values, kind="stable")
    _, group = np.unique(values[order], return_inverse=True)
    shared = np.bincount(group, base) / np.bincount(group)
    out = np.empty(n)
    out[order] = shared[group]
    return out


class ASNG:
    """One categorical distribution over the layers' options with ASNG's adaptive step."""

    def __init__(self, layers: int, options: int, alpha: float, delta_init: float) -> None:
        self.theta = np.full((layers, options), 1.0 / options)
        self.alpha = alpha
        self.delta_init = delta_init
        self.big_delta = 1.0
        self.dim = layers * (options - 1)
        self.s = np.zeros(self.dim)
        self.gamma = 0.0
        self.theta_min = 1.0 / (layers * (options - 1))

    def prob(self, positions: np.ndarray) -> np.ndarray:
        """Probability of each row of ``positions`` (n, layers)."""
        rows = np.arange(self.theta.shape[0])
        return np.prod(self.theta[rows, positions], axis=1)

    def update(self, positions: np.ndarray, weights: np.ndarray) -> None:
        """One ASNG step from samples and their (utility x importance) weights."""
        delta = self.delta_init / self.big_delta
        beta = delta / math.sqrt(self.dim)
        onehot = np.zeros((len(positions), *self.theta.shape))
        onehot[np.arange(len(positions))[:, None], np.arange(self.theta.shape[0]),
               positions] = 1.0
        grad = np.einsum("n,nlc->lc", weights, onehot - self.theta) / len(positions)
        if np.all(np.abs(grad) < 1e-18):
            return
        # the natural gradient's Fisher norm, in the parametrisation without the last option
        th, last = self.theta[:, :-1], self.theta[:, -1]
        g = grad[:, :-1]
        scaled = (g / np.sqrt(th) + np.sqrt(th) * g.sum(axis=1, keepdims=True)
                  / (last + np.sqrt(last))[:, None]).ravel()
        norm = float(np.sqrt(scaled @ scaled))
        theta = self.theta + delta * grad / norm
        # ASNG's range restriction: every probability at least theta_min, rows summing to 1
        lo = self.theta_min
        theta = np.maximum(theta, lo)
        total = theta.sum(axis=1, keepdims=True)
        theta -= (total - 1.0) * (theta - lo) / (total - lo * theta.shape[1])
        self.theta = theta / theta.sum(axis=1, keepdims=True)
        self.s = (1 - beta) * self.s + math.sqrt(beta * (2 - beta)) * scaled / norm
        self.gamma = (1 - beta) ** 2 * self.gamma + beta * (2 - beta)
        self.big_delta *= math.exp(beta * (self.gamma - float(self.s @ self.s) / self.alpha))


class DistributionsStuckError(HarnessError, RuntimeError):
    """A distribution drew nothing but infeasible architectures for too long."""


@register("multi-distribution")
class MultiDistribution(BudgetedAlgorithm):
    """Noda et al. (2022), black-box: K ASNG distributions pooled by importance sampling.

    Each iteration every distribution draws ``samples_per_distribution`` architectures
    (redrawn while over the FLOPs limit, never charged); once all are evaluated, distribution
    ``k`` ranks *every* sample of the iteration by ``valid_acc - lambda_k * flops/max_flops``
    (ASNG's ranking utility) and takes one ASNG step weighted by ``p_k(x) / mixture(x)``.
    ``pooling="independent"`` is the ablation: each distribution is updated from its own
    samples only, with weight 1 (plain ASNG with K separate runs sharing the budget).

    Deviations from the paper, all because this harness is black-box and table-based:
    accuracy is a table lookup of the validation accuracy (the paper trains a weight-sharing
    supernet and estimates accuracy with it), so there are no weights to train and every
    sample costs one query; the cost is FLOPs as a fraction of the largest architecture's
    (the paper penalises its own complexity measure); importance weights use the unconstrained
    probabilities, although infeasible draws are redrawn; every sample is charged, repeats
    included. Coefficients: ``spread`` linear or log (see :func:`coefficients`) up to
    ``max_coefficient``, a harness choice documented in docs/fronts.md.
    """

    @dataclass(frozen=True)
    class Params:
        """Parameters of the multi-distribution search."""

        num_distributions: int = param(
            12, "K, the number of distributions (trade-off coefficients)",
            f"tuning protocol ({TUNING_RECORD}); a priori 6", choices=(2, 4, 6, 8, 12))
        samples_per_distribution: int = param(
            4, "architectures each distribution draws per iteration",
            f"tuning protocol ({TUNING_RECORD}); {_ASNG} is 2", choices=(2, 3, 4))
        spread: Literal["log", "linear"] = param(
            "log", "how the coefficients are spread between 0 and max_coefficient",
            f"tuning protocol ({TUNING_RECORD}); both compared in docs/fronts.md", choices=())
        max_coefficient: float = param(
            670.0, "largest coefficient (validation % per unit of FLOPs fraction)",
            f"tuning protocol ({TUNING_RECORD}); a priori 3000, about the slope at which the "
            "cheapest architecture wins on validation (docs/fronts.md)",
            low=300.0, high=30000.0, log=True)
        pooling: Literal["importance", "independent"] = param(
            "importance", "pool all distributions' samples by importance weights, or not "
            "(the ablation)", _PAPER)
        alpha: float = param(1.3, "ASNG's threshold of the signal-to-noise ratio",
                             f"tuning protocol ({TUNING_RECORD}); {_ASNG} is 1.5",
                             low=1.1, high=3.0, log=True)  # below 1 the step size diverges
        delta_init: float = param(1.3, "ASNG's initial step size",
                                  f"tuning protocol ({TUNING_RECORD}); {_ASNG} is 1.0",
                                  low=0.5, high=2.0, log=True)

        def __post_init__(self) -> None:
            check(self.num_distributions >= 1, "num_distributions must be at least 1")
            check(self.samples_per_distribution >= 2,
                  "samples_per_distribution must be at least 2 (ASNG ranks its samples)")
            check(self.spread in ("log", "linear"), "spread must be log or linear")
            check(self.max_coefficient > (1.0 if self.spread == "log" else 0.0),
                  "max_coefficient must be positive (above 1 with spread=log)")
            check(self.pooling in ("importance", "independent"),
                  "pooling must be importance or independent")
            check(self.alpha > 0 and self.delta_init > 0, "alpha and delta_init must be > 0")

    def __init__(self, context: SearchContext, rng: np.random.Generator,
                 params: Params | None = None) -> None:
        super().__init__(context, rng, params)
        p = self.params
        sizes = context.space.num_options
        self._options = max(sizes)
        if len(set(sizes)) != 1:
            raise HarnessError("multi-distribution needs the same number of options per layer")
        self._weights = np.cumprod(np.r_[np.asarray(sizes[1:], dtype=np.int64), 1][::-1])[::-1]
        self._feasible = context.flops <= context.max_flops
        self._cost = np.asarray(context.flops, dtype=np.float64) / float(np.max(context.flops))
        self.lambdas = coefficients(p.num_distributions, p.max_coefficient, p.spread)
        self.dists = [ASNG(len(sizes), self._options, p.alpha, p.delta_init)
                      for _ in range(p.num_distributions)]
        self._batch = np.empty((0, len(sizes)), dtype=np.int64)   # this iteration's samples
        self._told: list[float] = []
        self._offered = 0

    def _draw(self, dist: ASNG, n: int) -> np.ndarray:
        """``n`` feasible samples of one distribution (positions), infeasible ones redrawn."""
        cdf = np.cumsum(dist.theta, axis=1)
        out = np.empty((0, dist.theta.shape[0]), dtype=np.int64)
        for _ in range(MAX_REDRAWS):
            u = self.rng.random((n - len(out), dist.theta.shape[0], 1))
            pos = np.minimum((u > cdf[None]).sum(axis=2), self._options - 1)
            out = np.vstack([out, pos[self._feasible[pos @ self._weights]]])
            if len(out) == n:
                return out
        raise DistributionsStuckError(
            f"a distribution drew {MAX_REDRAWS} rounds of architectures over the FLOPs limit; "
            "raise max_flops_fraction")

    def _new_iteration(self) -> None:
        m = self.params.samples_per_distribution
        self._batch = np.vstack([self._draw(d, m) for d in self.dists])
        self._told = []
        self._offered = 0

    def ask(self, max_batch: int) -> np.ndarray:
        """The next samples of the current iteration (a new one once all are told)."""
        quota = self._quota(max_batch)
        if quota <= 0:
            return EMPTY
        if self._offered == len(self._batch):
            self._new_iteration()
        n = min(quota, len(self._batch) - self._offered)
        chunk = self._batch[self._offered:self._offered + n] @ self._weights
        self._offered += n
        return self._proposed(chunk)

    def tell(self, indices: np.ndarray, valid_acc: np.ndarray) -> None:
        """Collect accuracies; after the iteration's last one, update every distribution."""
        _, acc = self._accept(indices, valid_acc)
        self._told.extend(acc.tolist())
        if len(self._told) == len(self._batch):
            self._update(np.asarray(self._told), self._batch)

    def _update(self, acc: np.ndarray, positions: np.ndarray) -> None:
        cost = self._cost[positions @ self._weights]
        m = self.params.samples_per_distribution
        if self.params.pooling == "independent":
            for k, dist in enumerate(self.dists):
                mine = slice(k * m, (k + 1) * m)
                utility = ranking_utility(acc[mine] - self.lambdas[k] * cost[mine])
                dist.update(positions[mine], utility)
            return
        probs = np.array([d.prob(positions) for d in self.dists])      # (K, n)
        mixture = probs.mean(axis=0)
        for k, dist in enumerate(self.dists):
            utility = ranking_utility(acc - self.lambdas[k] * cost)
            dist.update(positions, utility * probs[k] / mixture)
