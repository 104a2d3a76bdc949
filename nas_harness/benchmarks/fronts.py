"""Exact Pareto fronts of the whole table: cost down, accuracy up.

The table holds every architecture, so the trade-off between a cost (FLOPs or parameters) and
accuracy is known exactly; the multi-objective metrics measure a search against it. The front
is the non-dominated set: an architecture is dropped when another one costs no more and is no
less accurate, and is strictly better in one of the two. Of architectures with identical cost
and accuracy, the one with the lowest index is kept, so the front is one well-defined set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nas_harness.benchmarks.errors import UnknownNameError
from nas_harness.benchmarks.space import SSS, SearchSpace
from nas_harness.benchmarks.table import DatasetTable

COSTS: tuple[str, ...] = ("flops", "params")
"""Cost axes: FLOPs in millions (as NATS-Bench reports them) or the parameter count."""
SPLITS: tuple[str, ...] = ("valid", "test")
"""Accuracy axes: hp=90 validation (what a search sees) or test accuracy (what is reported)."""


def check_cost(cost: str) -> str:
    """``cost`` if it is a known cost axis; one clear line otherwise."""
    if cost not in COSTS:
        raise UnknownNameError(f"unknown cost {cost!r}; choose one of: {', '.join(COSTS)}")
    return cost


def check_split(split: str) -> str:
    """``split`` if it is a known accuracy split; one clear line otherwise."""
    if split not in SPLITS:
        raise UnknownNameError(f"unknown split {split!r}; choose one of: {', '.join(SPLITS)}")
    return split


def pareto_mask(cost: np.ndarray, accuracy: np.ndarray) -> np.ndarray:
    """Which points are non-dominated (cost minimised, accuracy maximised).

    Of points with identical cost and accuracy only the first (lowest position) is kept.
    Points whose cost or accuracy is NaN are never kept. Vectorised: one sort and a running
    maximum, O(n log n).
    """
    c = np.asarray(cost, dtype=np.float64)
    a = np.asarray(accuracy, dtype=np.float64)
    if c.shape != a.shape or c.ndim != 1:
        raise ValueError(f"cost and accuracy must be 1-D of equal length, got {c.shape}, "
                         f"{a.shape}")
    ok = ~(np.isnan(c) | np.isnan(a))
    pos = np.flatnonzero(ok)
    # cheapest first; at equal cost the most accurate first; then the lowest position
    order = pos[np.lexsort((pos, -a[pos], c[pos]))]
    acc = a[order]
    best_before = np.maximum.accumulate(np.concatenate(([-np.inf], acc[:-1])))
    mask = np.zeros(len(c), dtype=bool)
    mask[order[acc > best_before]] = True
    return mask


def pareto_order(cost: np.ndarray, accuracy: np.ndarray) -> np.ndarray:
    """Positions of the non-dominated points, sorted by cost ascending."""
    c = np.asarray(cost, dtype=np.float64)
    keep = np.flatnonzero(pareto_mask(c, accuracy))
    return keep[np.argsort(c[keep], kind="stable")]


@dataclass(frozen=True)
class Front:
    """An exact front: architecture indices with their cost and accuracy, cost ascending."""

    dataset: str
    split: str
    cost_name: str
    index: np.ndarray
    cost: np.ndarray
    accuracy: np.ndarray

    def __len__(self) -> int:
        return len(self.index)

    def rows(self, space: SearchSpace = SSS) -> list[tuple[str, float, float]]:
        """``(arch, cost, accuracy)`` per point, ``arch`` as the harness writes it."""
        archs = space.format_many(self.index)
        return list(zip(archs, self.cost.tolist(), self.accuracy.tolist(), strict=True))


def cost_column(table: DatasetTable, cost: str) -> np.ndarray:
    """The cost column ``cost`` of a table as float64."""
    return np.asarray(getattr(table, check_cost(cost)), dtype=np.float64)


def accuracy_column(table: DatasetTable, split: str) -> np.ndarray:
    """The hp=90 accuracy column of ``split``; rows without data are NaN."""
    acc = table.valid_acc if check_split(split) == "valid" else table.test_acc
    return np.where(table.available, acc, np.nan)


def exact_front(table: DatasetTable, split: str = "test", cost: str = "flops") -> Front:
    """The non-dominated set over every architecture of ``table`` with data."""
    c = cost_column(table, cost)
    a = accuracy_column(table, split)
    keep = pareto_order(c, a)
    return Front(dataset=table.dataset, split=split, cost_name=cost,
                 index=keep.astype(np.int64), cost=c[keep], accuracy=a[keep])
