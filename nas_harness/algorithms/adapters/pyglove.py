"""PyGlove's search algorithms as-is: ``pyglove:evolution`` and ``pyglove:random``.

The space is the one of PyGlove's NATS-Bench example (``examples/automl/natsbench``):
``pg.sublist_of(5, channel counts, choices_distinct=False)``. The adapter drives the DNA
generator directly (``setup``, ``propose``, ``feedback``), as ``pg.sample`` does, with the
validation accuracy as the reward. ``pyglove:evolution`` is the example's
``pg.evolution.regularized_evolution(mutator=Uniform(), population_size=50,
tournament_size=10)`` and ``pyglove:random`` its ``pg.geno.Random()`` (the LayerNAS authors'
group's code), run as-is; it is not the harness's ``evolution`` (NATS-Bench's R-EA, population
10, tournament 3). Deviation from the example, for equal terms: the harness's protocol decides
what the reward is and when a run ends (validation accuracy at the protocol's fidelity, a
budget of queries), where the example rewards hp=12 validation accuracy and stops at a
simulated training-time budget.

Infeasible proposals (never charged, then the adapter asks again) are skipped as PyGlove's
``feedback.skip()`` does: the DNA is never fed back, so it joins no population and the
generator proposes again.

Seeding: ``pg.geno.Random``, the tournament selector and the mutator each take a seed drawn
from the run's Generator (PyGlove's mutators fall back to the global ``random`` module when
given none).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nas_harness.algorithms.adapters._base import SEED_HIGH, AdapterParams, LibraryAdapter
from nas_harness.algorithms.params import check, param
from nas_harness.algorithms.registry import register

__all__ = ["PyGloveEvolution", "PyGloveRandom"]


class _PyGloveAdapter(LibraryAdapter):
    """A PyGlove DNA generator, one DNA at a time."""

    library = "pyglove"
    extra = "pyglove"
    infeasible_as = "skipped, as feedback.skip(): the DNA is never fed back"

    def _generator(self, pg: Any, seeds: list[int]) -> Any:
        raise NotImplementedError

    def _open(self, seed: int) -> Any:
        import pyglove as pg

        seeds = np.random.default_rng(seed).integers(0, SEED_HIGH, size=3).tolist()
        generator = self._generator(pg, seeds)
        options = self.context.space.options
        if all(opts == options[0] for opts in options):  # the size space: as the example
            space = pg.sublist_of(len(options), list(options[0]), choices_distinct=False)
        else:
            space = pg.List([pg.oneof(list(opts)) for opts in options])
        self._spec = pg.dna_spec(space)
        generator.setup(self._spec)
        return generator

    def _library_ask(self) -> tuple[Any, tuple[int, ...]]:
        dna = self._lib.propose()
        pos = dna.to_numbers()
        options = self.context.space.options
        return dna, tuple(options[layer][p] for layer, p in enumerate(pos))

    def _library_tell(self, token: Any, index: int, valid_acc: float) -> None:
        self._lib.feedback(token, valid_acc)

    def _library_reject(self, token: Any, index: int, violation: float) -> None:
        """Skipped: PyGlove's term for an infeasible trial is no feedback at all."""


@register("pyglove:evolution")
class PyGloveEvolution(_PyGloveAdapter):
    """PyGlove's regularized evolution (uniform mutator), as in its NATS-Bench example."""

    @dataclass(frozen=True)
    class Params(AdapterParams):
        """Parameters of pg.evolution.regularized_evolution passed through."""

        population_size: int = param(
            50, "members of the aging population",
            "PyGlove's NATS-Bench example (examples/automl/natsbench/natsbench.py)")
        tournament_size: int = param(
            10, "members sampled to pick each parent",
            "PyGlove's NATS-Bench example (examples/automl/natsbench/natsbench.py)")

        def __post_init__(self) -> None:
            super().__post_init__()
            check(self.tournament_size >= 2, "tournament_size must be at least 2 (PyGlove)")
            check(self.population_size >= self.tournament_size,
                  "population_size must be at least tournament_size (PyGlove)")

    def _generator(self, pg: Any, seeds: list[int]) -> Any:
        p = self.params
        return pg.evolution.regularized_evolution(
            mutator=pg.evolution.mutators.Uniform(seed=seeds[1]),
            population_size=p.population_size, tournament_size=p.tournament_size,
            seed=seeds[0])


@register("pyglove:random")
class PyGloveRandom(_PyGloveAdapter):
    """PyGlove's random search (pg.geno.Random); infeasible draws are skipped."""

    def _generator(self, pg: Any, seeds: list[int]) -> Any:
        return pg.geno.Random(seed=seeds[0])
