"""Executing runs: one run in any process, and the executors that spread a sweep's runs.

:func:`execute_task` turns a :class:`RunTask` into a :class:`RunPayload` (Parquet bytes and
sidecar record) by the same code in every process, and :func:`store_payload` writes it, so the
in-process, local-pool and Dask executors all produce the same bytes. :func:`execute_runs`
picks the executor and shows progress. Worker entry points (``_init_worker``, ``_pool_chunk``,
``_dask_chunk``) are module-level functions so the forkserver pool and Dask can pickle them by
module path.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
    "PluginSource",
    "RunOutcome",
    "RunPayload",
    "default_workers",
    "execute_runs",
    "execute_task",
    "store_payload",
]


# -- executing and storing one run (identical in every process) ------------------------------

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


def _load_plugin_sources(plugins: Iterable[PluginSource]) -> None:
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


# -- worker-side state ------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(table: BenchmarkTable, versions: Mapping[str, str],
                 plugins: tuple[PluginSource, ...], out_dir: str) -> None:
    """Pool initializer: keep the table (loaded once per worker) and load the plugins."""
    from nas_harness.runner import _arch_strings

    _WORKER.update(table=table, versions=dict(versions), out_dir=Path(out_dir))
    _load_plugin_sources(plugins)
    _arch_strings()  # built once here, so the first run's timeout does not pay for it


def _pool_run(job: tuple[RunTask, str]) -> RunOutcome:
    """Execute and store one run in a pool worker (a StorageError stops the sweep)."""
    task, fingerprint = job
    payload = execute_task(task, _WORKER["table"], _WORKER["versions"], fingerprint)
    return store_payload(_WORKER["out_dir"], payload)


# -- executors --------------------------------------------------------------------------------

def _progress(total: int, enabled: bool) -> Any:
    from nas_harness.progress import progress_bar

    return progress_bar(total, "runs", enabled)  # a bar on a terminal, plain lines otherwise


class _Alarm:
    """``SIGALRM`` after ``timeout`` seconds raises :class:`RunTimeoutError` in this process.

    Only in the main thread of a Unix process (elsewhere the in-process executor cannot stop
    a run; the pool can).
    """

    def __init__(self, timeout: float | None) -> None:
        import signal
        import threading

        self.timeout = timeout
        self.usable = (timeout is not None and hasattr(signal, "setitimer")
                       and threading.current_thread() is threading.main_thread())

    def _fire(self, signum: int, frame: Any) -> None:
        raise RunTimeoutError(timeout_message(self.timeout or 0.0))

    def __enter__(self) -> _Alarm:
        import signal

        if self.usable:
            self._previous = signal.signal(signal.SIGALRM, self._fire)
            signal.setitimer(signal.ITIMER_REAL, float(self.timeout or 0.0))
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        if self.usable:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)


def _run_in_process(pending: list[tuple[RunTask, str]], table: BenchmarkTable,
                    versions: Mapping[str, str], out_dir: Path, timeout: float | None,
                    tick: Callable[[int], None]) -> Iterator[RunOutcome]:
    for task, fingerprint in pending:
        try:
            with _Alarm(timeout):
                payload = execute_task(task, table, versions, fingerprint)
        except RunTimeoutError as exc:  # the alarm rang just outside the run's own handler
            payload = failed_payload(task, versions, fingerprint, type(exc).__name__, str(exc),
                                     timeout or 0.0)
        outcome = store_payload(out_dir, payload)
        tick(1)
        yield outcome


def _start_method() -> Any:
    import multiprocessing

    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def _run_local_pool(pending: list[tuple[RunTask, str]], table: BenchmarkTable,
                    versions: Mapping[str, str], plugins: tuple[PluginSource, ...],
                    out_dir: Path, workers: int, timeout: float | None,
                    tick: Callable[[int], None]) -> Iterator[RunOutcome]:
    from nas_harness.worker_pool import Lost, WorkerError, run_supervised

    stream = run_supervised(pending, _pool_run, workers=workers, context=_start_method(),
                            initializer=_init_worker,
                            initargs=(table, versions, plugins, str(out_dir)), timeout=timeout)
    try:
        for (task, fingerprint), result in stream:
            if isinstance(result, Lost):  # the worker died or was stopped: record why
                kind = "RunTimeoutError" if result.reason == "timeout" else "WorkerDied"
                message = (timeout_message(timeout or 0.0) if result.reason == "timeout"
                           else result.message)
                result = store_payload(out_dir, failed_payload(
                    task, versions, fingerprint, kind, message, result.wall_s))
            tick(1)
            yield result
    except WorkerError as exc:
        raise HarnessError(f"{exc}; run with --workers 1 to see the error in this process"
                           ) from None
    finally:
        stream.close()


def default_workers() -> int:
    """The CPU cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1  # pragma: no cover - not Linux


