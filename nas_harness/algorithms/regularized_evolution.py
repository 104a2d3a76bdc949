"""Regularized (aging) evolution, Real et al. 2019, as NATS-Bench runs it on the size space."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from nas_harness.algorithms._common import (
    EMPTY,
    BudgetedAlgorithm,
    Neighbourhood,
    feasible_indices,
    sample_feasible,
)
from nas_harness.algorithms.params import check, param
from nas_harness.algorithms.registry import Preset, register
from nas_harness.benchmarks.protocol import SearchContext

TUNING_RECORD = "results/tuning/evolution.json"


@register("evolution")
class RegularizedEvolution(BudgetedAlgorithm):
    """Aging evolution: tournament selection, one-layer mutation, the oldest member dies.

    The population starts with ``population_size`` uniform feasible architectures (proposed
    as one batch). Each later step samples ``tournament_size`` members with replacement
    (as NATS-Bench's ``regularized_ea.py``), mutates the best one in one random layer, and
    proposes that child alone; once told, the child joins the population and the oldest
    member leaves. ``mutation=different`` sets the layer to a different option;
    ``mutation=resample`` draws the layer's option uniformly from all of them, so the child
    may equal its parent and is then charged again (NATS-Bench's ``mutate_size_func`` and
    PyGlove's ``Uniform`` mutator do this). A child that breaks the constraint is re-drawn,
    never evaluated (if no one-layer mutation of the parent is feasible, which the monotone
    FLOPs of the size space make rare, a uniform feasible architecture is used).

    Defaults come from the harness's tuning protocol, the same budget and validation-only
    score as every other algorithm (record: ``results/tuning/evolution.json``); the published
    settings are presets: ``evolution:natsbench`` (population 10, sample size 3, resampling
    mutation) and ``evolution:pyglove`` (population 50, tournament 10, resampling mutation).
    """

    @dataclass(frozen=True)
    class Params:
        """Parameters of regularized evolution."""

        population_size: int = param(
            87, "members of the aging population",
            f"tuning protocol ({TUNING_RECORD}); NATS-Bench's 10 is evolution:natsbench",
            low=4, high=100, log=True)
        tournament_size: int = param(
            20, "members sampled (with replacement) to pick each parent",
            f"tuning protocol ({TUNING_RECORD}); NATS-Bench's 3 is evolution:natsbench",
            low=2, high=25, log=True)
        mutation: Literal["different", "resample"] = param(
            "different", "mutated layer: a different option, or resampled (may stay the same)",
            f"tuning protocol ({TUNING_RECORD}); NATS-Bench and PyGlove resample",
            choices=())

        def __post_init__(self) -> None:
            check(self.population_size >= 1, "population_size must be at least 1")
            check(self.tournament_size >= 1, "tournament_size must be at least 1")

    presets: ClassVar[dict[str, Preset]] = {
        "natsbench": Preset(
            {"population_size": 10, "tournament_size": 3, "mutation": "resample"},
            "NATS-Bench (Dong et al. 2021) exps/NATS-algos/regularized_ea.py on the size "
            "space: population 10, sample size 3, mutate_size_func resamples one layer"),
        "pyglove": Preset(
            {"population_size": 50, "tournament_size": 10, "mutation": "resample"},
            "PyGlove's NATS-Bench example: pg.evolution.regularized_evolution(population_size"
            "=50, tournament_size=10) with the Uniform mutator (resamples one decision)"),
    }

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
        parent = int(self._pop_index[best])
        if self.params.mutation == "resample":
            child = self._resample(parent)
        else:
            child = self._mutate(self.rng, parent)
        if child is None:
            child = int(sample_feasible(self.rng, feasible_indices(self.context), 1)[0])
        return self._proposed(np.array([child], dtype=np.int64))

    def _resample(self, parent: int) -> int | None:
        """One layer uniform, then its option uniform over all options, re-drawn while infeasible.

        Every (layer, option) pair has probability ``1 / (L * K_layer)``; the pairs that keep
        the parent's own option all give the parent. Restricting to the feasible pairs and
        renormalising is exactly re-drawing until feasible, with one uniform per call.
        """
        hood = self._hood
        pos = hood.positions(parent)
        cand = (parent - pos * hood.weights)[:, None] + hood.offsets          # (L, K)
        prob = np.where(hood.valid_option, 1.0 / (len(pos) * hood.sizes)[:, None], 0.0)
        ok = hood.valid_option & self._feasible_mask[np.where(hood.valid_option, cand, 0)]
        if not ok.any():
            return None
        cand, prob = cand[ok], prob[ok]
        cdf = np.cumsum(prob)
        pick = int(np.searchsorted(cdf, self.rng.random() * cdf[-1], side="right"))
        return int(cand[min(pick, len(cand) - 1)])

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
