"""A supervised process pool: one job at a time per worker, deaths and hangs survived.

``concurrent.futures.ProcessPoolExecutor`` breaks as a whole when one worker dies (every
pending job raises ``BrokenProcessPool``) and cannot stop a job that never returns. Here the
parent hands each worker one job at a time, so it always knows which job a worker was running:

- a worker that dies (``sys.exit`` escaping, ``os._exit``, a crash, the out-of-memory killer)
  yields a :class:`Lost` for its job and is replaced; the other jobs go on;
- a job running longer than ``timeout`` seconds gets its worker killed, yields a :class:`Lost`,
  and the worker is replaced;
- every worker watches the parent and exits when it is gone (``kill -9`` of the sweep leaves
  no process behind).

Jobs and results must pickle; the work function and the initializer must be importable
module-level functions (the ``forkserver`` start method imports them by name).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

__all__ = ["Lost", "WorkerError", "run_supervised"]

_PARENT_POLL_S = 0.5
_START_FAILURES = 3  # workers that die before finishing any job: the pool cannot start


class WorkerError(RuntimeError):
    """The work function raised in a worker (not a job's failure: the pool must stop)."""


@dataclass(frozen=True)
class Lost:
    """A job whose worker died or was killed for running past the timeout."""

    reason: str       # "died" or "timeout"
    message: str      # one line naming the cause
    wall_s: float


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a pid reused by another user's process
        return False
    return True


def _watch_parent(parent: int) -> None:
    """Exit this worker as soon as the parent is gone (whoever our OS parent is)."""
    while True:
        time.sleep(_PARENT_POLL_S)
        if not _alive(parent):
            os._exit(1)


def _worker_main(conn: Connection, parent: int, initializer: Callable[..., None],
                 initargs: tuple[Any, ...], work: Callable[[Any], Any]) -> None:
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                     name="watch-parent").start()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    initializer(*initargs)
    conn.send(("ready", None))  # the run timeout counts from here, not from start-up
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            reply: tuple[str, Any] = ("ok", work(job))
        except BaseException as exc:
            reply = ("error", exc)
        try:
            conn.send(reply)
        except Exception:  # an exception that does not pickle: send its text
            conn.send(("error", WorkerError(f"{type(reply[1]).__name__}: {reply[1]}")))


def describe_exit(exitcode: int | None) -> str:
    """Why a worker process ended, in words."""
    if exitcode is None:
        return "the worker process vanished"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        if -exitcode == signal.SIGKILL:
            return (f"the worker process was killed by {name} (out of memory? the kernel's "
                    "OOM killer sends SIGKILL)")
        return f"the worker process was killed by {name} (a crash in native code?)"
    return (f"the worker process exited with status {exitcode} (os._exit or sys.exit in the "
            "algorithm?)")


@dataclass
class _Slot:
    process: Any
    conn: Connection
    job: Any = None
    busy: bool = False
    ready: bool = False
    started: float = 0.0
    done: int = 0


def run_supervised(jobs: Iterable[Any], work: Callable[[Any], Any], *, workers: int,
                   context: Any, initializer: Callable[..., None],
                   initargs: tuple[Any, ...] = (), timeout: float | None = None
                   ) -> Generator[tuple[Any, Any], None, None]:
    """Run ``work(job)`` for every job in ``workers`` processes; yield ``(job, result)``.

    ``result`` is what ``work`` returned, or a :class:`Lost` when the worker died or ran past
    ``timeout`` seconds. Results come in completion order. Re-raises what ``work`` raises (it
    is expected to turn a job's failure into a result, so that stops the pool), and raises
    :class:`WorkerError` when workers keep dying before doing any job (a broken
    initializer). Closing the iterator (or an exception in the consumer) stops every worker.
    """
    queue = list(jobs)[::-1]
    slots: list[_Slot] = []
    start_failures = 0
    parent = os.getpid()

    def spawn() -> _Slot:
        ours, theirs = context.Pipe(duplex=True)
        process = context.Process(target=_worker_main, name="nas-harness-worker", daemon=True,
                                  args=(theirs, parent, initializer, initargs, work))
        process.start()
        theirs.close()
        return _Slot(process, ours)

    def retire(slot: _Slot, kill: bool) -> None:
        if kill and slot.process.is_alive():
            slot.process.kill()
        slot.process.join(5)
        slot.conn.close()
        slots.remove(slot)

    try:
        for _ in range(max(1, min(workers, len(queue)))):
            slots.append(spawn())
        while queue or any(s.busy for s in slots):
            for slot in slots:
                if slot.ready and not slot.busy and queue:
                    job = queue.pop()
                    try:
                        slot.conn.send(job)
                    except OSError:  # it just died: the job goes back, the death is seen below
                        queue.append(job)
                        continue
                    slot.job, slot.busy, slot.started = job, True, time.monotonic()
            deadlines = [s.started + timeout - time.monotonic()
                         for s in slots if s.busy and timeout is not None]
            wait_s = max(0.0, min(deadlines)) if deadlines else None
            ready = set(wait([s.conn for s in slots] + [s.process.sentinel for s in slots],
                             timeout=wait_s))
            now = time.monotonic()
            for slot in list(slots):
                reply = None
                if slot.conn in ready:
                    try:
                        reply = slot.conn.recv()
                    except (EOFError, OSError):
                        reply = None
                if reply is not None:
                    kind, value = reply
                    if kind == "error":
                        raise value
                    if kind == "ready":
                        slot.ready = True
                        continue
                    job, slot.job, slot.busy = slot.job, None, False
                    slot.done += 1
                    yield job, value
                    continue
                if slot.conn in ready or slot.process.sentinel in ready:  # it died
                    slot.process.join(5)
                    lost_job, busy = slot.job, slot.busy
                    start_failures += slot.done == 0 and not busy
                    cause = describe_exit(slot.process.exitcode)
                    retire(slot, kill=True)
                    if start_failures >= _START_FAILURES:
                        raise WorkerError(f"worker processes die on start-up: {cause}")
                    if queue or busy:
                        slots.append(spawn())
                    if busy:
                        yield lost_job, Lost("died", cause, now - slot.started)
                    continue
                if slot.busy and timeout is not None and now - slot.started >= timeout:
                    lost_job = slot.job
                    retire(slot, kill=True)
                    if queue:
                        slots.append(spawn())
                    yield lost_job, Lost("timeout", f"the run took longer than the run timeout "
                                         f"of {timeout:g} s and was stopped",
                                         now - slot.started)
    finally:
        for slot in slots:
            try:
                slot.conn.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + 2
        for slot in slots:
            slot.process.join(max(0.0, deadline - time.monotonic()))
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(5)
            slot.conn.close()
