"""One run, executed and stored the same way in every process (in-process, pool, Dask).

:func:`execute_task` turns a :class:`RunTask` into a :class:`RunPayload` (Parquet bytes and
sidecar record), and :func:`store_payload` writes it: every executor calls these two, so
every executor writes the same bytes. A run is watched for numerical errors and for use of
the global random state; plugins reach a worker as :class:`PluginSource` (path and text).
"""

from __future__ import annotations

import hashlib
import time
import traceback
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas_harness.algorithms.registry import get_algorithm, load_plugin, parse_params
from nas_harness.benchmarks.errors import HarnessError
from nas_harness.benchmarks.records import summary, to_parquet_bytes
from nas_harness.benchmarks.run_files import (
    TIMING_FIELD,
    run_paths,
    sidecar_text,
    write_complete,
    write_failed,
)
from nas_harness.benchmarks.table import BenchmarkTable
from nas_harness.runner import RunTask, search

__all__ = [
    "DEFAULT_RUN_TIMEOUT",
    "GLOBAL_RANDOM_RULE",
    "GlobalRandomStateError",
    "PluginSource",
    "RunOutcome",
    "RunPayload",
    "RunTimeoutError",
    "StorageError",
    "execute_task",
    "failed_payload",
    "load_plugin_sources",
    "share_process_random",
    "store_payload",
    "timeout_message",
]


@dataclass(frozen=True)
class PluginSource:
    """A plugin file and its text, so workers on other machines can load it too."""

    path: str
    source: bytes


@dataclass(frozen=True)
class RunOutcome:
    """What became of one executed run (the files hold the details)."""

    run_id: str
    status: str
    wall_s: float
    error: str = ""


@dataclass(frozen=True)
class RunPayload:
    """A run's result before it is stored: Parquet bytes (None if failed) and sidecar record."""

    task: RunTask
    parquet: bytes | None
    record: dict[str, Any]

    @property
    def outcome(self) -> RunOutcome:
        """The summary the parent keeps."""
        error = self.record.get("error", {})
        line = f"{error.get('type', '')}: {error.get('message', '')}" if error else ""
        return RunOutcome(self.task.run_id, "failed" if self.parquet is None else "complete",
                          float(self.record[TIMING_FIELD]["wall_s"]), line)


_PLUGINS_LOADED: set[str] = set()


def load_plugin_sources(plugins: Iterable[PluginSource]) -> None:
    """Load plugins in this process (once each); a copy is written where the path is absent."""
    import tempfile

    for plugin in plugins:
        digest = hashlib.sha256(plugin.source).hexdigest()
        if digest in _PLUGINS_LOADED:
            continue
        path = Path(plugin.path)
        try:
            same = path.is_file() and path.read_bytes() == plugin.source
        except OSError:
            same = False
        if not same:  # a remote worker: load the shipped text from a private copy
            directory = Path(tempfile.gettempdir()) / "nas-harness-plugins" / digest[:16]
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / Path(plugin.path).name
            if not path.is_file():
                path.write_bytes(plugin.source)
        load_plugin(path)
        _PLUGINS_LOADED.add(digest)


class RunTimeoutError(HarnessError, TimeoutError):
    """A run took longer than the sweep's run timeout."""


class GlobalRandomStateError(HarnessError, RuntimeError):
    """A run used (or reseeded) the global ``random`` or ``np.random`` state."""


class StorageError(HarnessError, OSError):
    """A run's files could not be written (read-only or full disk, permissions)."""


DEFAULT_RUN_TIMEOUT = 600.0
"""Seconds a run may take before it is stopped and recorded as failed (``--run-timeout``)."""

GLOBAL_RANDOM_RULE = (
    "the run used the global random state (`random` or `np.random.*`); the determinism rule "
    "is that every random choice comes from the injected generator: draw from `self.rng`"
)


def timeout_message(timeout: float) -> str:
    """The one line a run stopped by the run timeout is recorded with."""
    return (f"the run took longer than the run timeout of {timeout:g} s and was stopped; "
            "raise --run-timeout if it is really that slow")


# A Dask worker runs tasks in threads beside its own, which use Python's ``random`` (retry
# jitter): there only ``np.random``'s global state is compared, and nothing is reset.
_SHARED_PROCESS = {"python_random": False}
_CANARY_SEED = 0x5EEDCA9A  # the global states a run starts from, to see even a reseed


def share_process_random() -> None:
    """Mark this process as shared with threads of its own (a Dask worker's).

    There only ``np.random``'s global state is compared, and nothing is reset.
    """
    _SHARED_PROCESS["python_random"] = True


def _global_random_states() -> tuple[Any, Any]:
    import random

    import numpy as np

    return random.getstate(), np.random.get_state(legacy=False)  # noqa: NPY002 - comparing


