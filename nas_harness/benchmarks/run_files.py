"""Run files on disk: atomic Parquet + JSON sidecar, the completeness rule, loading back.

Layout: ``<out>/<dataset>/<algorithm>/run-<NNN>.parquet`` (the trajectory) and
``run-<NNN>.json`` (the sidecar: identity, parameters, seeds, versions, status, timing).

Every file is written to a temporary name in the same directory and renamed over the final
name, so a reader (or a sweep killed at any moment, even by ``kill -9``) only ever sees whole
files. The sidecar is written last; a run is complete when its sidecar says
``"status": "complete"``, its fingerprint is the one asked for, and the sha256 it records
matches the Parquet file (and it made at least one query). Anything else (missing,
truncated, failed, stale) is redone by a sweep. Reading runs back (:func:`read_runs`, the
one reader every report, gate and loader uses) refuses a damaged file with one line naming
it and the fix, rather than leaving a run out without a word.

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

from nas_harness.benchmarks.datasets import get_dataset
from nas_harness.benchmarks.errors import DataIntegrityError
from nas_harness.benchmarks.records import TRAJECTORY_SCHEMA
from nas_harness.benchmarks.run_identity import (
    CONFIGURATION_KEYS,
    configuration_key,
    configuration_of,
    describe_difference,
    parse_sidecar,
    sidecar_text,
)

__all__ = [
    "CONFIGURATION_KEYS", "MISSING", "PARAM_PREFIX", "SIDECAR_FORMAT", "STATUS_COMPLETE",
    "STATUS_EMPTY", "STATUS_FAILED", "TIMING_FIELD", "RunPaths", "StoredRun", "atomic_write",
    "complete_record", "configuration_key", "configuration_of", "describe_difference",
    "is_complete", "iter_sidecars", "load_runs", "load_runs_with_params", "read_run_directory",
    "read_runs", "read_sidecar", "read_trajectories", "remove_temporaries", "run_paths",
    "sha256_bytes", "sidecar_text", "write_complete", "write_failed",
]

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


def read_sidecar(path: Path) -> dict[str, Any] | None:
    """A sidecar's record, or None when missing, unreadable or not a run's sidecar.

    A JSON file that lacks a run's identity (a stray ``{}``, another tool's file) is not a
    run. A sweep redoes such a run; :func:`read_runs` refuses it unless told to skip it.
    """
    return parse_sidecar(path)[0]


MISSING: Any = object()
"""``complete_record(record=MISSING)``: the sidecar has not been read yet."""


def complete_record(paths: RunPaths, fingerprint: str | None = None,
                    verify: bool = True, *, record: Any = MISSING) -> dict[str, Any] | None:
    """The sidecar of a complete run, or None: the completeness rule in one place.

    Complete means: the sidecar says complete, its result has at least one query (when it
    counts them), has ``fingerprint`` (when one is given), and (when ``verify``) the Parquet
    file's sha256 is the one the sidecar recorded. ``record``: the sidecar as
    :func:`read_sidecar` just returned it, when the caller has read it already (a sweep's
    check of its directories reads every sidecar once).
    """
    if record is MISSING:
        record = read_sidecar(paths.sidecar)
    if record is None or record.get("status") != STATUS_COMPLETE:
        return None
    if (record.get("result") or {}).get("queries") == 0:
        return None  # a run that made no query measured nothing
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


# -- reading runs back: the one reader ----------------------------------------------------------

STATUS_EMPTY = "empty"
"""The status :attr:`StoredRun.status` gives a run stored as complete that made no query."""


@dataclass(frozen=True)
class StoredRun:
    """One run as found on disk: its two files and its sidecar's record, read once.

    ``record`` is None only for a damaged sidecar that the reader was told to skip.
    """

    paths: RunPaths
    record: dict[str, Any] | None

    @property
    def complete(self) -> bool:
        """Whether the sidecar says complete (the rule of :func:`complete_record`, unverified)."""
        return complete_record(self.paths, verify=False, record=self.record) is not None

    @property
    def status(self) -> str:
        """The sidecar's status; :data:`STATUS_EMPTY` for a "complete" run without a query."""
        if self.record is None:
            return "unreadable"
        status = str(self.record.get("status", "unknown"))
        return STATUS_EMPTY if status == STATUS_COMPLETE and not self.complete else status


def _damaged(path: Path, why: str) -> DataIntegrityError:
    return DataIntegrityError(
        f"{path} {why}, so it cannot be counted as a run; delete or move it, then re-run "
        "(a sweep into the same directory recomputes a deleted run)")


def read_run_directory(directory: Path, *, skip_damaged: bool = False) -> list[StoredRun]:
    """The runs of one ``<out>/<dataset>/<algorithm>`` directory, by run number.

    Every ``*.json`` there must be a run's ``run-NNN.json`` sidecar that reads as one: a
    torn or empty sidecar, or a stray JSON file, raises :class:`DataIntegrityError` naming the
    file and the fix, so no run goes uncounted without a word. ``skip_damaged`` (a sweep
    deciding what to redo) keeps a damaged sidecar with ``record=None`` and ignores stray
    files. Hidden files (a writer's temporaries) are not runs.
    """
    if not directory.is_dir():
        return []
    found: list[tuple[int, Path]] = []
    for path in directory.glob("*.json"):
        if path.name.startswith("."):
            continue
        match = _RUN_FILE.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
        elif not skip_damaged:
            raise _damaged(path, "is not a run's sidecar (those are named run-NNN.json)")
    runs = []
    for _, path in sorted(found):
        record, why = parse_sidecar(path)
        if record is None and not skip_damaged:
            raise _damaged(path, why)
        runs.append(StoredRun(RunPaths(path.with_suffix(".parquet"), path), record))
    return runs