def capped_workers(workers: int | None) -> tuple[int | None, str]:
    """``workers`` capped at the CPU cores, and the warning to show when it was ("" if not).

    More processes than cores only share the same cores and cost memory (each worker holds
    the table and the imports, ~135 MB).
    """
    cores = default_workers()
    if workers is not None and workers > cores:
        return cores, (f"--workers {workers} is more than the {cores} CPU cores available; "
                       f"using {cores} worker processes")
    return workers, ""


def check_out_dir(out_dir: Path) -> None:
    """Refuse, before any work, an output directory that cannot hold runs (one line)."""
    import tempfile

    out = Path(out_dir)
    blocker = next((p for p in (out, *out.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise StorageError(f"--out {out} cannot be a directory: {blocker} is a file; "
                           "choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise StorageError(f"--out {out} is not writable ({exc.strerror or exc}); choose a "
                           "writable directory or fix its permissions") from None


def execute_runs(pending: Sequence[tuple[RunTask, str]], table: BenchmarkTable,
                 versions: Mapping[str, str], plugins: tuple[PluginSource, ...],
                 out_dir: Path, *, workers: int | None = None, scheduler: str | None = None,
                 progress: bool = True, run_timeout: float | None = DEFAULT_RUN_TIMEOUT
                 ) -> list[RunOutcome]:
    """Execute and store every ``(task, fingerprint)`` of ``pending``; outcomes as they finish.

    A Dask ``scheduler`` address wins. Otherwise ``workers=1`` runs in this process (no
    start-up cost, but a run that kills its process takes the sweep with it), and anything
    else in supervised worker processes (default: one per core, capped at the cores with a
    warning): a run whose process dies, or that runs past ``run_timeout`` seconds, is recorded
    as failed with the cause and the others go on. Every executor writes the same files, so
    the choice changes only speed and isolation.
    """
    import warnings

    todo = list(pending)
    check_out_dir(out_dir)
    if run_timeout is not None and not (math.isfinite(run_timeout) and run_timeout > 0):
        raise HarnessError(f"the run timeout must be a positive number of seconds, got "
                           f"{run_timeout!r}")
    in_process = workers == 1  # asked for; a cap down to one core still isolates the runs
    workers, warning = capped_workers(workers)
    if warning and not scheduler:
        warnings.warn(warning, UserWarning, stacklevel=2)
    bar = _progress(len(todo), progress)
    try:
        if scheduler:
            try:
                from nas_harness.dask_executor import run_dask
            except ImportError as exc:  # pragma: no cover - a declared dependency
                raise HarnessError("--scheduler needs dask.distributed: pip install "
                                   "'dask[distributed]'") from exc

            stream = run_dask(todo, table, versions, plugins, out_dir, scheduler, run_timeout,
                              bar.update)
        elif in_process:
            stream = _run_in_process(todo, table, versions, out_dir, run_timeout, bar.update)
        else:
            n_workers = min(workers or default_workers(), len(todo))
            stream = _run_local_pool(todo, table, versions, plugins, out_dir, n_workers,
                                     run_timeout, bar.update)
        return list(stream)
    finally:
        bar.close()
