"""An example plugin: hill climbing over one-layer changes, with random restarts.

Use it from the command line with ``nas-harness list --plugin examples/my_algorithm.py`` (or
``run --plugin ...``), or install it under the entry-point group ``nas_harness.algorithms``.
It shows everything a plugin needs: ``@register``, a frozen ``Params`` dataclass whose fields
have defaults, ``ask``/``tell`` on architecture indices, all randomness from ``self.rng``,
and nothing unpicklable in the instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.registry import register
from nas_harness.benchmarks.protocol import SearchContext


@register("hill-climbing")
class HillClimbing(Algorithm):
    """Best-improvement local search: evaluate feasible one-layer changes, move if better."""

    @dataclass(frozen=True)
    class Params:
        """Parameters of hill climbing (listed by ``nas-harness list``)."""

        neighbours_per_step: int = field(
            default=8, metadata={"help": "one-layer changes evaluated per step",
                                 "source": "example: a batch of 8 keeps runs fast"})
        patience: int = field(
            default=2, metadata={"help": "steps without improvement before a random restart",
                                 "source": "example choice"})

        def __post_init__(self) -> None:
            if self.neighbours_per_step < 1 or self.patience < 1:
                raise ValueError("neighbours_per_step and patience must be at least 1")

    def __init__(self, context: SearchContext, rng: np.random.Generator,
                 params: Params | None = None) -> None:
        super().__init__(context, rng, params)
        self.feasible = context.feasible_indices()
        self.seen = np.zeros(context.space.size, dtype=bool)  # evaluated architectures
        self.used = 0                                          # proposals so far
        self.current = -1                                      # -1: (re)start at random
        self.current_acc = -np.inf
        self.stale = 0

    def _neighbours(self, index: int) -> np.ndarray:
        """Unseen feasible architectures that differ from ``index`` in one layer."""
        space = self.context.space
        pos = space.positions(index)
        rows = []
        for layer, count in enumerate(space.num_options):
            for option in range(count):
                if option != pos[layer]:
                    row = pos.copy()
                    row[layer] = option
                    rows.append(row)
        cand = space.from_positions(np.array(rows))
        return cand[self.context.is_feasible(cand) & ~self.seen[cand]]

    def ask(self, max_batch: int) -> np.ndarray:
        """A random start, or a batch of untried neighbours of the current architecture."""
        n = min(max_batch, self.context.budget - self.used)
        if n <= 0:
            return np.empty(0, dtype=np.int64)
        cand = self._neighbours(self.current) if self.current >= 0 else np.empty(0, np.int64)
        if len(cand) == 0:                                     # start or stuck: restart
            fresh = self.feasible[~self.seen[self.feasible]]
            if len(fresh) == 0:
                return np.empty(0, dtype=np.int64)             # everything evaluated: done
            proposals = fresh[self.rng.integers(len(fresh), size=1)]
        else:
            k = min(n, self.params.neighbours_per_step, len(cand))
            proposals = self.rng.choice(cand, size=k, replace=False)
        self.used += len(proposals)
        return proposals.astype(np.int64)

    def tell(self, indices: np.ndarray, valid_acc: np.ndarray) -> None:
        """Move to the best proposal if it beats the current one; restart when stuck."""
        self.seen[indices] = True
        best = int(np.argmax(valid_acc))
        if valid_acc[best] > self.current_acc:
            self.current, self.current_acc, self.stale = int(indices[best]), valid_acc[best], 0
        else:
            self.stale += 1
            if self.stale >= self.params.patience:
                self.current, self.current_acc, self.stale = -1, -np.inf, 0
