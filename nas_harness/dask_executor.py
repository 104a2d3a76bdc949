"""The Dask executor: runs on an existing cluster, results stored by this (the client) process.

The table and the plugins reach every worker through a worker plugin, so a worker that dies
and is restarted by its nanny gets them again (data scattered to workers dies with them, and
then every run depending on it was cancelled). Each run is its own task, so a run that kills
its worker fails alone: Dask retries it up to the scheduler's
``distributed.scheduler.allowed-failures`` (default 3) and then reports ``KilledWorker``,
recorded here as the run's failure (runs that shared the dead worker's threads are retried
too, and normally complete). A run past the run timeout is recorded as failed; as Dask runs tasks in
threads, which cannot be stopped, the hung thread stays in its worker until that worker
restarts.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from nas_harness.benchmarks.errors import HarnessError
from nas_harness.benchmarks.table import BenchmarkTable
from nas_harness.runner import RunTask
from nas_harness.task import (
    PluginSource,
    RunOutcome,
    RunPayload,
    execute_task,
    failed_payload,
    load_plugin_sources,
    share_process_random,
    store_payload,
    timeout_message,
)

_STATE: dict[str, dict[str, Any]] = {}


class SweepState(WorkerPlugin):
    """A sweep's table, versions and plugins, kept in each worker process.

    Set up again on a worker its nanny restarted.
    """

    def __init__(self, key: str, table: BenchmarkTable, versions: Mapping[str, str],
                 plugins: tuple[PluginSource, ...]) -> None:
        self.key, self.table, self.versions, self.plugins = key, table, dict(versions), plugins

    def setup(self, worker: Any) -> None:
        """Load the plugins and keep the table under the sweep's key."""
        share_process_random()
        load_plugin_sources(self.plugins)
        _STATE[self.key] = {"table": self.table, "versions": self.versions}

    def teardown(self, worker: Any) -> None:
        """Forget the sweep."""
        _STATE.pop(self.key, None)


def _dask_run(key: str, task: RunTask, fingerprint: str, timeout: float | None
              ) -> RunPayload:
    """Execute one run on a Dask worker, in a thread so a hang can be timed out."""
    state = _STATE[key]
    box: dict[str, RunPayload] = {}
    start = time.perf_counter()
    thread = threading.Thread(
        target=lambda: box.update(p=execute_task(task, state["table"], state["versions"],
                                                 fingerprint)),
        daemon=True, name=f"run {task.run_id}")
    thread.start()
    thread.join(timeout)
    if "p" in box:
        return box["p"]
    return failed_payload(task, state["versions"], fingerprint, "RunTimeoutError",
                          timeout_message(timeout or 0.0), time.perf_counter() - start)


def _lost_message(exc: BaseException) -> str:
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        return ("the Dask worker process running it died each time it was tried (os._exit or "
                f"sys.exit in the algorithm, a crash, or out of memory): {exc}")
    return f"the run was lost on the Dask cluster: {type(exc).__name__}: {exc}"


def connect(scheduler: str, timeout: float) -> Any:
    """A client of the scheduler at ``scheduler``; one line if none answers within ``timeout``."""
    import logging

    from distributed import Client

    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # its own retry messages would repeat the one line
    try:
        return Client(scheduler, set_as_default=False, timeout=timeout)
    except (OSError, TimeoutError):
        raise HarnessError(
            f"no Dask scheduler answered at {scheduler} within {timeout:g} s; start one with "
            "`dask scheduler`, check the address, or raise --scheduler-timeout") from None
    finally:
        quiet.setLevel(level)


def run_dask(pending: list[tuple[RunTask, str]], table: BenchmarkTable,
             versions: Mapping[str, str], plugins: tuple[PluginSource, ...], out_dir: Path,
             scheduler: str, timeout: float | None, tick: Callable[[int], None], *,
             connect_timeout: float) -> Iterator[RunOutcome]:
    """Execute ``pending`` on the cluster at ``scheduler``; store and yield each outcome."""
    from distributed import as_completed

    client = connect(scheduler, connect_timeout)
    key = f"nas-harness-sweep-{uuid.uuid4().hex}"
    try:
        client.register_plugin(SweepState(key, table, versions, plugins), name=key)
        futures = {client.submit(_dask_run, key, task, fingerprint, timeout, pure=False,
                                 key=f"{key}-{i}"): (task, fingerprint)
                   for i, (task, fingerprint) in enumerate(pending)}
        for future in as_completed(futures, loop=client.loop):
            task, fingerprint = futures[future]
            try:
                payload = future.result()
            except Exception as exc:  # the worker died (KilledWorker) or the task was lost
                payload = failed_payload(task, versions, fingerprint, type(exc).__name__,
                                         _lost_message(exc), 0.0)
            future.release()
            tick(1)
            yield store_payload(out_dir, payload)
    finally:
        try:
            client.unregister_worker_plugin(key)
        except Exception:
            pass
        client.close()
