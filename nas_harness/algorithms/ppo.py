"""Proximal policy optimisation (clipped surrogate) on a factorised softmax policy, in numpy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nas_harness.algorithms._policy import EMABaseline, FactorisedPolicy, PolicyAlgorithm
from nas_harness.algorithms.params import check, param
from nas_harness.algorithms.registry import register
from nas_harness.benchmarks.protocol import SearchContext


def clipped_surrogate(policy: FactorisedPolicy, positions: np.ndarray, advantages: np.ndarray,
                      old_log_prob: np.ndarray, clip: float) -> tuple[float, np.ndarray]:
    """PPO's objective ``mean(min(r A, clip(r, 1-eps, 1+eps) A))`` and its gradient.

    Where the clipped term is the minimum (``A > 0, r > 1 + eps`` or ``A < 0, r < 1 - eps``)
    it is constant in the logits, so that sample contributes no gradient; elsewhere
    ``d(r A) = A r d log pi``.
    """
    flat = policy.flat_positions(positions)
    ratio = np.exp(policy._log_prob_flat(flat) - old_log_prob)
    objective = np.minimum(ratio * advantages,
                           np.clip(ratio, 1 - clip, 1 + clip) * advantages).mean()
    return float(objective), _surrogate_grad(policy, flat, advantages, ratio, clip)


def _surrogate_grad(policy: FactorisedPolicy, flat: np.ndarray, advantages: np.ndarray,
                    ratio: np.ndarray, clip: float) -> np.ndarray:
    """The gradient half of :func:`clipped_surrogate` (all ``tell`` needs)."""
    clipped = ((advantages > 0) & (ratio > 1 + clip)) | ((advantages < 0) & (ratio < 1 - clip))
    weights = np.where(clipped, 0.0, advantages * ratio) / len(advantages)
    return policy._weighted_grad_flat(flat, weights)


def _std(x: np.ndarray) -> float:
    """``x.std()``, the same float (the same reductions), without ``_methods._var``'s overhead."""
    n = len(x)
    d = x - np.add.reduce(x) / n
    return float(np.sqrt(np.add.reduce(d * d) / n))


TUNING_RECORD = "results/tuning/ppo.json"


@register("ppo")
class PPO(PolicyAlgorithm):
    """PPO (Schulman et al. 2017) with a one-step episode: the action is the architecture.

    The policy is one softmax over the options of each layer. Each ``ask`` samples a batch
    of feasible architectures (infeasible draws are re-drawn before any query); ``tell``
    computes advantages ``reward - baseline`` against a moving (EMA) baseline of past rewards
    and runs ``epochs`` Adam steps on the clipped surrogate
    ``mean(min(r A, clip(r, 1 - eps, 1 + eps) A))`` with ``r = pi(arch) / pi_old(arch)``.
    Gradients are analytic: ``d log pi / d logits = onehot - softmax`` per layer, and the
    clipped term contributes nothing where the clip is active.

    Defaults: ``epochs``, ``clip`` and ``init_std`` are published values (see each
    ``source``); ``batch_size``, ``learning_rate``, ``normalize_advantage`` and
    ``avoid_duplicates`` (a harness addition: PPO as published re-samples freely) come from
    the harness's tuning protocol, the same budget and validation-only score as every other
    algorithm (record: ``results/tuning/ppo.json``).
    """

    @dataclass(frozen=True)
    class Params:
        """Parameters of PPO."""

        batch_size: int = param(
            9, "architectures sampled per policy update",
            f"tuning protocol ({TUNING_RECORD})", low=2, high=32, log=True)
        epochs: int = param(
            4, "optimisation epochs over each batch",
            "Schulman et al. 2017 use 3-10 epochs (4 in their Atari setting)")
        clip: float = param(
            0.2, "epsilon of the clipped surrogate objective",
            "Schulman et al. 2017: epsilon = 0.2")
        learning_rate: float = param(
            0.1, "Adam learning rate", f"tuning protocol ({TUNING_RECORD})",
            low=0.005, high=0.5, log=True)
        baseline_momentum: float = param(
            0.9, "momentum of the EMA reward baseline",
            "as NATS-Bench's REINFORCE baseline (EMA momentum 0.9)")
        normalize_advantage: bool = param(
            False, "divide the batch's advantages by their standard deviation",
            f"tuning protocol ({TUNING_RECORD}); true is common PPO practice (OpenAI baselines)",
            choices=())
        init_std: float = param(1e-3, "std of the initial logits", "as NATS-Bench's PolicySize")
        avoid_duplicates: bool = param(
            True, "re-draw architectures already evaluated instead of querying them again",
            f"harness addition (not in Schulman et al. 2017); default by the tuning protocol "
            f"({TUNING_RECORD})", choices=())

        def __post_init__(self) -> None:
            check(self.batch_size >= 1, "batch_size must be at least 1")
            check(self.epochs >= 1, "epochs must be at least 1")
            check(0 < self.clip < 1, "clip must be in (0, 1)")
            check(self.learning_rate > 0, "learning_rate must be positive")
            check(0 <= self.baseline_momentum < 1, "baseline_momentum must be in [0, 1)")
            check(self.init_std >= 0, "init_std must be non-negative")

    def __init__(self, context: SearchContext, rng: np.random.Generator,
                 params: Params | None = None) -> None:
        super().__init__(context, rng, params)
        self.baseline = EMABaseline(self.params.baseline_momentum)

    def tell(self, indices: np.ndarray, valid_acc: np.ndarray) -> None:
        """``epochs`` Adam steps on the clipped surrogate of this batch."""
        idx, acc = self._accept(indices, valid_acc)
        p = self.params
        base = self.baseline.value if self.baseline.denominator else float(acc.mean())
        adv = acc - base
        for reward in acc.tolist():
            self.baseline.update(reward)
        if p.normalize_advantage and len(adv) > 1:
            adv = adv / (_std(adv) + 1e-8)
        policy = self.policy
        flat = policy.flat_positions(self._positions)
        old = policy._log_prob_flat(flat)
        for _ in range(p.epochs):
            ratio = np.exp(policy._log_prob_flat(flat) - old)
            grad = _surrogate_grad(policy, flat, adv, ratio, p.clip)
            if not grad.any():
                break
            np.negative(grad, out=grad)
            self.optimizer.step(policy.logits, grad)
            policy.changed()
        self._exclude_evaluated(idx)
