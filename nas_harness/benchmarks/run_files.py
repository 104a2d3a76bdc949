"""Run files on disk: atomic Parquet + JSON sidecar, the completeness rule, loading back.

Layout: ``<out>/<dataset>/<algorithm>/run-<NNN>.parquet`` (the trajectory) and
``run-<NNN>.json`` (the sidecar: identity, parameters, seeds, versions, status, timing).

Every file is written to a temporary name in the same directory and renamed over the final
name, so a reader (or a sweep killed at any moment, even by ``kill -9``) only ever sees whole
files. The sidecar is written last; a run is complete when its sidecar says
``"status": "complete"``, its fingerprint is the one asked for, and the sha256 it records
matches the Parquet file. Anything else (missing, truncated, failed, stale) is redone.

Everything in the sidecar is deterministic except the ``"timing"`` object (wall time, finish
time): :data:`TIMING_FIELD` is the one field that differs between two identical sweeps.
Renames are atomic against process death; no ``fsync`` is done, so a power loss may need a
re-run (the checksum then catches a torn file).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nas_harness.benchmarks.datasets import get_dataset
from nas_harness.benchmarks.records import TRAJECTORY_SCHEMA

SIDECAR_FORMAT = 1
TIMING_FIELD = "timing"
STATUS_COMPLETE = "complete"
STATUS_FAILED = "failed"
_TMP_MARK = ".tmp-"
_RUN_FILE = re.compile(r"^run-(\d+)\.json$")


@dataclass(frozen=True)
class RunPaths:
    """The two files of one run."""

    parquet: Path
    sidecar: Path

    @property
    def directory(self) -> Path:
        """The ``<out>/<dataset>/<algorithm>`` directory."""
        return self.parquet.parent


def run_paths(out_dir: Path | str, dataset: str, algorithm: str, run: int) -> RunPaths:
    """Where run ``run`` of ``algorithm`` on ``dataset`` lives under ``out_dir``."""
    base = Path(out_dir) / dataset / algorithm
    return RunPaths(base / f"run-{run:03d}.parquet", base / f"run-{run:03d}.json")


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def _plain(value: Any) -> Any:
    """``value`` with numpy scalars as Python ones; a float32 as the decimal it was written as.

    ``float(np.float32(0.1))`` is ``0.10000000149011612``; the shortest text that round-trips
    the float32 (``str``) is ``0.1``, which is what the sidecar should say.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(str(value)) if value.dtype.itemsize < 8 else float(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    return value


def sidecar_text(record: Mapping[str, Any]) -> str:
    """The canonical JSON text of a sidecar (sorted keys, so equal records are equal bytes)."""
    return json.dumps(_plain(record), sort_keys=True, indent=1, allow_nan=False) + "\n"


CONFIGURATION_KEYS: tuple[str, ...] = (
    "algorithm", "algorithm_name", "params", "dataset", "protocol", "master_seed",
    "table_checksum",
)


def configuration_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """What a run shares with every run of its configuration: its identity less the run index.

    ``record`` is a sidecar (or :meth:`RunTask.identity`): label, registry name (a preset
    included), full parameters, dataset, protocol, master seed and table checksum. Two runs
    of one label and dataset belong together exactly when these are equal.
    """
    seed = record.get("seed")
    signals = record.get("signals_sha256")  # runs with free signals only
    return {
        **({} if signals is None else {"signals_sha256": _plain(signals)}),
        "algorithm": record.get("algorithm"),
        "algorithm_name": record.get("algorithm_name", record.get("algorithm")),
        "params": _plain(record.get("params") or {}),
        "dataset": record.get("dataset"),
        "protocol": _plain(record.get("protocol") or {}),
        "master_seed": seed.get("entropy") if isinstance(seed, Mapping) else None,
        "table_checksum": record.get("table_checksum", ""),
    }


def configuration_key(config: Mapping[str, Any]) -> str:
    """A canonical text of a configuration (equal configurations, equal keys)."""
    return json.dumps(_plain(config), sort_keys=True, separators=(",", ":"))


def _flat(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, Mapping):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def describe_difference(stored: Mapping[str, Any], asked: Mapping[str, Any]) -> tuple[str, str]:
    """Both configurations by the fields that differ: ``("master_seed=0", "master_seed=5")``."""
    a, b = _flat(stored), _flat(asked)
    left, right = [], []
    for key in sorted(set(a) | set(b)):
        if key in a and key in b and a[key] == b[key]:
            continue  # (a missing key differs from any value, "<unset>" and None included)
        x, y = a.get(key, "<unset>"), b.get(key, "<unset>")
        if key == "table_checksum":
            x, y = str(x)[:12] + "...", str(y)[:12] + "..."
        left.append(f"{key}={x}")
        right.append(f"{key}={y}")
    return ", ".join(left) or "(identical)", ", ".join(right) or "(identical)"


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{_TMP_MARK}", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_complete(paths: RunPaths, parquet: bytes, record: Mapping[str, Any]) -> None:
    """Store a finished run: the Parquet file first, then the sidecar naming its checksum."""
    atomic_write(paths.parquet, parquet)
    full = dict(record)
    full["status"] = STATUS_COMPLETE
    full["result"] = {**dict(record.get("result", {})), "parquet_sha256": sha256_bytes(parquet),
                      "parquet_bytes": len(parquet)}
    atomic_write(paths.sidecar, sidecar_text(full).encode("utf-8"))


def write_failed(paths: RunPaths, record: Mapping[str, Any]) -> None:
    """Store a failed run: no trajectory, a sidecar with status failed and the traceback."""
    try:
        paths.parquet.unlink()
    except FileNotFoundError:
        pass
    full = dict(record)
    full["status"] = STATUS_FAILED
    atomic_write(paths.sidecar, sidecar_text(full).encode("utf-8"))


_SIDECAR_KEYS = ("run_id", "algorithm", "dataset", "run", "status")


def read_sidecar(path: Path) -> dict[str, Any] | None:
    """A sidecar's record, or None when missing, unreadable or not a run's sidecar.

    A JSON file that lacks a run's identity (a stray ``{}``, another tool's file) is not a
    run: it is treated as absent (the run, if any, is redone; reports skip it).
    """
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or any(key not in record for key in _SIDECAR_KEYS):
        return None
    if not isinstance(record["run"], int) or isinstance(record["run"], bool):
        return None
    return record


MISSING: Any = object()
"""``complete_record(record=MISSING)``: the sidecar has not been read yet."""


def complete_record(paths: RunPaths, fingerprint: str | None = None,
                    verify: bool = True, *, record: Any = MISSING) -> dict[str, Any] | None:
    """The sidecar of a complete run, or None: the completeness rule in one place.

    Complete means: the sidecar says complete, has ``fingerprint`` (when one is given), and
    (when ``verify``) the Parquet file's sha256 is the one the sidecar recorded. ``record``:
    the sidecar as :func:`read_sidecar` just returned it, when the caller has read it already
    (a sweep's check of its directories reads every sidecar once).
    """
    if record is MISSING:
        record = read_sidecar(paths.sidecar)
    if record is None or record.get("status") != STATUS_COMPLETE:
        return None
    if fingerprint is not None and record.get("fingerprint") != fingerprint:
        return None
    if verify:
        try:
            data = paths.parquet.read_bytes()
        except OSError:
            return None
        if sha256_bytes(data) != record.get("result", {}).get("parquet_sha256"):
            return None
    return record


def is_complete(paths: RunPaths, fingerprint: str | None = None) -> bool:
    """Whether the run at ``paths`` is complete (see :func:`complete_record`)."""
    return complete_record(paths, fingerprint) is not None


def remove_temporaries(directories: Iterable[Path]) -> int:
    """Delete temporary files a killed writer left behind; returns how many."""
    removed = 0
    for directory in directories:
        if not directory.is_dir():
            continue
        for entry in directory.iterdir():
            if entry.name.startswith(".") and _TMP_MARK in entry.name:
                try:
                    entry.unlink()
                    removed += 1
                except FileNotFoundError:
                    pass
    return removed


def iter_sidecars(out_dir: Path | str) -> list[Path]:
    """Every ``run-NNN.json`` under ``<out>/<dataset>/<algorithm>/``, by dataset, algorithm, run."""
    root = Path(out_dir)
    if not root.is_dir():
        return []
    found = []
    for path in root.glob("*/*/run-*.json"):
        match = _RUN_FILE.match(path.name)
        if match:
            found.append((path.parent.parent.name, path.parent.name, int(match.group(1)), path))
    return [path for *_, path in sorted(found)]


def _read_complete_trajectory(sidecar: Path, columns: list[str] | None) -> Any:
    """One complete run's trajectory as an Arrow table, or None (failed, torn or stale)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    record = complete_record(RunPaths(sidecar.with_suffix(".parquet"), sidecar), verify=False)
    if record is None:
        return None
    try:
        data = sidecar.with_suffix(".parquet").read_bytes()
    except OSError:
        return None
    if sha256_bytes(data) != record["result"].get("parquet_sha256"):
        return None
    return pq.ParquetFile(pa.BufferReader(data), pre_buffer=False).read(columns=columns)


def load_runs(out_dir: Path | str, *, datasets: Iterable[str] | None = None,
              algorithms: Iterable[str] | None = None,
              columns: Sequence[str] | None = None, threads: int | None = None) -> Any:
    """All complete runs under ``out_dir`` as one pandas DataFrame (one row per query).

    Columns are :data:`nas_harness.benchmarks.records.TRAJECTORY_COLUMNS` (or ``columns``, a
    subset, in
    that order: a report needs five of the sixteen, and leaving out the string column
    ``arch`` halves the memory of a large sweep), rows ordered by dataset, algorithm, run
    and query. Failed, truncated or half-written runs are left out (their Parquet file's
    checksum must match the sidecar's). ``datasets`` (aliases accepted) and ``algorithms``
    (result labels) restrict what is read. Files are read and checked by ``threads`` threads
    (default: the cores; hashing and Parquet decoding release the GIL); the result does not
    depend on it.
    """
    import pyarrow as pa

    if columns is not None:
        unknown = sorted(set(columns) - set(TRAJECTORY_SCHEMA.names))
        if unknown:
            raise ValueError(f"unknown trajectory column(s) {unknown}; choose from "
                             f"{', '.join(TRAJECTORY_SCHEMA.names)}")
        wanted = [name for name in TRAJECTORY_SCHEMA.names if name in set(columns)]
    schema = TRAJECTORY_SCHEMA if columns is None else pa.schema(
        [TRAJECTORY_SCHEMA.field(name) for name in wanted])
    keep_ds = None if datasets is None else {get_dataset(d).name for d in datasets}
    keep_algo = None if algorithms is None else set(algorithms)
    sidecars = [sidecar for sidecar in iter_sidecars(out_dir)
                if (keep_ds is None or sidecar.parent.parent.name in keep_ds)
                and (keep_algo is None or sidecar.parent.name in keep_algo)]
    names = None if columns is None else wanted
    n_threads = max(1, min(threads or os.cpu_count() or 1, len(sidecars) or 1))
    if n_threads == 1:
        read = [_read_complete_trajectory(sidecar, names) for sidecar in sidecars]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(n_threads) as pool:
            read = list(pool.map(lambda s: _read_complete_trajectory(s, names), sidecars))
    tables = [t.cast(schema) for t in read if t is not None]
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    return table.to_pandas()


PARAM_PREFIX = "param_"


def load_runs_with_params(out_dir: Path | str, *, datasets: Iterable[str] | None = None,
                          algorithms: Iterable[str] | None = None) -> Any:
    """:func:`load_runs` plus each run's configuration as columns.

    Added columns: ``algorithm_name`` (registry name, preset included), ``master_seed``,
    ``budget``, ``fidelity``, ``max_flops_fraction`` (and any other protocol field) and one
    ``param_<name>`` column per algorithm parameter (empty for algorithms without it). The
    prefix keeps them apart from the trajectory's ``params`` column (the model's size).
    """
    import pandas as pd

    runs = load_runs(out_dir, datasets=datasets, algorithms=algorithms)
    rows = []
    for sidecar in iter_sidecars(out_dir):
        record = read_sidecar(sidecar)
        if record is None or record.get("status") != STATUS_COMPLETE:
            continue
        config = configuration_of(record)
        row: dict[str, Any] = {"run_id": record.get("run_id"),
                               "algorithm_name": config["algorithm_name"],
                               "master_seed": config["master_seed"]}
        protocol = config["protocol"] if isinstance(config["protocol"], Mapping) else {}
        row.update({str(k): v for k, v in protocol.items()})
        params = config["params"] if isinstance(config["params"], Mapping) else {}
        row.update({f"{PARAM_PREFIX}{k}": (json.dumps(v) if isinstance(v, (list, dict)) else v)
                    for k, v in params.items()})
        rows.append(row)
    if not rows:
        return runs
    extra = pd.DataFrame(rows).drop_duplicates("run_id")
    extra = extra.drop(columns=[c for c in extra.columns if c in runs.columns and c != "run_id"])
    return runs.merge(extra, on="run_id", how="left", validate="many_to_one")