def _same_random_states(before: tuple[Any, Any], after: tuple[Any, Any]) -> bool:
    import numpy as np

    if before[0] != after[0] and not _SHARED_PROCESS["python_random"]:
        return False
    a, b = before[1], after[1]
    return (a["bit_generator"] == b["bit_generator"] and a["has_gauss"] == b["has_gauss"]
            and a["gauss"] == b["gauss"] and a["state"]["pos"] == b["state"]["pos"]
            and np.array_equal(a["state"]["key"], b["state"]["key"]))


@contextmanager
def _watch_global_random() -> Iterator[None]:
    """Raise :class:`GlobalRandomStateError` when the body changed a global random state.

    In a process of its own the run starts from fixed canary states (so even reseeding to
    the same seed twice is seen) and the caller's states are put back afterwards.
    """
    import random

    import numpy as np

    own = not _SHARED_PROCESS["python_random"]
    saved = _global_random_states()
    if own:
        random.seed(_CANARY_SEED)
        np.random.seed(_CANARY_SEED)  # noqa: NPY002 - the canary, restored below
    before = _global_random_states()
    try:
        yield
        if not _same_random_states(before, _global_random_states()):
            raise GlobalRandomStateError(GLOBAL_RANDOM_RULE)
    finally:
        if own:
            random.setstate(saved[0])
            np.random.set_state(saved[1])  # noqa: NPY002 - restoring the caller's state


def _guarded_search(task: RunTask, table: BenchmarkTable, cls: Any, params: Any) -> Any:
    """``search`` with numerical errors raised and the global random state watched.

    Overflow, invalid operations (NaN) and division by zero raise ``FloatingPointError`` (and
    any other ``RuntimeWarning`` is an error) instead of turning the run's numbers into NaN
    silently; underflow (a number too small to represent, rounded to 0) stays allowed.
    """
    import warnings

    import numpy as np

    with _watch_global_random(), warnings.catch_warnings(), \
            np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        warnings.simplefilter("error", RuntimeWarning)
        return search(task, table[task.dataset], cls, params)


def execute_task(task: RunTask, table: BenchmarkTable, versions: Mapping[str, str],
                 fingerprint: str) -> RunPayload:
    """Run one task; an exception becomes a failed payload with its traceback (never raised).

    ``sys.exit`` inside the algorithm fails the run too; only ``KeyboardInterrupt`` passes.
    """
    start = time.perf_counter()
    parquet: bytes | None = None
    record = _base_record(task, versions, fingerprint)
    try:
        cls = get_algorithm(task.algorithm_name)
        library = cls.provenance()  # an adapter's library: imported here, versions recorded
        if library:
            record["library"] = library
        params = parse_params(cls, task.params_dict)
        trajectory = _guarded_search(task, table, cls, params)
        parquet = to_parquet_bytes(trajectory)
        record["result"] = summary(trajectory)
        sidecar_text(record)  # a value JSON cannot hold (NaN) fails the run, not the store
    except (Exception, SystemExit) as exc:
        parquet = None
        record.pop("result", None)
        record["error"] = {"type": type(exc).__name__, "message": str(exc),
                           "traceback": traceback.format_exc()}
    record[TIMING_FIELD] = _timing(time.perf_counter() - start)
    return RunPayload(task, parquet, record)


def _base_record(task: RunTask, versions: Mapping[str, str], fingerprint: str
                 ) -> dict[str, Any]:
    return {
        "format": 1,
        **task.identity(versions.get("table_checksum", "")),
        "fingerprint": fingerprint,
        "versions": dict(versions),
    }


def _timing(wall_s: float) -> dict[str, Any]:
    return {"wall_s": round(wall_s, 6), "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def failed_payload(task: RunTask, versions: Mapping[str, str], fingerprint: str,
                   error_type: str, message: str, wall_s: float) -> RunPayload:
    """The payload of a run that ended outside the algorithm (its process died, a timeout)."""
    record = _base_record(task, versions, fingerprint)
    record["error"] = {"type": error_type, "message": message, "traceback": ""}
    record[TIMING_FIELD] = _timing(wall_s)
    return RunPayload(task, None, record)


def store_payload(out_dir: Path, payload: RunPayload) -> RunOutcome:
    """Write a payload's files (Parquet first, sidecar last; both atomic).

    Raises:
        StorageError: the files cannot be written (full or read-only disk, permissions); the
            runs stored before are kept, so the same command resumes once that is fixed.
    """
    task = payload.task
    paths = run_paths(out_dir, task.dataset, task.algorithm, task.run)
    try:
        if payload.parquet is None:
            write_failed(paths, payload.record)
        else:
            write_complete(paths, payload.parquet, payload.record)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise StorageError(
            f"cannot write run {task.run_id} under {out_dir} ({reason}); free disk space or "
            "fix the permissions (or choose another --out), then re-run the same command: "
            "the runs already stored are kept") from None
    return payload.outcome
