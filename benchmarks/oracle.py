"""The oracle: validation accuracy for budget, cost for free, and a log of every query.

Algorithms never hold the oracle; the runner asks it on their behalf and forwards only the
validation accuracy. Test accuracy stays in the table for the harness's reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.errors import BudgetExhaustedError, DataIntegrityError, ProtocolError
from benchmarks.protocol import Protocol, SearchContext
from benchmarks.space import SSS, SearchSpace
from benchmarks.table import DatasetTable


@dataclass(frozen=True)
class QueryLog:
    """Every charged query so far, in order (arrays of equal length)."""

    index: np.ndarray
    valid_acc: np.ndarray
    feasible: np.ndarray
    duplicate: np.ndarray


class Oracle:
    """Answers accuracy queries under a protocol and charges one unit of budget per query.

    Duplicated queries are charged and flagged, as in NATS-Bench. At hp=12 each query reads
    the accuracy of one seed drawn from ``rng`` (NATS-Bench's ``is_random=True``).
    """

    def __init__(self, table: DatasetTable, protocol: Protocol,
                 rng: np.random.Generator | None = None, space: SearchSpace = SSS) -> None:
        if protocol.fidelity not in table.fidelities:
            raise ProtocolError(
                f"fidelity hp={protocol.fidelity} is not in this table (it has "
                f"{', '.join('hp=' + f for f in table.fidelities)}); hp=12 needs a table built "
                "from the official archive: "
                "`nas-harness data build --from NATS-sss-v1_0-50262-simple`"
            )
        if protocol.fidelity == "12" and rng is None:
            raise ProtocolError("hp=12 draws one seed per query: pass an rng to the Oracle")
        self.table = table
        self.protocol = protocol
        self.space = space
        self.context = SearchContext.for_protocol(table, protocol, space)
        self._rng = rng
        self._complete = table.is_complete  # skip the per-query availability check
        self._seen = np.zeros(space.size, dtype=bool)
        cap = protocol.budget
        self._index = np.empty(cap, dtype=np.int64)
        self._valid = np.empty(cap, dtype=np.float64)
        self._feasible = np.empty(cap, dtype=bool)
        self._duplicate = np.empty(cap, dtype=bool)
        self._used = 0

    @property
    def used(self) -> int:
        """Queries charged so far."""
        return self._used

    @property
    def remaining(self) -> int:
        """Queries left in the budget."""
        return self.protocol.budget - self._used

    def cost(self, indices: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """FLOPs (M) and parameter counts of architectures: free, vectorised."""
        idx = self.space.check_indices(indices)
        return self.table.flops[idx], self.table.params[idx]

    def evaluate(self, indices: np.ndarray | list[int] | int) -> np.ndarray:
        """Validation accuracies of ``indices``; charges one query each, all or nothing."""
        idx = np.atleast_1d(self.space.check_indices(indices))
        n = len(idx)
        if n > self.remaining:
            raise BudgetExhaustedError(
                f"{n} queries asked but only {self.remaining} of {self.protocol.budget} remain"
            )
        if not self._complete and not self.table.available[idx].all():
            missing = int(idx[~self.table.available[idx]][0])
            raise DataIntegrityError(
                f"architecture {missing} ({self.space.format(missing)}) has no data in this "
                "(partial) table; build the full table with `nas-harness data build`"
            )
        if self.protocol.fidelity == "12":
            assert self._rng is not None and self.table.hp12_valid_acc is not None
            seeds = self._rng.integers(0, self.table.hp12_valid_acc.shape[1], size=n)
            acc = self.table.hp12_valid_acc[idx, seeds]
        else:
            acc = self.table.valid_acc[idx]
        start, stop = self._used, self._used + n
        self._index[start:stop] = idx
        self._valid[start:stop] = acc
        self._feasible[start:stop] = self.context.is_feasible(idx)
        # a duplicate is a query of an index seen before, earlier in this batch included
        dup = self._seen[idx]
        if n > 1:
            _, first = np.unique(idx, return_index=True)
            within = np.ones(n, dtype=bool)
            within[first] = False
            dup = dup | within
        self._duplicate[start:stop] = dup
        self._seen[idx] = True
        self._used = stop
        return acc.copy()

    @property
    def log(self) -> QueryLog:
        """A copy of every charged query so far."""
        u = self._used
        return QueryLog(self._index[:u].copy(), self._valid[:u].copy(),
                        self._feasible[:u].copy(), self._duplicate[:u].copy())
