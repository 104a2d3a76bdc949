"""Multi-objective metrics of a run: attained front, normalised hypervolume, IGD+, attainment.

A run's *attained front* is the non-dominated set (cost down, validation accuracy up) of the
architectures it evaluated: chosen by what the algorithm saw. It is reported by test accuracy,
so its points may dominate each other on test; the hypervolume simply counts the union.

Objective space (both minimised, both about 0..1, so IGD+ weighs them alike):
``x = cost / cost of the largest architecture (64:64:64:64:64)`` and
``y = 1 - accuracy / 100`` (the error rate). The reference point is fixed per dataset and cost
(:data:`REFERENCE_POINTS`), never recomputed from loaded data; hypervolume is reported
normalised by the exact test front's hypervolume under the same point (1 = the exact front).

Hypervolume, IGD+ and the empirical attainment function come from moocore. The per-query
curve is the one exception: it keeps the 2-D front incrementally (a dominated query costs one
bisection, and most queries are dominated) and recomputes the hypervolume of the small front
with a 2-D staircase sum when the front changes. moocore has no incremental interface, and a
moocore call per change (about 54 per run of 500 queries) made the curves of 1,800 runs take
about 4x longer than the target of 2 s; tests check the curve against moocore and a
brute-force area at every query.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nas_harness.benchmarks.errors import ProtocolError, UnknownNameError
from nas_harness.benchmarks.fronts import (
    accuracy_column,
    check_cost,
    cost_column,
    exact_front,
    pareto_order,
)
from nas_harness.benchmarks.table import DatasetTable

COST_REFERENCE = 1.1
"""Reference cost, as a fraction of the largest architecture's cost (see :class:`Reference`)."""


@dataclass(frozen=True)
class Reference:
    """The fixed reference point of one dataset and cost, and the cost that normalises it.

    Attributes:
        dataset: canonical dataset name.
        cost: ``flops`` or ``params``.
        largest_cost: cost of the largest architecture 64:64:64:64:64 on this dataset (MFLOPs
            or parameters), from the exact cost model; the cost axis is divided by it.
        accuracy: reference accuracy in %: a round number below the least accurate
            architecture of the whole table (validation and test), so every architecture
            dominates the point and any evaluated architecture adds volume.
        cost_fraction: reference cost as a fraction of ``largest_cost``: 1.1, beyond the
            largest architecture, so the most accurate end of a front adds volume too (a
            reference at the nadir gives the extreme points none).
    """

    dataset: str
    cost: str
    largest_cost: float
    accuracy: float
    cost_fraction: float = COST_REFERENCE

    @property
    def point(self) -> np.ndarray:
        """The reference point in objective space ``(cost fraction, error rate)``."""
        return np.array([self.cost_fraction, 1.0 - self.accuracy / 100.0])


# Published numbers (docs/fronts.md): never derived from whatever table is loaded.
_LARGEST = {  # (dataset, cost) -> cost of 64:64:64:64:64 (exact cost model, as the table)
    ("cifar10", "flops"): 274.399882, ("cifar10", "params"): 713674.0,
    ("cifar100", "flops"): 274.405732, ("cifar100", "params"): 719524.0,
    ("ImageNet16-120", "flops"): 68.607608, ("ImageNet16-120", "params"): 720824.0,
}
# the least accurate architecture of the table (valid/test, %): 76.89, 32.24, 15.47, rounded
# down to a multiple of 5
_ACCURACY = {"cifar10": 75.0, "cifar100": 30.0, "ImageNet16-120": 15.0}

REFERENCE_POINTS: dict[tuple[str, str], Reference] = {
    key: Reference(key[0], key[1], largest, _ACCURACY[key[0]])
    for key, largest in _LARGEST.items()
}


def reference_for(dataset: str, cost: str) -> Reference:
    """The published reference of ``dataset`` and ``cost``."""
    from nas_harness.benchmarks.datasets import get_dataset

    key = (get_dataset(dataset).name, check_cost(cost))
    if key not in REFERENCE_POINTS:
        raise UnknownNameError(f"no reference point for {key[0]} and {key[1]}")
    return REFERENCE_POINTS[key]


def objectives(cost: np.ndarray, accuracy: np.ndarray, ref: Reference) -> np.ndarray:
    """Points ``(n, 2)`` in objective space: cost fraction and error rate, both minimised."""
    c = np.asarray(cost, dtype=np.float64) / ref.largest_cost
    e = 1.0 - np.asarray(accuracy, dtype=np.float64) / 100.0
    return np.column_stack([c, e])


