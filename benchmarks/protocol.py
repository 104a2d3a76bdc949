"""The experimental protocol and the view of it that a search algorithm is given.

``Protocol`` says what is being compared (dataset, fidelity, FLOPs constraint, query budget).
``SearchContext`` is everything an algorithm may know before spending budget: the search
space, the free cost of every architecture and the constraint. It holds no accuracy at all, so
an algorithm cannot see test (or validation) accuracy except through ``tell``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.datasets import get_dataset
from benchmarks.errors import ProtocolError, UnknownNameError
from benchmarks.space import SSS, SearchSpace
from benchmarks.table import FIDELITIES, DatasetTable

DEFAULT_BUDGET = 500
DEFAULT_FLOPS_FRACTION = 0.5


@dataclass(frozen=True)
class Protocol:
    """What a run is judged under.

    Attributes:
        dataset: canonical dataset name (aliases are normalised).
        budget: number of accuracy queries (each costs one unit; cost queries are free).
        fidelity: ``"90"`` (hp=90, default) or ``"12"`` (hp=12, one random seed per query,
            as NATS-Bench; needs a table built from the official archive).
        max_flops_fraction: feasible architectures have FLOPs at most this fraction of the
            largest model's FLOPs on the dataset; ``None`` removes the constraint.
    """

    dataset: str = "cifar10"
    budget: int = DEFAULT_BUDGET
    fidelity: str = "90"
    max_flops_fraction: float | None = DEFAULT_FLOPS_FRACTION

    def __post_init__(self) -> None:
        object.__setattr__(self, "dataset", get_dataset(self.dataset).name)
        object.__setattr__(self, "fidelity", str(self.fidelity))
        if self.fidelity not in FIDELITIES:
            raise UnknownNameError(
                f"unknown fidelity {self.fidelity!r}; choose one of: {', '.join(FIDELITIES)}"
            )
        if not isinstance(self.budget, (int, np.integer)) or self.budget < 1:
            raise ProtocolError(f"the query budget must be a positive integer, got {self.budget!r}")
        if self.max_flops_fraction is not None and not 0 < self.max_flops_fraction <= 1:
            raise ProtocolError(  # inf and nan too: None ('none') is how to say no constraint
                f"max_flops_fraction must be in (0, 1] like 0.5, or None ('none' on the command "
                f"line) for no constraint; got {self.max_flops_fraction!r}"
            )

    def max_flops(self, table: DatasetTable) -> float:
        """The FLOPs limit (in MFLOPs) on this dataset: a fraction of the largest model's."""
        if self.max_flops_fraction is None:
            return float("inf")
        return float(self.max_flops_fraction * np.nanmax(table.flops))


@dataclass(frozen=True, eq=False)
class SearchContext:
    """What an algorithm knows for free: space, cost of every architecture, constraint, budget.

    ``flops`` and ``params`` are dense arrays over all architecture indices (read-only), so
    ``context.flops[indices]`` is the vectorised, free cost query.
    """

    space: SearchSpace
    flops: np.ndarray
    params: np.ndarray
    max_flops: float
    budget: int

    def is_feasible(self, indices: np.ndarray | int) -> np.ndarray:
        """Whether architectures satisfy the FLOPs constraint (vectorised, free)."""
        return self.flops[indices] <= self.max_flops

    def feasible_indices(self) -> np.ndarray:
        """All architecture indices that satisfy the constraint, ascending."""
        return np.flatnonzero(self.flops <= self.max_flops)

    @classmethod
    def for_protocol(cls, table: DatasetTable, protocol: Protocol,
                     space: SearchSpace = SSS) -> SearchContext:
        """The context of ``protocol`` on ``table``; refuses a constraint nobody satisfies."""
        max_flops = protocol.max_flops(table)
        context = cls(space=space, flops=table.flops, params=table.params,
                      max_flops=max_flops, budget=int(protocol.budget))
        if not np.any(table.flops[table.available] <= max_flops):
            raise ProtocolError(
                f"no architecture with data satisfies FLOPs <= {max_flops:.4f}M on "
                f"{protocol.dataset}; raise max_flops_fraction"
            )
        return context
