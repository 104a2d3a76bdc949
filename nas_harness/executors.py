"""The executors that spread a sweep's runs: in this process, a local pool, or Dask.

Every executor runs a task with :func:`nas_harness.task.execute_task` and stores it with
:func:`nas_harness.task.store_payload`, so the choice changes speed and isolation, never the
bytes. :func:`execute_runs` picks the executor and shows progress. Worker entry points
(``_init_worker``, ``_pool_run``) are module-level functions so the forkserver pool can pickle
them by module path.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from nas_harness.benchmarks.errors import HarnessError
from nas_harness.benchmarks.table import BenchmarkTable
from nas_harness.execution import ExecutionOptions
from nas_harness.runner import RunTask, warm_up
from nas_harness.task import (
    PluginSource,
    RunOutcome,
    RunTimeoutError,
    execute_task,
    failed_payload,
    load_plugin_sources,
    store_payload,
    timeout_message,
)

__all__ = [
    "capped_workers",
    "default_workers",
    "execute_runs",
]


# -- worker-side state ------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(table: BenchmarkTable, versions: Mapping[str, str],
                 plugins: tuple[PluginSource, ...], out_dir: str) -> None:
    """Pool initializer: keep the table (loaded once per worker) and load the plugins."""
    _WORKER.update(table=table, versions=dict(versions), out_dir=Path(out_dir))
    load_plugin_sources(plugins)
    warm_up()  # built once here, so the first run's timeout does not pay for it


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


def execute_runs(pending: Sequence[tuple[RunTask, str]], table: BenchmarkTable,
                 versions: Mapping[str, str], plugins: tuple[PluginSource, ...],
                 out_dir: Path, execution: ExecutionOptions) -> list[RunOutcome]:
    """Execute and store every ``(task, fingerprint)`` of ``pending``; outcomes as they finish.

    A Dask ``scheduler`` address wins. Otherwise ``workers=1`` runs in this process (no
    start-up cost, but a run that kills its process takes the sweep with it), and anything
    else in supervised worker processes (default: one per core, capped at the cores with a
    warning): a run whose process dies, or that runs past the run timeout, is recorded
    as failed with the cause and the others go on. Every executor writes the same files, so
    the choice changes only speed and isolation. ``out_dir`` is the caller's, checked and
    locked.
    """
    import warnings

    todo = list(pending)
    timeout = execution.run_timeout
    in_process = execution.workers == 1  # asked for; a cap to one core still isolates runs
    workers, warning = capped_workers(execution.workers)
    if warning and not execution.scheduler:
        warnings.warn(warning, UserWarning, stacklevel=2)
    bar = _progress(len(todo), execution.progress)
    try:
        if execution.scheduler:
            from nas_harness.dask_executor import run_dask

            stream = run_dask(todo, table, versions, plugins, out_dir, execution.scheduler,
                              timeout, bar.update,
                              connect_timeout=execution.scheduler_timeout)
        elif in_process:
            stream = _run_in_process(todo, table, versions, out_dir, timeout, bar.update)
        else:
            n_workers = min(workers or default_workers(), len(todo))
            stream = _run_local_pool(todo, table, versions, plugins, out_dir, n_workers,
                                     timeout, bar.update)
        return list(stream)
    finally:
        bar.close()