def check_reference(cost: np.ndarray, accuracy: np.ndarray, ref: Reference) -> None:
    """Refuse a reference point that some front point does not strictly dominate."""
    pts = objectives(cost, accuracy, ref)
    bad = ~np.all(pts < ref.point, axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ProtocolError(
            f"the reference point (cost {ref.cost_fraction:g} x {ref.largest_cost:g}, accuracy "
            f"{ref.accuracy:g}%) of {ref.dataset}/{ref.cost} is not dominated by the front "
            f"point (cost {float(cost[i]):g}, accuracy {float(accuracy[i]):g}%); choose a "
            "reference with a larger cost and a lower accuracy than every front point")


def hypervolume(cost: np.ndarray, accuracy: np.ndarray, ref: Reference) -> float:
    """Hypervolume (moocore) of the points in objective space; points beyond ``ref`` add 0."""
    import moocore

    pts = objectives(cost, accuracy, ref)
    pts = pts[np.all(pts < ref.point, axis=1)]
    if not len(pts):
        return 0.0
    return float(moocore.hypervolume(pts, ref=ref.point))


def igd_plus(cost: np.ndarray, accuracy: np.ndarray, front_cost: np.ndarray,
             front_accuracy: np.ndarray, ref: Reference) -> float:
    """IGD+ (moocore) of the points to the exact front, in objective space (0 = on it)."""
    import moocore

    if not len(cost):
        return float("nan")
    return float(moocore.igd_plus(objectives(cost, accuracy, ref),
                                  ref=objectives(front_cost, front_accuracy, ref)))


def attained(cost: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Positions of a run's attained front: non-dominated on (cost, validation accuracy)."""
    return pareto_order(cost, valid)


def staircase_area(x: Sequence[float], y: Sequence[float], rx: float, ry: float) -> float:
    """2-D hypervolume of points with ``x`` strictly ascending (both minimised), in O(n).

    ``y`` may be in any order: a front chosen on validation need not be one on test. The
    kernel of :func:`hv_curve`; a test checks it against moocore and a brute-force area.
    """
    area = 0.0
    best = ry
    n = len(x)
    for i in range(n):
        if y[i] < best:
            best = y[i]
        if best < ry and x[i] < rx:
            right = x[i + 1] if i + 1 < n else rx
            area += (min(right, rx) - x[i]) * (ry - best)
    return area


def staircase_areas(xs: Sequence[Sequence[float]], ys: Sequence[Sequence[float]], rx: float,
                    ry: float) -> np.ndarray:
    """:func:`staircase_area` of many point sets at once (vectorised over a padded matrix)."""
    m = len(xs)
    if not m:
        return np.empty(0)
    width = max(len(x) for x in xs)
    xm = np.full((m, width + 1), rx)
    ym = np.full((m, width), ry)
    for row, (x, y) in enumerate(zip(xs, ys, strict=True)):
        xm[row, :len(x)] = x
        ym[row, :len(y)] = y
    best = np.minimum.accumulate(np.minimum(ym, ry), axis=1)
    left = np.minimum(xm[:, :-1], rx)
    widths = np.minimum(xm[:, 1:], rx) - left
    return np.sum(widths * (ry - best), axis=1)


@dataclass(frozen=True)
class FrontTrace:
    """The attained front over a run: hypervolume after every query, fronts at checkpoints.

    Attributes:
        hv: hypervolume (not normalised) after each query.
        fronts: per checkpoint, the query positions (0-based) of the attained front after
            that many queries, cost ascending.
    """

    hv: np.ndarray
    fronts: tuple[np.ndarray, ...]


def front_trace(cost: np.ndarray, valid: np.ndarray, test: np.ndarray, ref: Reference,
                checkpoints: Sequence[int] = ()) -> FrontTrace:
    """Hypervolume of the attained front after every query (validation chooses, test scores).

    The front (cost ascending, validation strictly ascending) is updated incrementally: a
    dominated query costs one bisection; an entering query replaces the points it dominates
    and the front is recorded; the hypervolumes of all recorded fronts are then summed in
    one vectorised pass (:func:`staircase_areas`). The fronts after ``checkpoints`` queries
    come out too, so IGD+ there needs no new dominance pass.
    """
    x = (np.asarray(cost, dtype=np.float64) / ref.largest_cost).tolist()
    err = (1.0 - np.asarray(test, dtype=np.float64) / 100.0).tolist()
    val = np.asarray(valid, dtype=np.float64).tolist()
    rx, ry = float(ref.point[0]), float(ref.point[1])
    fx: list[float] = []
    fv: list[float] = []
    fe: list[float] = []
    fq: list[int] = []
    changed: list[int] = []
    snaps_x: list[list[float]] = []
    snaps_e: list[list[float]] = []
    snaps_q: list[list[int]] = []
    for q, c, v in zip(range(len(x)), x, val, strict=True):
        i = bisect_right(fx, c)
        if (i and fv[i - 1] >= v) or v != v:  # dominated (or identical), or NaN
            continue
        lo = i - 1 if i and fx[i - 1] == c else i
        hi = lo
        while hi < len(fx) and fv[hi] <= v:
            hi += 1
        fx[lo:hi] = [c]
        fv[lo:hi] = [v]
        fe[lo:hi] = [err[q]]
        fq[lo:hi] = [q]
        changed.append(q)
        snaps_x.append(fx[:])
        snaps_e.append(fe[:])
        snaps_q.append(fq[:])
    hv = np.zeros(len(x))
    events = np.zeros(len(x), dtype=np.int64)
    if changed:
        events[changed] = np.arange(1, len(changed) + 1)
        events = np.maximum.accumulate(events)      # fronts recorded so far; 0 before any
        hv = np.r_[0.0, staircase_areas(snaps_x, snaps_e, rx, ry)][events]
    snaps_q.insert(0, [])
    fronts = tuple(np.array(snaps_q[events[int(k) - 1]], dtype=np.int64)
                   for k in checkpoints if 1 <= int(k) <= len(x))
    return FrontTrace(hv=hv, fronts=fronts)


def hv_curve(cost: np.ndarray, valid: np.ndarray, test: np.ndarray, ref: Reference
             ) -> np.ndarray:
    """Hypervolume of the attained front after every query (see :func:`front_trace`)."""
    return front_trace(cost, valid, test, ref).hv


def front_hv(front_cost: np.ndarray, front_accuracy: np.ndarray, ref: Reference) -> float:
    """Hypervolume of an exact front, after checking that it dominates the reference."""
    check_reference(front_cost, front_accuracy, ref)
    return hypervolume(front_cost, front_accuracy, ref)


def attainment(sets: Sequence[tuple[np.ndarray, np.ndarray]], ref: Reference,
               percentile: float = 50.0) -> np.ndarray:
    """The ``percentile`` empirical attainment surface (moocore) of runs' attained fronts.

    ``sets`` holds each run's (cost, test accuracy) points; returns ``(m, 2)`` points of the
    surface as (cost, accuracy), cost ascending.
    """
    import moocore

    if not 0 < percentile <= 100:
        raise ProtocolError(f"the attainment percentile must be in (0, 100], got {percentile}")
    points = [objectives(c, a, ref) for c, a in sets if len(c)]
    if not points:
        return np.empty((0, 2))
    labels = np.concatenate([np.full(len(p), k + 1) for k, p in enumerate(points)])
    surface = moocore.eaf(np.vstack(points), sets=labels, percentiles=[percentile])
    cost = surface[:, 0] * ref.largest_cost
    acc = (1.0 - surface[:, 1]) * 100.0
    order = np.argsort(cost, kind="stable")
    return np.column_stack([cost[order], acc[order]])


class FrontScorer:
    """Scores runs of one dataset against its exact test front under the published reference.

    Built once per dataset and cost: it holds the table's cost and test columns, the exact test
    front and its hypervolume (the normaliser). A run is given as the architecture indices it
    queried and the validation accuracies it was told (at hp=12, a seed's; so the attained
    front is chosen by exactly what the algorithm saw).

    ``split="valid"`` scores the attained front by hp=90 validation accuracy against the exact
    validation front instead: the score a choice between configurations may use.
    """

    def __init__(self, table: DatasetTable, cost: str = "flops", split: str = "test") -> None:
        self.ref = reference_for(table.dataset, cost)
        self.cost = cost_column(table, cost)
        self.test = accuracy_column(table, split)
        self.front = exact_front(table, split=split, cost=cost)
        self.front_hv = front_hv(self.front.cost, self.front.accuracy, self.ref)

    def hv_curve(self, index: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Normalised hypervolume of the attained front after every query (1 = exact front)."""
        idx = np.asarray(index, dtype=np.int64)
        return hv_curve(self.cost[idx], valid, self.test[idx], self.ref) / self.front_hv

    def attained(self, index: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cost, test accuracy) of the attained front of these queries, cost ascending."""
        idx = np.asarray(index, dtype=np.int64)
        keep = idx[attained(self.cost[idx], np.asarray(valid, dtype=np.float64))]
        return self.cost[keep], self.test[keep]

    def igd_plus(self, index: np.ndarray, valid: np.ndarray) -> float:
        """IGD+ (moocore) of the attained front of these queries to the exact test front."""
        cost, test = self.attained(index, valid)
        return igd_plus(cost, test, self.front.cost, self.front.accuracy, self.ref)

    def score(self, index: np.ndarray, valid: np.ndarray, checkpoints: Sequence[int] = ()
              ) -> tuple[np.ndarray, np.ndarray]:
        """Normalised HV after every query and IGD+ after each of ``checkpoints`` queries."""
        idx = np.asarray(index, dtype=np.int64)
        cost, test = self.cost[idx], self.test[idx]
        trace = front_trace(cost, valid, test, self.ref, checkpoints)
        igd = [igd_plus(cost[pos], test[pos], self.front.cost, self.front.accuracy, self.ref)
               for pos in trace.fronts]
        return trace.hv / self.front_hv, np.asarray(igd, dtype=np.float64)
