"""Random search that evaluates a uniform sample in proxy order, best first."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nas_harness.algorithms._common import BudgetedAlgorithm, feasible_indices
from nas_harness.algorithms.guided._proxy import proxy_param, ranked
from nas_harness.algorithms.params import check, param
from nas_harness.benchmarks.protocol import SearchContext


class GuidedRandom(BudgetedAlgorithm):
    """Draw ``sample_size`` feasible architectures uniformly, evaluate them by proxy, best first.

    The sample does not depend on the budget, so the first B queries of a longer run are
    exactly a B-query run (checkpoints of one run are runs at smaller budgets). With the
    sample spent, the rest of the budget goes unused.
    """

    @dataclass(frozen=True)
    class Params:
        """Parameters of proxy-guided random search."""

        proxy: str = proxy_param()
        sample_size: int = param(
            2000, "feasible architectures drawn uniformly, then ranked by the proxy",
            "harness choice: 4x the largest budget compared (500), a tenth of the feasible "
            "set at FLOPs <= 50%", low=1, high=32768, log=True)

        def __post_init__(self) -> None:
            check(self.sample_size >= 1, "sample_size must be at least 1")

    def __init__(self, context: SearchContext, rng: np.random.Generator,
                 params: Params | None = None) -> None:
        super().__init__(context, rng, params)
        feasible = feasible_indices(context)
        n = min(self.params.sample_size, len(feasible))
        self._sample = rng.choice(feasible, size=n, replace=False)
        self._sequence: np.ndarray | None = None

    def ask(self, max_batch: int) -> np.ndarray:
        """The next architectures of the sample in proxy order."""
        if self._sequence is None:  # read the proxy at the first ask (charged then)
            self._sequence = ranked(self.context, self.params.proxy, self._sample)
        return self._next_of(self._sequence, max_batch)

    def tell(self, indices: np.ndarray, valid_acc: np.ndarray) -> None:
        """Nothing to learn; the pairing of ask and tell is checked."""
        self._accept(indices, valid_acc)
