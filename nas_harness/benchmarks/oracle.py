"""The oracle: validation accuracy for budget, cost for free, and a log of every query.

Algorithms never hold the oracle; the runner asks it on their behalf and forwards only the
validation accuracy. Test accuracy stays in the table for the harness's reports.

At hp=12 each query reads one seed drawn from the run's oracle stream among the seeds the
table holds for that architecture and dataset (NATS-Bench's ``is_random=True`` draws
``random.choice`` over the trial's seeds, so never a missing one). Under a time budget
(``Protocol.budget_seconds``) each query also advances a simulated clock by that seed's
``hp12_time``, which the log records (``elapsed``).
"""

from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from nas_harness.benchmarks.errors import BudgetExhaustedError, DataIntegrityError, ProtocolError
from nas_harness.benchmarks.protocol import FreeSignals, Protocol, SearchContext
from nas_harness.benchmarks.space import SSS, SearchSpace
from nas_harness.benchmarks.table import DatasetTable

_V = TypeVar("_V")


@dataclass(frozen=True)
class QueryLog:
    """Every charged query so far, in order (arrays of equal length)."""

    index: np.ndarray
    valid_acc: np.ndarray
    feasible: np.ndarray
    duplicate: np.ndarray
    elapsed: np.ndarray
    """Simulated seconds on the clock after each query (NaN without a time budget)."""


