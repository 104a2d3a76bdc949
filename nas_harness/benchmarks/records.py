"""The trajectory of a run: its columns, the incumbent rule and its Parquet form.

The runner writes these columns (one Parquet file per run, with fixed writer settings so equal
trajectories are equal files, byte for byte) and the analysis reads them; this module is the
single place both agree on. Where the files live and when a run is complete is
:mod:`nas_harness.benchmarks.run_files`'s job.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from nas_harness.benchmarks.space import SSS, SearchSpace

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


# -- building a trajectory without pandas -------------------------------------------------------
# ``pa.array``/``pa.scalar`` import pandas on first use (pyarrow's pandas shim), which costs
# every pool worker about half a second; Arrow arrays built from their buffers do not, and
# hold the same values (so the same Parquet bytes).

_NUMPY_TYPES = {pa.int64(): np.int64, pa.float64(): np.float64}


def arrow_column(values: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    """A non-null int64, float64 or bool Arrow array holding ``values`` (no pandas import)."""
    n = len(values)
    if arrow_type == pa.bool_():
        bits = np.packbits(np.asarray(values, dtype=bool), bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), n, [None, pa.py_buffer(bits)])
    data = np.ascontiguousarray(values, dtype=_NUMPY_TYPES[arrow_type])
    return pa.Array.from_buffers(arrow_type, n, [None, pa.py_buffer(data)])


def string_column(strings: list[str]) -> pa.Array:
    """A non-null UTF-8 Arrow array of ``strings`` (no pandas import)."""
    encoded = [s.encode("utf-8") for s in strings]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(encoded),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))])


def repeated_string(value: str, n: int) -> pa.Array:
    """``value`` ``n`` times as a UTF-8 Arrow array (a run's id, algorithm, dataset)."""
    data = value.encode("utf-8")
    offsets = np.arange(n + 1, dtype=np.int32) * len(data)
    return pa.Array.from_buffers(pa.string(), n,
                                 [None, pa.py_buffer(offsets), pa.py_buffer(data * n)])


@lru_cache(maxsize=4)
def _all_arch_strings(space: SearchSpace) -> pa.Array:
    """Every architecture string of ``space`` by index: ``itertools.product`` order."""
    options = [[str(c) for c in layer] for layer in space.options]
    return string_column([":".join(p) for p in itertools.product(*options)])


def arch_strings(index: np.ndarray, space: SearchSpace = SSS) -> pa.Array:
    """The ``"c1:c2:c3:c4:c5"`` strings of architecture indices, as an Arrow array."""
    return _all_arch_strings(space).take(arrow_column(index, pa.int64()))


def table_from_columns(columns: Mapping[str, np.ndarray | pa.Array]) -> pa.Table:
    """A trajectory from its columns (numpy arrays or Arrow arrays), in schema order."""
    arrays = [col if isinstance(col := columns[f.name], pa.Array) else arrow_column(col, f.type)
              for f in TRAJECTORY_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=TRAJECTORY_SCHEMA)


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
    if n:  # pyarrow.compute, not to_numpy: no pandas import in workers
        import pyarrow.compute as pc  # here: 50 ms of start-up the CLI's parent never needs

        out["feasible"] = int(pc.sum(trajectory.column("feasible")).as_py() or 0)
        out["duplicates"] = int(pc.sum(trajectory.column("duplicate")).as_py() or 0)
        last = int(trajectory.column("incumbent_index")[n - 1].as_py())
        out["incumbent_index"] = last
        if last >= 0:
            out["incumbent_valid_acc"] = float(trajectory.column("incumbent_valid_acc")[n - 1]
                                               .as_py())
            test = float(trajectory.column("incumbent_test_acc")[n - 1].as_py())
            out["incumbent_test_acc"] = test if np.isfinite(test) else None  # table without it
    return out
