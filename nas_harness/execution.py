"""How a sweep's runs execute: worker processes or a Dask cluster, timeouts, progress.

:class:`ExecutionOptions` is checked once, on construction, before any work: a bad worker
count, run timeout or scheduler address is one line naming the fix, and nothing is written.
A scheduler address is checked for its form here (scheme, host, port); whether a scheduler
answers there is known only by connecting, which gives up after ``scheduler_timeout`` seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlsplit

from nas_harness.benchmarks.errors import HarnessError
from nas_harness.task import DEFAULT_RUN_TIMEOUT

__all__ = [
    "DEFAULT_SCHEDULER_TIMEOUT",
    "SCHEDULER_SCHEMES",
    "ExecutionError",
    "ExecutionOptions",
    "check_scheduler_address",
]

DEFAULT_SCHEDULER_TIMEOUT = 10.0
"""Seconds to wait for a Dask scheduler to answer before giving up (``--scheduler-timeout``)."""
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")
"""The address schemes ``dask.distributed`` connects over."""


class ExecutionError(HarnessError, ValueError):
    """An execution option that cannot be honoured (workers, timeouts, scheduler address)."""


def check_scheduler_address(address: str) -> str:
    """``address`` if it has the form ``[scheme://]host:port``, else one line saying why.

    A bare ``host:port`` means ``tcp://host:port``, as for ``dask.distributed.Client``.
    """
    text = address.strip() if isinstance(address, str) else ""
    example = "e.g. tcp://127.0.0.1:8786 (the address `dask scheduler` prints)"
    if not text:
        raise ExecutionError(f"the Dask scheduler address is empty; give one, {example}")
    scheme = text.split("://", 1)[0].lower() if "://" in text else "tcp"
    if scheme not in SCHEDULER_SCHEMES:
        raise ExecutionError(
            f"the Dask scheduler address {address!r} has the scheme {scheme!r}; use one of "
            f"{', '.join(SCHEDULER_SCHEMES)}, {example}")
    if scheme == "inproc":
        return text
    try:
        parts = urlsplit(text if "://" in text else f"tcp://{text}")
        port = parts.port
        host = parts.hostname
    except ValueError as exc:
        raise ExecutionError(f"the Dask scheduler address {address!r} is malformed ({exc}); "
                             f"{example}") from None
    if not host or port is None or parts.path not in ("", "/") or parts.query:
        raise ExecutionError(f"the Dask scheduler address {address!r} is not "
                             f"scheme://host:port; {example}")
    return text


def _seconds(value: float | None, what: str, flag: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not (math.isfinite(value) and value > 0):
        raise ExecutionError(f"the {what} must be a positive number of seconds, got "
                             f"{value!r} ({flag})")
    return float(value)


@dataclass(frozen=True)
class ExecutionOptions:
    """Where and how a sweep's runs execute (the result never depends on it).

    Attributes:
        workers: local processes (None: one per CPU core; 1: in this process).
        scheduler: a Dask scheduler's address; overrides ``workers``.
        scheduler_timeout: seconds to wait for the scheduler to answer.
        run_timeout: seconds after which a run is stopped and recorded as failed (None: no
            limit).
        progress: show progress on stderr.
    """

    workers: int | None = None
    scheduler: str | None = None
    scheduler_timeout: float = DEFAULT_SCHEDULER_TIMEOUT
    run_timeout: float | None = DEFAULT_RUN_TIMEOUT
    progress: bool = True

    def __post_init__(self) -> None:
        workers = self.workers
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                    or workers < 1):
            raise ExecutionError(f"workers must be a positive integer, got {workers!r}")
        if self.scheduler is not None:
            object.__setattr__(self, "scheduler", check_scheduler_address(self.scheduler))
        _seconds(self.run_timeout, "run timeout", "--run-timeout")
        timeout = _seconds(self.scheduler_timeout, "scheduler timeout", "--scheduler-timeout")
        if timeout is None:
            raise ExecutionError("the scheduler timeout must be a positive number of "
                                 "seconds, got None (--scheduler-timeout)")
        object.__setattr__(self, "progress", bool(self.progress))