class Oracle:
    """Answers accuracy queries under a protocol and charges one unit of budget per query.

    Duplicated queries are charged and flagged, as in NATS-Bench. At hp=12 each query reads
    the accuracy of one seed drawn from ``rng`` among the seeds present for it (NATS-Bench's
    ``is_random=True``). Under a time budget a query that would take the clock past
    ``budget_seconds`` is not charged and ends the run (:attr:`remaining` drops to 0).
    A protocol with free signals needs their columns (``signals``, name -> dense array); the
    algorithm reads them through its context, and charged reads come off the query budget.
    """

    def __init__(self, table: DatasetTable, protocol: Protocol,
                 rng: np.random.Generator | None = None, space: SearchSpace = SSS,
                 signals: Mapping[str, np.ndarray] | None = None) -> None:
        if protocol.fidelity not in table.fidelities:
            raise ProtocolError(
                f"fidelity hp={protocol.fidelity} is not in this table (it has "
                f"{', '.join('hp=' + f for f in table.fidelities)}); hp=12 needs a table built "
                "from the official archive: "
                "`nas-harness data build --from NATS-sss-v1_0-50262-simple`"
            )
        if protocol.fidelity == "12" and rng is None:
            raise ProtocolError("hp=12 draws one seed per query: pass an rng to the Oracle")
        self._seconds = protocol.budget_seconds
        if self._seconds is not None and table.hp12_time is None:
            raise ProtocolError(
                "a time budget needs the hp=12 training times, which this table lacks; build "
                "it from the official archive: "
                "`nas-harness data build --from NATS-sss-v1_0-50262-simple.tar`")
        self._clock = 0.0
        self._stopped = False
        self._present = table.hp12_seeds if protocol.fidelity == "12" else None
        self.table = table
        self.protocol = protocol
        self.space = space
        self.context = _context(table, protocol, space)
        self._rng = rng
        self._complete = table.is_complete  # skip the per-query availability check
        self._budget = int(protocol.budget)
        self._size = space.size
        self._max_flops = self.context.max_flops
        # scalar fast path (query) only where a query is a plain lookup of one column
        self._fast = protocol.fidelity == "90" and self._complete and self._seconds is None
        self._signals: FreeSignals | None = None
        if protocol.free_signals:
            absent = [n for n in protocol.free_signals if n not in (signals or {})]
            if absent:
                raise ProtocolError(f"the protocol declares free signal(s) {', '.join(absent)}"
                                    " but the oracle was given no scores for them")
            self._signals = FreeSignals({n: (signals or {})[n] for n in protocol.free_signals},
                                        protocol.proxy_query_cost)
            self.context = dataclasses.replace(self.context, signals=self._signals)
            self._fast = self._fast and not protocol.proxy_query_cost
        self._columns: _PythonColumns | None = None
        self._seen = bytearray(space.size)
        self._seen_np = np.frombuffer(self._seen, dtype=np.bool_)  # same memory, for batches
        # the log: numpy chunks from batches, plus single queries pending as tuples
        self._chunks: list[QueryLog] = []
        self._pending: list[tuple[int, float, bool, bool]] = []
        self._used = 0

    @property
    def used(self) -> int:
        """Queries charged so far."""
        return self._used

    @property
    def remaining(self) -> int:
        """Queries left in the budget (0 once a time budget has ended the run).

        Charged proxy reads count too: ``floor(budget - used - charge)``.
        """
        if self._stopped:
            return 0
        left = self.protocol.budget - self._used
        if self._signals is not None and self._signals.charged:
            left = max(0, math.floor(left - self._signals.charged + 1e-9))
        return left

    @property
    def charges_signals(self) -> bool:
        """Whether reading a free signal costs budget (``proxy_query_cost`` > 0)."""
        return self._signals is not None and self.protocol.proxy_query_cost > 0

    @property
    def timed(self) -> bool:
        """Whether a time budget applies (then :meth:`evaluate` may charge only a prefix)."""
        return self._seconds is not None

    @property
    def elapsed(self) -> float:
        """Simulated seconds charged so far (0.0 without a time budget)."""
        return self._clock

    def cost(self, indices: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """FLOPs (M) and parameter counts of architectures: free, vectorised."""
        idx = self.space.check_indices(indices)
        return self.table.flops[idx], self.table.params[idx]

    def evaluate(self, indices: np.ndarray | list[int] | int) -> np.ndarray:
        """Validation accuracies of ``indices``; charges one query each.

        Under a query budget it is all or nothing. Under a time budget it charges the longest
        prefix whose simulated time fits and returns only that prefix's accuracies: the first
        query that would overrun the clock ends the run (and is neither charged nor logged).
        """
        idx = np.atleast_1d(self.space.check_indices(indices))
        n = len(idx)
        if self._stopped:
            raise BudgetExhaustedError(
                f"the time budget of {self._seconds:g} simulated seconds is spent")
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
        elapsed = np.full(n, np.nan)
        if self.protocol.fidelity == "12":
            seeds = self._draw_seeds(idx)
            acc = self.table.hp12_valid_acc[idx, seeds]  # type: ignore[index]
            if self._seconds is not None:
                idx, acc, elapsed = self._charge_time(idx, seeds, acc)
                n = len(idx)
        else:
            acc = self.table.valid_acc[idx]
        # a duplicate is a query of an index seen before, earlier in this batch included
        dup = self._seen_np[idx]
        if n > 1:
            _, first = np.unique(idx, return_index=True)
            within = np.ones(n, dtype=bool)
            within[first] = False
            dup = dup | within
        self._seen_np[idx] = True
        self._flush_pending()
        self._chunks.append(QueryLog(idx.copy(), acc.copy(), self.context.is_feasible(idx), dup,
                                     elapsed))
        self._used += n
        return acc.copy()

    def _draw_seeds(self, idx: np.ndarray) -> np.ndarray:
        """One hp=12 seed column per query, uniform among the seeds present (vectorised)."""
        assert self._present is not None
        present = self._present[idx]
        counts = present.sum(axis=1)
        if not counts.all():
            bad = int(idx[counts == 0][0])
            raise DataIntegrityError(
                f"architecture {bad} ({self.space.format(bad)}) has no hp=12 result on "
                f"{self.protocol.dataset} in this table; rebuild it from the complete archive")
        assert self._rng is not None
        pick = self._rng.integers(0, counts)  # the pick-th present seed of each row
        rank = np.cumsum(present, axis=1) - 1
        return np.argmax(present & (rank == pick[:, None]), axis=1)

    def _charge_time(self, idx: np.ndarray, seeds: np.ndarray, acc: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance the clock by each query's hp=12 time; keep the prefix that fits."""
        assert self.table.hp12_time is not None and self._seconds is not None
        cost = self.table.hp12_time[idx, seeds]
        if np.isnan(cost).any():
            bad = int(idx[np.isnan(cost)][0])
            raise DataIntegrityError(
                f"architecture {bad} ({self.space.format(bad)}) has an hp=12 accuracy but no "
                f"training time on {self.protocol.dataset}; rebuild the table from the archive")
        # (clock + c1) + c2 ...: NATS-Bench's ``_used_time += cost``, the same in any batching
        clock = np.cumsum(np.concatenate(([self._clock], cost)))[1:]
        fits = int(np.argmin(clock <= self._seconds)) if not (clock <= self._seconds).all() \
            else len(idx)
        if fits < len(idx):
            self._stopped = True
        if fits:
            self._clock = float(clock[fits - 1])
        return idx[:fits], acc[:fits], clock[:fits]

    def query(self, index: int) -> float:
        """One architecture's validation accuracy: the scalar fast path of :meth:`evaluate`.

        Same charging, checks and log as ``evaluate([index])``, without numpy's per-call
        overhead: sequential algorithms (evolution, REINFORCE) ask one architecture at a time.
        """
        if not self._fast:
            answered = self.evaluate(index)
            if not len(answered):
                raise BudgetExhaustedError(
                    f"the next query would overrun the time budget of {self._seconds:g} "
                    "simulated seconds")
            return float(answered[0])
        if self._used >= self._budget:
            raise BudgetExhaustedError(f"1 query asked but only 0 of {self._budget} remain")
        i = operator.index(index)
        if not 0 <= i < self._size:
            self.space.check_indices(i)  # raises with the standard message
        columns = self._columns or self._load_columns()
        acc = columns.valid_acc[i]
        self._pending.append((i, acc, columns.flops[i] <= self._max_flops, self._seen[i] == 1))
        self._seen[i] = 1
        self._used += 1
        return acc

    def _load_columns(self) -> _PythonColumns:
        self._columns = _python_columns(self.table)
        return self._columns

    def _flush_pending(self) -> None:
        """Move the single queries logged as tuples into a numpy chunk (keeps query order)."""
        if self._pending:
            index, valid, feasible, duplicate = zip(*self._pending, strict=True)
            self._chunks.append(QueryLog(np.array(index, dtype=np.int64),
                                         np.array(valid, dtype=np.float64),
                                         np.array(feasible, dtype=bool),
                                         np.array(duplicate, dtype=bool),
                                         np.full(len(index), np.nan)))
            self._pending.clear()

    @property
    def log(self) -> QueryLog:
        """A copy of every charged query so far."""
        self._flush_pending()
        chunks = self._chunks or [QueryLog(np.empty(0, np.int64), np.empty(0),
                                           np.empty(0, bool), np.empty(0, bool), np.empty(0))]
        return QueryLog(*(np.concatenate([getattr(c, f) for c in chunks])
                          for f in ("index", "valid_acc", "feasible", "duplicate", "elapsed")))


class _PerTable(Generic[_V]):
    """A small memo of values derived from a table object, bounded in size.

    Keyed by ``id(table)`` (and a hashable ``extra``); each entry holds its table, so no other
    object can take that id while the entry lives. At most ``size`` entries are kept, the
    oldest dropped first, so memory stays bounded however many tables a process makes (the
    tests make hundreds; a sweep uses one per dataset).
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: dict[tuple[int, Hashable], tuple[DatasetTable, _V]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, table: DatasetTable, extra: Hashable, make: Callable[[], _V]) -> _V:
        """The value for ``(table, extra)``, made by ``make()`` on the first call."""
        key = (id(table), extra)
        hit = self._entries.get(key)
        if hit is not None:
            return hit[1]
        if len(self._entries) >= self._size:
            del self._entries[next(iter(self._entries))]
        value = make()
        self._entries[key] = (table, value)
        return value


# Building a context scans the table (largest FLOPs, any feasible architecture). Measured with
# tools.speed.targets' harness loop (30 runs x 500 queries on CIFAR-10, 2-core machine): a
# random-search run costs 0.18 ms with the memo, 0.31 ms without.
_CONTEXTS: _PerTable[SearchContext] = _PerTable(16)


def _context(table: DatasetTable, protocol: Protocol, space: SearchSpace) -> SearchContext:
    """The run's :class:`SearchContext`, built once per table and protocol per process.

    The context is frozen and its arrays are the table's, so the runs of a sweep share it.
    """
    return _CONTEXTS.get(table, (protocol, space),
                         lambda: SearchContext.for_protocol(table, protocol, space))


@dataclass(frozen=True)
class _PythonColumns:
    """Columns as Python lists: indexing a list is ~3x cheaper than a numpy scalar read."""

    valid_acc: list[float]
    flops: list[float]


# Converting the two columns to lists costs about as much as a third of an evolution run.
# Measured with tools.speed.targets' harness loop (30 runs x 500 queries on CIFAR-10, 2-core
# machine): an evolution run costs 5.8 ms with the memo, 7.6 ms when every Oracle converts.
_COLUMNS: _PerTable[_PythonColumns] = _PerTable(8)


def _python_columns(table: DatasetTable) -> _PythonColumns:
    """The list form of a table's columns, built once per table per process."""
    return _COLUMNS.get(table, None, lambda: _PythonColumns(table.valid_acc.tolist(),
                                                            table.flops.tolist()))
