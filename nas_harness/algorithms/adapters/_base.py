"""What every library adapter shares: seeding, the feasibility loop, charging and pickling.

The rules, the same for every library:

* **Determinism.** The library gets one seed drawn from the run's ``numpy.random.Generator``
  (and, where it keeps more than one random stream, seeds derived from it); nothing touches a
  global RNG, so the same run seed gives the same bytes in any process.
* **Charging.** The adapter asks the library for one architecture at a time; each feasible one
  is proposed to the harness and costs one query, repeats included (as for the built-ins).
* **Infeasible proposals are never charged.** An architecture above the FLOPs limit is told to
  the library as infeasible, in the library's own terms (each adapter's ``infeasible_as`` says
  which), and the library is asked again. ``max_infeasible_in_a_row`` bounds that loop.
* **Pickling.** Libraries hold locks, storages and lazy state, so an adapter pickles its seed
  and the accuracies it was told, and rebuilds the library by replaying them (the library is
  deterministic given both, so the rebuilt state is the same).
"""

from __future__ import annotations

import importlib
import importlib.util
from abc import abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from typing import Any, ClassVar

import numpy as np

from nas_harness.algorithms._common import EMPTY, BudgetedAlgorithm
from nas_harness.algorithms.params import check, param
from nas_harness.algorithms.registry import AlgorithmUnavailableError
from nas_harness.benchmarks.errors import HarnessError
from nas_harness.benchmarks.protocol import SearchContext

__all__ = ["AdapterParams", "InfeasibleLoopError", "LibraryAdapter", "install_hint",
           "private_numpy_global"]

SEED_HIGH = 2**31 - 1  # libraries take 32-bit seeds (NumPy's RandomState, random.Random)


class InfeasibleLoopError(HarnessError, RuntimeError):
    """A library kept proposing architectures above the FLOPs limit."""


def install_hint(extra: str, command: str = "") -> str:
    """The line shown for an adapter whose library is missing."""
    return f"not installed: {command or f'pip install nas-harness[{extra}]'}"


# NumPy's legacy global functions (``np.random.randint`` ...): the bound methods of its hidden
# global RandomState, all of which a RandomState of our own also has
_NUMPY_GLOBALS = tuple(name for name in dir(np.random.RandomState)
                       if not name.startswith("_") and callable(getattr(np.random, name, None)))


@contextmanager
def private_numpy_global(state: np.random.RandomState) -> Iterator[None]:
    """Route ``np.random.<function>`` calls to ``state`` for the duration of the block.

    For libraries that draw from NumPy's global state (Nevergrad does in places): their draws
    then come from a stream seeded from the run's Generator, so they are reproducible in any
    process, and the global state is neither read nor advanced. Not thread-safe: code that
    uses the global functions in another thread meanwhile would draw from ``state``.
    """
    saved = {name: getattr(np.random, name) for name in _NUMPY_GLOBALS}
    try:
        for name in _NUMPY_GLOBALS:
            setattr(np.random, name, getattr(state, name))
        yield
    finally:
        for name, value in saved.items():
            setattr(np.random, name, value)


@dataclass(frozen=True)
class AdapterParams:
    """Parameters every adapter has."""

    max_infeasible_in_a_row: int = param(
        100_000, "infeasible proposals the library may make in a row before the run fails "
                 "(they are never charged)",
        "harness choice: generous, it only stops a library that cannot learn the constraint")

    def __post_init__(self) -> None:
        check(self.max_infeasible_in_a_row >= 1, "max_infeasible_in_a_row must be at least 1")


