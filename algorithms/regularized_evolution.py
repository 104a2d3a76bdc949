"""Regularized (aging) evolution, Real et al. 2019, as NATS-Bench runs it on the size space."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from algorithms._common import (
    EMPTY,
    BudgetedAlgorithm,
    Neighbourhood,
    feasible_indices,
    sample_feasible,
)
from algorithms.params import check, param
from algorithms.registry import register
from benchmarks.protocol import SearchContext


@register("evolution")
class RegularizedEvolution(BudgetedAlgorithm):
    """Aging evolution: tournament selection, one-layer mutation, the oldest member dies.

    The population starts with ``population_size`` uniform feasible architectures (proposed
    as one batch). Each later step samples ``tournament_size`` members with replacement
    (as NATS-Bench's ``regularized_ea.py``), mutates the best one by setting one random layer
    to a different random option, and proposes that child alone; once told, the child joins
    the population and the oldest member leaves. A child that breaks the constraint is
    re-drawn, never evaluated (if no one-layer mutation of the parent is feasible, which the
    monotone FLOPs of the size space make rare, a uniform feasible architecture is used).
    """

    @dataclass(frozen=True)
    class Params:
        """Parameters of regularized evolution."""

        population_size: int = param(
            10, "members of the aging population",
            "NATS-Bench (Dong et al. 2021), size space R-EA: population 10")
        tournament_size: int = param(
            3, "members sampled (with replacement) to pick each parent",
            "NATS-Bench (Dong et al. 2021), size space R-EA: sample size 3")

        def __post_init__(self) -> None:
            check(self.population_size >= 1, "population_size must be at least 1")
            check(self.tournament_size >= 1, "tournament_size must be at least 1")

    def __init__(self, context: SearchContext, rng: np.random.Generator,
                 params: Params | None = None) -> None:
        super().__init__(context, rng, params)
        size = self.params.population_size
        self._feasible_mask = context.flops <= context.max_flops
        self._hood = Neighbourhood(context.space)
        self._mutate = self._hood.mutator(self._feasible_mask)
        self._pop_index = np.full(size, -1, dtype=np.int64)   # ring buffer, oldest at _head
        self._pop_acc = np.full(size, -np.inf)
        self._filled = 0
        self._head = 0

    def ask(self, max_batch: int) -> np.ndarray:
        """The initial population (one batch), then one mutated child per call."""
        n = self._quota(max_batch)
        if n <= 0:
            return EMPTY
        size = self.params.population_size
        if self._filled < size:
            k = min(n, size - self._filled)
            return self._proposed(sample_feasible(self.rng, feasible_indices(self.context), k))
        picks = self.rng.integers(0, size, size=self.params.tournament_size).tolist()
        acc = self._pop_acc
        best = picks[0]
        for pick in picks:  # the first of the best, as np.argmax
            if acc[pick] > acc[best]:
                best = pick
        child = self._mutate(self.rng, int(self._pop_index[best]))
        if child is None:
            child = int(sample_feasible(self.rng, feasible_indices(self.context), 1)[0])
        return self._proposed(np.array([child], dtype=np.int64))

    def tell(self, indices: np.ndarray, valid_acc: np.ndarray) -> None:
        """Children join the population; once it is full, each one replaces the oldest."""
        idx, acc = self._accept(indices, valid_acc)
        size = self.params.population_size
        for i, a in zip(idx.tolist(), acc.tolist(), strict=True):
            if self._filled < size:
                slot = self._filled
                self._filled += 1
            else:
                slot = self._head
                self._head = (self._head + 1) % size
            self._pop_index[slot] = i
            self._pop_acc[slot] = a
