"""Reference lines read from the benchmark table itself, under a run's protocol.

* ``best_by_valid_test_acc``: the test accuracy of the feasible architecture with the best
  validation accuracy -- what a perfect search under this protocol ends with (the incumbent
  rule ranks by validation). Ties in validation keep the lowest index, and ``optimal_indices``
  lists every tied architecture so "found the optimum" accepts any of them.
* ``best_test_acc``: the best test accuracy of any feasible architecture (an oracle that
  could see test accuracy); the gap between the two lines is the validation/test mismatch.

At hp=12 the validation signal is a random seed per query; the reference then ranks by the
mean over the three seeds, the expectation of what a query returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nas_harness.benchmarks.protocol import Protocol
from nas_harness.benchmarks.table import DatasetTable


@dataclass(frozen=True)
class References:
    """Reference numbers of one dataset under one protocol (accuracies in %)."""

    dataset: str
    max_flops: float
    num_feasible: int
    best_by_valid_index: int
    best_by_valid_valid_acc: float
    best_by_valid_test_acc: float
    best_test_index: int
    best_test_acc: float
    optimal_indices: tuple[int, ...]


def validation_signal(table: DatasetTable, fidelity: str) -> np.ndarray:
    """The validation accuracy a search is ranked by at ``fidelity`` (hp=12: seed mean)."""
    if str(fidelity) == "12" and table.hp12_valid_acc is not None:
        return table.hp12_valid_acc.mean(axis=1)
    return np.asarray(table.valid_acc, dtype=np.float64)


def feasible_mask(table: DatasetTable, protocol: Protocol) -> np.ndarray:
    """Architectures with data that satisfy the protocol's FLOPs constraint."""
    return np.asarray(table.available, dtype=bool) & (table.flops <= protocol.max_flops(table))


def references(table: DatasetTable, protocol: Protocol) -> References:
    """The reference lines of ``table`` under ``protocol`` (see the module docstring)."""
    feasible = feasible_mask(table, protocol)
    valid = np.where(feasible, validation_signal(table, protocol.fidelity), -np.inf)
    test = np.where(feasible, table.test_acc, -np.inf)
    best_v = int(np.argmax(valid))  # first (lowest index) of ties
    best_t = int(np.argmax(test))
    optimal = np.flatnonzero(valid == valid[best_v])
    return References(
        dataset=table.dataset,
        max_flops=float(protocol.max_flops(table)),
        num_feasible=int(feasible.sum()),
        best_by_valid_index=best_v,
        best_by_valid_valid_acc=float(valid[best_v]),
        best_by_valid_test_acc=float(table.test_acc[best_v]),
        best_test_index=best_t,
        best_test_acc=float(table.test_acc[best_t]),
        optimal_indices=tuple(int(i) for i in optimal),
    )
