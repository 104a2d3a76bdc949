"""REINFORCE with an EMA baseline: the NATS-Bench reinforcement-learning baseline, in numpy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from nas_harness.algorithms._policy import EMABaseline, PolicyAlgorithm
from nas_harness.algorithms.params import check, param
from nas_harness.algorithms.registry import Preset, register
from nas_harness.benchmarks.protocol import SearchContext

TUNING_RECORD = "results/tuning/reinforce.json"


@register("reinforce")
class Reinforce(PolicyAlgorithm):
    """Williams' REINFORCE on a factorised softmax policy, as NATS-Bench's ``reinforce.py``.

    One softmax over the options of each layer (logits start at ``init_std`` x N(0, 1));
    each step samples an architecture, the reward is its validation accuracy (%), the
    baseline is a bias-corrected EMA of the rewards updated *before* the advantage
    ``reward - baseline`` is taken (as NATS-Bench does), and Adam minimises
    ``-log pi(arch) * advantage``. Architectures that break the constraint are re-drawn from
    the policy before any query (rejection on the free cost), so no query is wasted on them.

    Defaults: ``batch_size`` and ``init_std`` are NATS-Bench's; ``learning_rate``,
    ``ema_momentum`` and ``avoid_duplicates`` (a harness addition) come from the harness's
    tuning protocol, the same budget and validation-only score as every other algorithm
    (record: ``results/tuning/reinforce.json``). ``reinforce:natsbench`` runs NATS-Bench's
    published settings (lr 0.01, EMA momentum 0.9, repeats charged).
    """

    @dataclass(frozen=True)
    class Params:
        """Parameters of REINFORCE."""

        learning_rate: float = param(
            0.095, "Adam learning rate",
            f"tuning protocol ({TUNING_RECORD}); NATS-Bench's 0.01 is reinforce:natsbench",
            low=0.001, high=0.5, log=True)
        ema_momentum: float = param(
            0.71, "momentum of the EMA reward baseline",
            f"tuning protocol ({TUNING_RECORD}); NATS-Bench's 0.9 is reinforce:natsbench",
            low=0.5, high=0.99)
        batch_size: int = param(
            1, "architectures sampled per policy update",
            "NATS-Bench (Dong et al. 2021) reinforce.py: one architecture per update")
        init_std: float = param(
            1e-3, "std of the initial logits",
            "NATS-Bench PolicySize: 1e-3 * randn")
        avoid_duplicates: bool = param(
            True, "re-draw architectures already evaluated instead of querying them again",
            f"harness addition, default by the tuning protocol ({TUNING_RECORD}); "
            "NATS-Bench charges repeated queries (false)",
            choices=())

        def __post_init__(self) -> None:
            check(self.learning_rate > 0, "learning_rate must be positive")
            check(0 <= self.ema_momentum < 1, "ema_momentum must be in [0, 1)")
            check(self.batch_size >= 1, "batch_size must be at least 1")
            check(self.init_std >= 0, "init_std must be non-negative")

    presets: ClassVar[dict[str, Preset]] = {
        "natsbench": Preset(
            {"learning_rate": 0.01, "ema_momentum": 0.9, "batch_size": 1,
             "avoid_duplicates": False},
            "NATS-Bench (Dong et al. 2021) exps/NATS-algos/reinforce.py: --learning_rate 0.01, "
            "--EMA_momentum 0.9, one architecture per update, repeats charged"),
    }

    def __init__(self, context: SearchContext, rng: np.random.Generator,
                 params: Params | None = None) -> None:
        super().__init__(context, rng, params)
        self.baseline = EMABaseline(self.params.ema_momentum)

    def tell(self, indices: np.ndarray, valid_acc: np.ndarray) -> None:
        """One Adam step on ``-sum_i log pi(arch_i) (reward_i - baseline)``."""
        idx, acc = self._accept(indices, valid_acc)
        advantages = np.empty(len(acc))
        for i, reward in enumerate(acc.tolist()):
            self.baseline.update(reward)
            advantages[i] = reward - self.baseline.value
        grad = self.policy.weighted_grad(self._positions, advantages)
        self.optimizer.step(self.policy.logits, np.negative(grad, out=grad))
        self.policy.changed()
        self._exclude_evaluated(idx)
