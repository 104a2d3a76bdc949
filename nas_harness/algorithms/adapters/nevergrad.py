"""Nevergrad's optimizers as search algorithms: ``nevergrad:<Name>`` for any name of its registry.

``nevergrad:NGOpt``, ``DiscreteOnePlusOne``, ``PortfolioDiscreteOnePlusOne`` and
``DiscreteLenglerOnePlusOne`` are registered (listed by ``nas-harness list``); any other name
of ``nevergrad.optimizers.registry`` (``nevergrad:CMA``, ``nevergrad:TwoPointsDE``, ...) is
made on first use. The space is a ``ng.p.Tuple`` of five ``ng.p.Choice`` over the channel
counts (Nevergrad's categorical parameter); the optimizer gets the query budget and
``num_workers=1``, and minimises the validation error ``100 - accuracy``.

Each ``Choice`` is Nevergrad's default, ``deterministic=False``: a candidate's option for a
layer is drawn from the softmax of the weights the optimizer evolves, which -- Nevergrad's
docstring says so -- makes a deterministic function stochastic. On this space that makes the
discrete (1+1) optimizers search much like random sampling (see
docs/algorithms/libraries.md). ``-p deterministic_choice=true`` takes each layer's most
likely option instead; then most weight mutations leave the architecture unchanged and the
optimizer asks for the same architecture again, each ask charged as a query. The library's
default is kept: the harness runs each library as its users would.

Infeasible proposals (never charged, then the adapter asks again) are told as
``tell(candidate, 100, constraint_violation=[FLOPs / limit - 1])``: the worst error plus
Nevergrad's own constraint-violation penalty, which also keeps the candidate out of its archive
of best points.

Seeding: the parametrization's ``random_state`` (the NumPy ``RandomState`` Nevergrad's
optimizers draw from) is seeded from the run's Generator before the optimizer is made. Some
optimizers also call NumPy's global functions (``np.random.randint`` in NGOpt's sub-optimizer
checks, discrete mutation schedules, DE): every Nevergrad call runs inside
:func:`~nas_harness.algorithms.adapters._base.private_numpy_global`, which routes those to a second
``RandomState`` seeded from the run, so they are reproducible and the global state is
untouched (left alone, those draws would depend on the process's global state).
"""

from __future__ import annotations

import difflib
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from nas_harness.algorithms.adapters._base import (
    SEED_HIGH,
    AdapterParams,
    LibraryAdapter,
    private_numpy_global,
)
from nas_harness.algorithms.params import param
from nas_harness.algorithms.registry import register, register_family
from nas_harness.benchmarks.errors import UnknownNameError

__all__ = ["NevergradAdapter"]

_DEFAULT = "Nevergrad's default (ng.p.Choice(deterministic=False))"

LISTED = ("NGOpt", "DiscreteOnePlusOne", "PortfolioDiscreteOnePlusOne",
          "DiscreteLenglerOnePlusOne")


class NevergradAdapter(LibraryAdapter):
    """A Nevergrad optimizer (``optimizer_name`` of its registry), one candidate at a time."""

    library = "nevergrad"
    extra = "nevergrad"
    optimizer_name = ""
    infeasible_as = ("loss 100 (the worst error) with constraint_violation = FLOPs/limit - 1, "
                     "Nevergrad's penalty")

    @dataclass(frozen=True)
    class Params(AdapterParams):
        """How the space is given to Nevergrad."""

        deterministic_choice: bool = param(
            False, "each layer's Choice takes its most likely option instead of drawing one "
                   "from the softmax of its weights", _DEFAULT)

    def _open(self, seed: int) -> Any:
        import nevergrad as ng

        seeds = np.random.default_rng(seed).integers(0, SEED_HIGH, size=2)
        self._global = np.random.RandomState(int(seeds[1]))
        deterministic = bool(self.params.deterministic_choice)
        space = ng.p.Tuple(*(ng.p.Choice(list(opts), deterministic=deterministic)
                             for opts in self.context.space.options))
        space.random_state = np.random.RandomState(int(seeds[0]))
        with self._quiet():
            return ng.optimizers.registry[self.optimizer_name](
                parametrization=space, budget=self.context.budget, num_workers=1)

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        """Nevergrad's warnings silenced and NumPy's global functions made private."""
        with warnings.catch_warnings(), private_numpy_global(self._global):
            warnings.simplefilter("ignore")
            yield

    def _library_ask(self) -> tuple[Any, tuple[int, ...]]:
        with self._quiet():
            candidate = self._lib.ask()
        return candidate, candidate.value

    def _library_tell(self, token: Any, index: int, valid_acc: float) -> None:
        with self._quiet():
            self._lib.tell(token, 100.0 - valid_acc)

    def _library_reject(self, token: Any, index: int, violation: float) -> None:
        with self._quiet():
            self._lib.tell(token, 100.0, constraint_violation=[violation])


def _make(name: str, doc: str) -> type[NevergradAdapter]:
    """A subclass for one optimizer, kept in this module so it pickles by name."""
    cls_name = "Nevergrad_" + "".join(ch if ch.isalnum() else "_" for ch in name)
    cls = type(cls_name, (NevergradAdapter,), {"optimizer_name": name, "__doc__": doc,
                                               "__module__": __name__})
    setattr(sys.modules[__name__], cls_name, cls)
    return cls


_DOCS = {
    "NGOpt": "Nevergrad's NGOpt: its own choice of optimizer for the space and budget.",
    "DiscreteOnePlusOne": "Nevergrad's (1+1) evolution strategy with discrete mutations.",
    "PortfolioDiscreteOnePlusOne": "Nevergrad's (1+1) ES with a portfolio of mutation rates.",
    "DiscreteLenglerOnePlusOne": "Nevergrad's (1+1) ES with Lengler's mutation-rate schedule.",
}
for _name in LISTED:
    register(f"nevergrad:{_name}")(_make(_name, _DOCS[_name]))


def _resolve(variant: str) -> type[NevergradAdapter]:
    """Any optimizer of Nevergrad's registry, checked against it when Nevergrad is installed."""
    try:
        import nevergrad as ng
    except ImportError:
        return _make(variant, f"Nevergrad's {variant} optimizer.")
    names = sorted(ng.optimizers.registry)
    if variant not in ng.optimizers.registry:
        close = difflib.get_close_matches(variant, names, n=5)
        raise UnknownNameError(
            f"nevergrad has no optimizer {variant!r}"
            + (f"; did you mean {', '.join('nevergrad:' + c for c in close)}?" if close else "")
            + " (the names of nevergrad.optimizers.registry)")
    return _make(variant, f"Nevergrad's {variant} optimizer.")


register_family("nevergrad", _resolve)
