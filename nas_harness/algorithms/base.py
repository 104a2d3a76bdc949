"""The interface every search algorithm implements: ask for proposals, tell their results.

The runner drives an algorithm like this (batches allowed)::

    algo = AlgoClass(context, rng, params)
    while oracle.remaining:
        proposals = algo.ask(max_batch=oracle.remaining)   # 1..max_batch indices, or empty = done
        algo.tell(proposals, oracle.evaluate(proposals))   # validation accuracy only

An algorithm sees the free cost of every architecture (``context.flops``), the constraint
(``context.max_flops``) and its budget; it never sees test accuracy. Every random choice comes
from ``self.rng``, the injected ``numpy.random.Generator``: never ``random`` or ``np.random.*``.
Instances must be picklable (runs go to other processes).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nas_harness.benchmarks.protocol import SearchContext


@dataclass(frozen=True)
class NoParams:
    """Parameters of an algorithm that has none."""


class Algorithm(ABC):
    """Base class of search algorithms (ask/tell over architecture indices).

    Subclasses set ``Params`` to a frozen dataclass whose fields (with defaults) are the
    algorithm's parameters; the CLI lists and sets them and the results record them.
    """

    Params: ClassVar[type] = NoParams
    name: ClassVar[str] = ""

    def __init__(self, context: SearchContext, rng: np.random.Generator,
                 params: Any | None = None) -> None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        self.context = context
        self.rng = rng
        self.params = self.Params() if params is None else params
        if not isinstance(self.params, self.Params):
            raise TypeError(
                f"{type(self).__name__} expects params of type {self.Params.__name__}, "
                f"got {type(self.params).__name__}"
            )

    @classmethod
    def unavailable(cls) -> str | None:
        """Why this algorithm cannot run here (e.g. a missing optional library), or None.

        The registry lists such an algorithm with this text and refuses to run it.
        """
        return None

    @classmethod
    def provenance(cls) -> dict[str, str]:
        """Versions of the outside code that decides its proposals (``{"optuna": "4.5.0"}``).

        Recorded in each run's sidecar (``library``) and shown in the report; the built-ins
        have none.
        """
        return {}

    @abstractmethod
    def ask(self, max_batch: int) -> np.ndarray:
        """Propose architectures to evaluate next.

        Args:
            max_batch: the most proposals the runner will accept now (the remaining budget).

        Returns:
            An int64 array of 1..max_batch architecture indices, or an empty array when the
            search has nothing more to propose (the run then ends early).
        """

    @abstractmethod
    def tell(self, indices: np.ndarray, valid_acc: np.ndarray) -> None:
        """Learn from the validation accuracies of the architectures ``ask`` returned last."""
