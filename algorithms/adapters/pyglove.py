"""PyGlove's search algorithms as-is: ``pyglove:evolution`` and ``pyglove:random``.

The space is ``pg.List`` of five ``pg.oneof`` over the channel counts; the adapter drives the
DNA generator directly (``setup``, ``propose``, ``feedback``), as ``pg.sample`` does, with the
validation accuracy as the reward. ``pyglove:evolution`` is
``pg.evolution.regularized_evolution`` with the uniform mutator, population 50 and tournament
10, the setting of PyGlove's NATS-Bench example (the LayerNAS authors' group's code); it is not
the harness's ``evolution`` (NATS-Bench's R-EA, population 10, tournament 3, samples with
replacement).

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

from algorithms.adapters._base import SEED_HIGH, AdapterParams, LibraryAdapter
from algorithms.params import check, param
from algorithms.registry import register

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
        space = pg.List([pg.oneof(list(opts)) for opts in self.context.space.options])
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
            "PyGlove's NATS-Bench example (pyglove/examples, regularized evolution)")
        tournament_size: int = param(
            10, "members sampled to pick each parent",
            "PyGlove's NATS-Bench example (pyglove/examples, regularized evolution)")

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
