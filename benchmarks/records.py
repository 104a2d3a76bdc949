"""The schema of a run's trajectory: one row per charged query.

The runner writes these columns (one Parquet file per run) and the analysis reads them; this
module is the single place both agree on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# column name -> numpy dtype of a run's trajectory table, in file order
TRAJECTORY_COLUMNS: dict[str, str] = {
    "run_id": "str",              # "<dataset>/<algorithm>/<run:03d>"
    "algorithm": "str",
    "dataset": "str",
    "run": "int64",               # run index within the sweep (0-based)
    "query": "int64",             # 1-based query number
    "arch_index": "int64",
    "arch": "str",                # "c1:c2:c3:c4:c5"
    "flops": "float64",           # MFLOPs
    "params": "int64",
    "feasible": "bool",
    "duplicate": "bool",
    "valid_acc": "float64",       # what the algorithm was told
    "incumbent_index": "int64",   # -1 until a feasible architecture was evaluated
    "incumbent_valid_acc": "float64",  # NaN until then
    "incumbent_test_acc": "float64",   # NaN until then; harness-only, for reporting
}


@dataclass(frozen=True)
class Incumbents:
    """The incumbent after each query: best validation among feasible evaluated, first wins."""

    index: np.ndarray
    valid_acc: np.ndarray


def incumbents(index: np.ndarray, valid_acc: np.ndarray, feasible: np.ndarray) -> Incumbents:
    """Incumbent after every query; ties keep the earlier architecture (vectorised).

    Infeasible queries never become incumbents; before the first feasible query the incumbent
    index is -1 and its accuracy NaN.
    """
    n = len(index)
    masked = np.where(feasible, valid_acc, -np.inf)
    best = np.maximum.accumulate(masked) if n else masked
    # position of the first query reaching each running maximum: a strict improvement
    improved = np.empty(n, dtype=bool)
    if n:
        improved[0] = masked[0] > -np.inf
        improved[1:] = masked[1:] > best[:-1]
    pos = np.where(improved, np.arange(n), -1)
    pos = np.maximum.accumulate(pos) if n else pos
    has = pos >= 0
    inc_index = np.where(has, index[np.maximum(pos, 0)], -1).astype(np.int64)
    inc_valid = np.where(has, best, np.nan)
    return Incumbents(inc_index, inc_valid)
