"""IGD+ of a run's attained front after every query, against the exact front.

IGD+ (Ishibuchi et al. 2015) is the mean, over the exact front's points ``r``, of the distance
from ``r`` to the nearest attained point ``z`` counting only where ``z`` is worse:
``d+(z, r) = sqrt(sum_i max(z_i - r_i, 0)^2)``, in the objective space of
:mod:`.fronts` (cost fraction, error rate; both minimised). moocore computes it for one set
(:func:`.fronts.igd_plus`); here it is needed after each of 500 queries of every run. The
attained front changes at a few dozen queries only, and its points are always queried points,
so the curve computes ``d+`` once per (queried point that ever enters the front, exact point)
pair and, at each change, takes the row minimum over the front's points -- the same sum
moocore evaluates, checked against moocore at every query in the tests. A moocore call per
change would cost about as much as the whole hypervolume curve again.
"""

from __future__ import annotations

import numpy as np

from nas_harness.analysis.metrics.fronts import Reference, front_trace, objectives


def igd_plus_curve(cost: np.ndarray, valid: np.ndarray, test: np.ndarray,
                   front_cost: np.ndarray, front_accuracy: np.ndarray,
                   ref: Reference) -> np.ndarray:
    """IGD+ of the attained front after every query (NaN before the first front point).

    The attained front is chosen by ``valid`` (what the algorithm saw) and placed by ``test``,
    as for the hypervolume curve; ``front_cost``/``front_accuracy`` is the exact front.
    """
    n = len(cost)
    trace = front_trace(cost, valid, test, ref, range(1, n + 1))
    out = np.full(n, np.nan)
    if not n or not len(front_cost):
        return out
    flat = np.concatenate(trace.fronts)
    if not len(flat):
        return out
    owner = np.repeat(np.arange(n), [len(f) for f in trace.fronts])  # front after owner + 1
    used = np.unique(flat)
    points = objectives(np.asarray(cost)[used], np.asarray(test)[used], ref)
    exact = objectives(front_cost, front_accuracy, ref)
    gap = np.maximum(points[:, None, :] - exact[None, :, :], 0.0)
    dist = np.sqrt(np.einsum("pmk,pmk->pm", gap, gap))         # (used points, exact points)
    row = np.full(n, -1, dtype=np.int64)
    row[used] = np.arange(len(used))
    # the front changes exactly at the queries that enter it (a query enters as the newest
    # position of the front after it); the value holds until the next one
    entered = owner[flat == owner].tolist()
    for start, stop in zip(entered, [*entered[1:], n], strict=True):
        out[start:stop] = dist[row[trace.fronts[start]]].min(axis=0).mean()
    return out