class LibraryAdapter(BudgetedAlgorithm):
    """Base of the adapters: one library proposal at a time, infeasible ones told and re-asked.

    Subclasses set ``library`` (import and distribution name), ``extra`` (the extra of
    nas-harness that installs it) or ``install`` (the whole command, for a third-party adapter),
    ``requires`` (other modules needed) and ``infeasible_as`` (how an infeasible proposal is
    told), and implement :meth:`_open`, :meth:`_library_ask`, :meth:`_library_tell` and
    :meth:`_library_reject`.
    """

    Params: ClassVar[type] = AdapterParams
    library: ClassVar[str] = ""
    extra: ClassVar[str] = ""
    install: ClassVar[str] = ""
    requires: ClassVar[tuple[str, ...]] = ()
    infeasible_as: ClassVar[str] = ""

    @classmethod
    def unavailable(cls) -> str | None:
        """The install hint when the library (or a module it needs) is missing."""
        for module in (cls.library, *cls.requires):
            if importlib.util.find_spec(module) is None:
                return install_hint(cls.extra, cls.install)
        return None

    @classmethod
    def provenance(cls) -> dict[str, str]:
        """The versions of the library and the modules it needs, as imported.

        The harness calls this before a run starts, so importing here keeps the libraries'
        import-time side effects out of the run (Nevergrad imports scikit-learn, which imports
        ``rich``, which draws from ``random`` once when imported; the harness fails a run that
        touches the global random state).
        """
        out = {}
        for module in (cls.library, *cls.requires):
            try:
                version = getattr(importlib.import_module(module), "__version__", "")
                out[module] = str(version or metadata.version(module))
            except ImportError:
                out[module] = "not installed"
            except metadata.PackageNotFoundError:  # pragma: no cover - imported, no metadata
                out[module] = "unknown"
        return out

    def __init__(self, context: SearchContext, rng: np.random.Generator,
                 params: Any | None = None) -> None:
        super().__init__(context, rng, params)
        missing = self.unavailable()
        if missing:
            raise AlgorithmUnavailableError(f"algorithm {self.name!r} is {missing}")
        self._seed = int(rng.integers(0, SEED_HIGH))
        self._feasible = context.flops <= context.max_flops
        self._weights = context.space.weights  # index = pos @ weights
        # option value -> ordinal, per layer (libraries speak in channel counts)
        self._ordinal = [{v: i for i, v in enumerate(opts)} for opts in context.space.options]
        self._told: list[float] = []
        self._token: Any = None
        self.num_infeasible = 0
        self._lib: Any = self._open(self._seed)

    # -- what a subclass implements -------------------------------------------------------------
    @abstractmethod
    def _open(self, seed: int) -> Any:
        """Create the library's optimizer, seeded with ``seed``; stored as ``self._lib``."""

    @abstractmethod
    def _library_ask(self) -> tuple[Any, tuple[int, ...]]:
        """One proposal: a library handle and the channel count of each layer."""

    @abstractmethod
    def _library_tell(self, token: Any, index: int, valid_acc: float) -> None:
        """Tell the library the validation accuracy of a proposal it made."""

    @abstractmethod
    def _library_reject(self, token: Any, index: int, violation: float) -> None:
        """Tell the library that a proposal breaks the constraint (``violation`` > 0)."""

    # -- the loop -------------------------------------------------------------------------------
    def _index(self, channels: tuple[int, ...]) -> int:
        pos = [self._ordinal[layer][int(c)] for layer, c in enumerate(channels)]
        return int(np.dot(pos, self._weights))

    def _next_feasible(self) -> int:
        limit = self.params.max_infeasible_in_a_row
        for _ in range(limit):
            token, channels = self._library_ask()
            index = self._index(channels)
            if self._feasible[index]:
                self._token = token
                return index
            self.num_infeasible += 1
            violation = float(self.context.flops[index] / self.context.max_flops - 1.0)
            self._library_reject(token, index, violation)
        raise InfeasibleLoopError(
            f"{self.name} proposed {limit} architectures above the FLOPs limit in a row; raise "
            "max_flops_fraction or the parameter max_infeasible_in_a_row")

    def ask(self, max_batch: int) -> np.ndarray:
        """The library's next feasible proposal (one per call); nothing once the budget is spent."""
        if self._quota(max_batch) <= 0:
            return EMPTY
        return self._proposed(np.array([self._next_feasible()], dtype=np.int64))

    def tell(self, indices: np.ndarray, valid_acc: np.ndarray) -> None:
        """Pass the accuracy of the last proposal on to the library."""
        idx, acc = self._accept(indices, valid_acc)
        value = float(acc[0])
        self._library_tell(self._token, int(idx[0]), value)
        self._token = None
        self._told.append(value)

    # -- pickling by replay ---------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_lib"] = state["_token"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        told, pending = list(self._told), self._pending
        self._told, self.num_infeasible = [], 0
        self._lib = self._open(self._seed)
        for value in told:
            index = self._next_feasible()
            self._library_tell(self._token, index, value)
            self._told.append(value)
        self._token = None
        if pending.size:
            self._next_feasible()