def read_runs(out_dir: Path | str, *, datasets: Iterable[str] | None = None,
              algorithms: Iterable[str] | None = None,
              skip_damaged: bool = False) -> list[StoredRun]:
    """Every run under ``<out>/<dataset>/<algorithm>/``, by dataset, algorithm and run.

    ``datasets`` (aliases accepted) and ``algorithms`` (result labels) restrict what is read;
    damaged files are refused as :func:`read_run_directory` says.
    """
    root = Path(out_dir)
    if not root.is_dir():
        return []
    keep_ds = None if datasets is None else {get_dataset(d).name for d in datasets}
    keep_algo = None if algorithms is None else set(algorithms)
    runs: list[StoredRun] = []
    for directory in sorted(p for p in root.glob("*/*") if p.is_dir()):
        if (keep_ds is None or directory.parent.name in keep_ds) and \
                (keep_algo is None or directory.name in keep_algo):
            runs.extend(read_run_directory(directory, skip_damaged=skip_damaged))
    return runs


def iter_sidecars(out_dir: Path | str) -> list[Path]:
    """Every ``run-NNN.json`` under ``<out>/<dataset>/<algorithm>/``, by dataset, algorithm, run."""
    return [run.paths.sidecar for run in read_runs(out_dir, skip_damaged=True)]


def _read_trajectory(run: StoredRun, columns: list[str] | None) -> Any:
    """A complete run's trajectory as an Arrow table, or None (missing, torn or stale)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    assert run.record is not None
    try:
        data = run.paths.parquet.read_bytes()
    except OSError:
        return None
    if sha256_bytes(data) != run.record["result"].get("parquet_sha256"):
        return None
    return pq.ParquetFile(pa.BufferReader(data), pre_buffer=False).read(columns=columns)


def _schema(columns: Sequence[str] | None) -> tuple[Any, list[str] | None]:
    """The Arrow schema of ``columns`` (in schema order) and their names; all when None."""
    import pyarrow as pa

    if columns is None:
        return TRAJECTORY_SCHEMA, None
    unknown = sorted(set(columns) - set(TRAJECTORY_SCHEMA.names))
    if unknown:
        raise ValueError(f"unknown trajectory column(s) {unknown}; choose from "
                         f"{', '.join(TRAJECTORY_SCHEMA.names)}")
    wanted = [name for name in TRAJECTORY_SCHEMA.names if name in set(columns)]
    return pa.schema([TRAJECTORY_SCHEMA.field(name) for name in wanted]), wanted


def read_trajectories(runs: Sequence[StoredRun], *, columns: Sequence[str] | None = None,
                      threads: int | None = None, skip_damaged: bool = False) -> Any:
    """The trajectories of the complete runs among ``runs`` as one Arrow table, in their order.

    A run whose sidecar says complete but whose Parquet file is missing or does not match the
    checksum the sidecar records raises :class:`DataIntegrityError` naming the file (skipped
    with ``skip_damaged``). Files are read and checked by ``threads`` threads (default: the
    cores, never more than ``runs``; hashing and Parquet decoding release the GIL); the
    result does not depend on it.
    """
    import pyarrow as pa

    schema, names = _schema(columns)
    complete = [run for run in runs if run.complete]
    n_threads = max(1, min(threads or os.cpu_count() or 1, len(runs) or 1))
    if n_threads == 1:
        read = [_read_trajectory(run, names) for run in complete]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(n_threads) as pool:
            read = list(pool.map(lambda run: _read_trajectory(run, names), complete))
    lost = [run for run, table in zip(complete, read, strict=True) if table is None]
    if lost and not skip_damaged:
        more = f" (and {len(lost) - 1} more)" if len(lost) > 1 else ""
        raise DataIntegrityError(
            f"{lost[0].paths.parquet} is missing or does not match the checksum in its "
            f"sidecar{more}; re-run the sweep into the same directory to recompute it (or "
            "delete the run's two files)")
    tables = [t.cast(schema) for t in read if t is not None]
    return pa.concat_tables(tables) if tables else schema.empty_table()


def load_runs(out_dir: Path | str, *, datasets: Iterable[str] | None = None,
              algorithms: Iterable[str] | None = None,
              columns: Sequence[str] | None = None, threads: int | None = None,
              skip_damaged: bool = False) -> Any:
    """All complete runs under ``out_dir`` as one pandas DataFrame (one row per query).

    Columns are :data:`nas_harness.benchmarks.records.TRAJECTORY_COLUMNS` (or ``columns``, a
    subset, in that order: a report needs five of the sixteen, and leaving out the string
    column ``arch`` halves the memory of a large sweep), rows ordered by dataset, algorithm,
    run and query. Failed runs are left out. A damaged run (torn or stray sidecar, missing
    or torn trajectory) raises :class:`DataIntegrityError` naming the file and the fix, or
    with ``skip_damaged`` is left out. ``datasets`` (aliases accepted) and ``algorithms``
    (result labels) restrict what is read; ``threads`` as :func:`read_trajectories`.
    """
    _schema(columns)  # unknown columns are refused before any file is read
    runs = read_runs(out_dir, datasets=datasets, algorithms=algorithms,
                     skip_damaged=skip_damaged)
    return read_trajectories(runs, columns=columns, threads=threads,
                             skip_damaged=skip_damaged).to_pandas()


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

    stored = read_runs(out_dir, datasets=datasets, algorithms=algorithms)
    runs = read_trajectories(stored).to_pandas()
    rows = []
    for run in stored:
        if not run.complete:
            continue
        assert run.record is not None
        config = configuration_of(run.record)
        row: dict[str, Any] = {"run_id": run.record.get("run_id"),
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
