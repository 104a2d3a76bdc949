"""The trajectory of a run: its columns, the incumbent rule and its Parquet form.

The runner writes these columns (one Parquet file per run, with fixed writer settings so equal
trajectories are equal files, byte for byte) and the analysis reads them; this module is the
single place both agree on. Where the files live and when a run is complete is
:mod:`benchmarks.run_files`'s job.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

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
    "elapsed_s": "float64",       # simulated seconds after this query (time budget); else NaN
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


_ARROW_TYPES = {"str": pa.string(), "int64": pa.int64(), "float64": pa.float64(),
                "bool": pa.bool_()}
TRAJECTORY_SCHEMA = pa.schema(
    [pa.field(name, _ARROW_TYPES[dtype], nullable=False)
     for name, dtype in TRAJECTORY_COLUMNS.items()]
)
"""The Arrow schema of a trajectory (no pandas metadata, so files never depend on pandas)."""

# Fixed writer settings: the same table always gives the same bytes (for one pyarrow version).
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "snappy",  # half zstd's CPU time per run; files ~20 KB
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
    "store_schema": True,
}


def to_parquet_bytes(trajectory: pa.Table) -> bytes:
    """Serialise a trajectory with the fixed writer settings (deterministic bytes)."""
    if not trajectory.schema.equals(TRAJECTORY_SCHEMA, check_metadata=True):
        raise ValueError("a trajectory must have exactly TRAJECTORY_SCHEMA")
    sink = io.BytesIO()
    pq.write_table(trajectory, sink, **PARQUET_OPTIONS)
    return sink.getvalue()


def summary(trajectory: pa.Table) -> dict[str, Any]:
    """A few facts of a trajectory for the sidecar (queries, final incumbent)."""
    n = trajectory.num_rows
    out: dict[str, Any] = {"queries": n, "feasible": 0, "duplicates": 0,
                           "incumbent_index": -1, "incumbent_valid_acc": None,
                           "incumbent_test_acc": None}
    if n:
        out["feasible"] = int(np.sum(trajectory.column("feasible").to_numpy()))
        out["duplicates"] = int(np.sum(trajectory.column("duplicate").to_numpy()))
        last = int(trajectory.column("incumbent_index")[n - 1].as_py())
        out["incumbent_index"] = last
        if last >= 0:
            out["incumbent_valid_acc"] = float(trajectory.column("incumbent_valid_acc")[n - 1]
                                               .as_py())
            test = float(trajectory.column("incumbent_test_acc")[n - 1].as_py())
            out["incumbent_test_acc"] = test if np.isfinite(test) else None  # table without it
    return out
