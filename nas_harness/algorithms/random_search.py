"""Random search: architectures drawn uniformly among those that satisfy the constraint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from nas_harness.algorithms._common import (
    BudgetedAlgorithm,
    feasible_indices,
    sample_feasible,
)
from nas_harness.algorithms.params import param
from nas_harness.algorithms.registry import Preset, register
from nas_harness.benchmarks.protocol import SearchContext


@register("random")
class RandomSearch(BudgetedAlgorithm):
    """Uniform sampling over feasible architectures (the baseline every method must beat).

    Drawing uniformly from ``context.feasible_indices()`` is exactly rejection sampling on
    the free cost (draw from the whole space, discard what breaks the constraint) without
    the discarded draws. The whole sequence is drawn up front, so a run costs one numpy call.
    """

    @dataclass(frozen=True)
    class Params:
        """Parameters of random search."""

        replace: bool = param(
            False,
            "draw with replacement (a repeated architecture is charged again)",
            "tuning protocol (results/tuning/random.json); NATS-Bench's random_size_func "
            "draws with replacement: random:natsbench",
            choices=(),
        )

    presets: ClassVar[dict[str, Preset]] = {
        "natsbench": Preset(
            {"replace": True},
            "NATS-Bench (Dong et al. 2021) exps/NATS-algos/random_wo_share.py: "
            "random_size_func draws every architecture independently (with replacement)"),
    }

    def __init__(self, context: SearchContext, rng: np.random.Generator,
                 params: Params | None = None) -> None:
        super().__init__(context, rng, params)
        self._sequence = sample_feasible(rng, feasible_indices(context), context.budget,
                                         replace=self.params.replace)

    def ask(self, max_batch: int) -> np.ndarray:
        """The next ``max_batch`` architectures of the pre-drawn sequence."""
        return self._next_of(self._sequence, max_batch)

    def tell(self, indices: np.ndarray, valid_acc: np.ndarray) -> None:
        """Random search learns nothing; only the pairing of ask and tell is checked."""
        self._accept(indices, valid_acc)
