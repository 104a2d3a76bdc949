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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from algorithms.registry import get_algorithm, load_plugin, parse_params
from benchmarks.errors import HarnessError
from benchmarks.records import summary, to_parquet_bytes
from benchmarks.run_files import TIMING_FIELD, run_paths, write_complete, write_failed
from benchmarks.table import BenchmarkTable
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


def execute_task(task: RunTask, table: BenchmarkTable, versions: Mapping[str, str],
                 fingerprint: str) -> RunPayload:
    """Run one task; an exception becomes a failed payload with its traceback (never raised)."""
    record: dict[str, Any] = {
        "format": 1,
        **task.identity(versions.get("table_checksum", "")),
        "fingerprint": fingerprint,
        "versions": dict(versions),
    }
    start = time.perf_counter()
    parquet: bytes | None = None
    try:
        cls = get_algorithm(task.algorithm_name)
        params = parse_params(cls, task.params_dict)
        trajectory = search(task, table[task.dataset], cls, params)
        parquet = to_parquet_bytes(trajectory)
        record["result"] = summary(trajectory)
    except Exception as exc:
        parquet = None
        record["error"] = {"type": type(exc).__name__, "message": str(exc),
                           "traceback": traceback.format_exc()}
    record[TIMING_FIELD] = {"wall_s": round(time.perf_counter() - start, 6),
                            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    return RunPayload(task, parquet, record)


def store_payload(out_dir: Path, payload: RunPayload) -> RunOutcome:
    """Write a payload's files (Parquet first, sidecar last; both atomic)."""
    task = payload.task
    paths = run_paths(out_dir, task.dataset, task.algorithm, task.run)
    if payload.parquet is None:
        write_failed(paths, payload.record)
    else:
        write_complete(paths, payload.parquet, payload.record)
    return payload.outcome


# -- worker-side state ------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(table: BenchmarkTable, versions: Mapping[str, str],
                 plugins: tuple[PluginSource, ...], out_dir: str) -> None:
    """Pool initializer: keep the table (loaded once per worker) and load the plugins."""
    _WORKER.update(table=table, versions=dict(versions), out_dir=Path(out_dir),
                   parent=os.getppid())
    _load_plugin_sources(plugins)


def _pool_chunk(chunk: list[tuple[RunTask, str]]) -> list[RunOutcome]:
    """Execute and store a chunk of runs in a pool worker."""
    outcomes = []
    for task, fingerprint in chunk:
        if os.getppid() != _WORKER["parent"]:  # the sweep was killed: stop, do not linger
            os._exit(1)
        payload = execute_task(task, _WORKER["table"], _WORKER["versions"], fingerprint)
        outcomes.append(store_payload(_WORKER["out_dir"], payload))
    return outcomes


def _dask_chunk(chunk: list[tuple[RunTask, str]], table: BenchmarkTable,
                versions: Mapping[str, str], plugins: tuple[PluginSource, ...]
                ) -> list[RunPayload]:
    """Execute a chunk of runs on a Dask worker; the client stores the results."""
    _load_plugin_sources(plugins)
    return [execute_task(task, table, versions, fp) for task, fp in chunk]


# -- executors --------------------------------------------------------------------------------

def _chunks(items: list[Any], workers: int) -> list[list[Any]]:
    size = max(1, min(20, math.ceil(len(items) / (workers * 16))))
    return [items[i:i + size] for i in range(0, len(items), size)]


def _progress(total: int, enabled: bool) -> Any:
    from nas_harness.progress import progress_bar

    return progress_bar(total, "runs", enabled)  # a bar on a terminal, plain lines otherwise


def _run_in_process(pending: list[tuple[RunTask, str]], table: BenchmarkTable,
                    versions: Mapping[str, str], out_dir: Path, tick: Callable[[int], None]
                    ) -> Iterator[RunOutcome]:
    for task, fingerprint in pending:
        outcome = store_payload(out_dir, execute_task(task, table, versions, fingerprint))
        tick(1)
        yield outcome


def _run_local_pool(pending: list[tuple[RunTask, str]], table: BenchmarkTable,
                    versions: Mapping[str, str], plugins: tuple[PluginSource, ...],
                    out_dir: Path, workers: int, tick: Callable[[int], None]
                    ) -> Iterator[RunOutcome]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    chunks = _chunks(pending, workers)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                             initargs=(table, versions, plugins, str(out_dir))) as pool:
        futures = {pool.submit(_pool_chunk, chunk): chunk for chunk in chunks}
        try:
            for future in as_completed(futures):
                try:
                    outcomes = future.result()
                except BrokenProcessPool as exc:  # a worker died (killed, out of memory)
                    outcomes = [RunOutcome(t.run_id, "failed", 0.0,
                                           f"worker process died: {exc}")
                                for t, _ in futures[future]]
                tick(len(outcomes))
                yield from outcomes
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _run_dask(pending: list[tuple[RunTask, str]], table: BenchmarkTable,
              versions: Mapping[str, str], plugins: tuple[PluginSource, ...],
              out_dir: Path, scheduler: str, tick: Callable[[int], None]
              ) -> Iterator[RunOutcome]:
    try:
        from dask.distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise HarnessError("--scheduler needs dask.distributed: pip install "
                           "'dask[distributed]'") from exc
    try:
        # the connect timeout is Dask's ``distributed.comm.timeouts.connect`` (30 s default)
        client = Client(scheduler, set_as_default=False)
    except OSError as exc:
        raise HarnessError(f"cannot connect to the Dask scheduler at {scheduler!r} ({exc}); "
                           "start one with `dask scheduler` or check the address") from exc
    try:
        nworkers = max(1, len(client.scheduler_info().get("workers", {})))
        table_future = client.scatter(table, broadcast=True, hash=False)
        futures = [client.submit(_dask_chunk, chunk, table_future, versions, plugins,
                                 pure=False)
                   for chunk in _chunks(pending, nworkers)]
        for future in as_completed(futures, loop=client.loop):
            payloads = future.result()
            outcomes = [store_payload(out_dir, p) for p in payloads]
            future.release()
            tick(len(outcomes))
            yield from outcomes
    finally:
        client.close()


def default_workers() -> int:
    """The CPU cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1  # pragma: no cover - not Linux


def execute_runs(pending: Sequence[tuple[RunTask, str]], table: BenchmarkTable,
                 versions: Mapping[str, str], plugins: tuple[PluginSource, ...],
                 out_dir: Path, *, workers: int, scheduler: str | None = None,
                 progress: bool = True) -> list[RunOutcome]:
    """Execute and store every ``(task, fingerprint)`` of ``pending``; outcomes as they finish.

    A Dask ``scheduler`` address wins; otherwise ``workers`` local processes, or this process
    when only one would be used (no pool start-up for a single run). Every executor writes the
    same files, so the choice changes only speed.
    """
    todo = list(pending)
    n_workers = min(workers, len(todo))
    bar = _progress(len(todo), progress)
    try:
        if scheduler:
            stream = _run_dask(todo, table, versions, plugins, out_dir, scheduler, bar.update)
        elif n_workers <= 1:
            stream = _run_in_process(todo, table, versions, out_dir, bar.update)
        else:
            stream = _run_local_pool(todo, table, versions, plugins, out_dir, n_workers,
                                     bar.update)
        return list(stream)
    finally:
        bar.close()
