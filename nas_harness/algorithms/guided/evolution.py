"""Regularized evolution whose first population is the proxy's best feasible architectures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nas_harness.algorithms._common import EMPTY, feasible_indices
from nas_harness.algorithms.guided._proxy import proxy_param, ranked
from nas_harness.algorithms.params import check, param
from nas_harness.algorithms.regularized_evolution import TUNING_RECORD, RegularizedEvolution


class GuidedEvolution(RegularizedEvolution):
    """Aging evolution warm-started from the proxy's top ``population_size`` feasible archs.

    Identical to ``evolution`` (same tuned defaults, mutation and aging) except the initial
    population: instead of uniform feasible architectures, the proxy's best feasible ones
    (reading the proxy of every feasible architecture once).
    """

    @dataclass(frozen=True)
    class Params:
        """Parameters of proxy-guided regularized evolution (``evolution``'s plus ``proxy``)."""

        proxy: str = proxy_param()
        population_size: int = param(
            87, "members of the aging population",
            f"evolution's default ({TUNING_RECORD})", low=4, high=100, log=True)
        tournament_size: int = param(
            20, "members sampled (with replacement) to pick each parent",
            f"evolution's default ({TUNING_RECORD})", low=2, high=25, log=True)
        mutation: str = param(
            "different", "mutated layer: a different option, or resampled (may stay the same)",
            f"evolution's default ({TUNING_RECORD})", choices=("different", "resample"))

        def __post_init__(self) -> None:
            check(self.population_size >= 1, "population_size must be at least 1")
            check(self.tournament_size >= 1, "tournament_size must be at least 1")

    def ask(self, max_batch: int) -> np.ndarray:
        """The proxy's best feasible architectures first (one batch), then evolution."""
        size = self.params.population_size
        if self._filled < size and self.num_proposed == self._filled:
            n = self._quota(max_batch)
            if n <= 0:
                return EMPTY
            top = ranked(self.context, self.params.proxy, feasible_indices(self.context))
            k = min(n, size - self._filled)
            return self._proposed(top[self._filled:self._filled + k])
        return super().ask(max_batch)
