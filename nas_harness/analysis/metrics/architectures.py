"""Where the runs end: the most frequent final architecture per (dataset, algorithm).

Architectures are shown as channel strings (``8:16:24:32:64``, ``nas_harness.benchmarks.space.SSS``)
beside their indices, so a reader can see what was found without looking indices up.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from nas_harness.benchmarks.space import SSS
from nas_harness.benchmarks.table import DatasetTable

FINAL_ARCH_COLUMNS: tuple[str, ...] = (
    "dataset", "algorithm", "arch_index", "arch", "runs_there", "n_runs", "share",
    "distinct_finals", "test_acc",
)


def arch_label(index: float | int) -> str:
    """``"1234 (8:16:24:32:64)"``, or ``"none"`` for a missing index."""
    if index is None or (isinstance(index, float) and np.isnan(index)) or int(index) < 0:
        return "none"
    return f"{int(index)} ({SSS.format(int(index))})"


def most_frequent_final(final: pd.DataFrame, tables: Mapping[str, DatasetTable],
                        index_column: str = "final_incumbent_index") -> pd.DataFrame:
    """One row per (dataset, algorithm): the modal final architecture and how many runs end there.

    Ties between equally frequent architectures keep the lowest index (deterministic).
    """
    rows = []
    for (dataset, algorithm), part in final.groupby(["dataset", "algorithm"], sort=True):
        idx = part[index_column].to_numpy(dtype=float)
        idx = idx[~np.isnan(idx) & (idx >= 0)].astype(np.int64)
        if len(idx) == 0:
            continue
        values, counts = np.unique(idx, return_counts=True)
        best = int(values[np.argmax(counts)])  # argmax keeps the first = lowest index
        table = tables.get(str(dataset))
        rows.append({
            "dataset": dataset, "algorithm": algorithm, "arch_index": best,
            "arch": SSS.format(best), "runs_there": int(counts.max()), "n_runs": len(part),
            "share": float(counts.max() / len(part)), "distinct_finals": len(values),
            "test_acc": float(table.test_acc[best]) if table is not None else np.nan,
        })
    return pd.DataFrame(rows, columns=list(FINAL_ARCH_COLUMNS))
