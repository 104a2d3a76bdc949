"""The supervised pool on its own: results, a death, a hang, a broken start-up."""

import multiprocessing
import os
import sys
import time

import pytest

from nas_harness.worker_pool import Lost, WorkerError, describe_exit, run_supervised

CONTEXT = multiprocessing.get_context("forkserver")


def _noop() -> None:
    pass


def test_every_job_once_in_completion_order():
    results = dict(run_supervised([1, -2, 3, -4, 5], abs, workers=2, context=CONTEXT,
                                  initializer=_noop))
    assert results == {1: 1, -2: 2, 3: 3, -4: 4, 5: 5}


def test_a_job_past_the_timeout_is_lost_and_the_rest_go_on():
    start = time.monotonic()
    results = dict(run_supervised([0.0, 60.0, 0.0], time.sleep, workers=1, context=CONTEXT,
                                  initializer=_noop, timeout=1.0))
    assert time.monotonic() - start < 30
    assert isinstance(results[60.0], Lost) and results[60.0].reason == "timeout"
    assert results[0.0] is None


def test_a_job_that_kills_its_worker_is_lost_and_the_rest_go_on():
    results = list(run_supervised([0, 1, 0], os._exit, workers=2, context=CONTEXT,
                                  initializer=_noop))
    lost = [r for _, r in results if isinstance(r, Lost)]
    assert len(results) == 3 and len(lost) == 3  # os._exit(0) ends the worker too
    assert all(r.reason == "died" for r in lost)
    assert "exited with status" in lost[0].message


def test_workers_that_cannot_start_stop_the_pool():
    with pytest.raises(WorkerError, match="die on start-up"):
        list(run_supervised([1, 2], abs, workers=1, context=CONTEXT, initializer=sys.exit,
                            initargs=(7,)))


def test_exit_descriptions():
    assert "SIGKILL" in describe_exit(-9) and "out of memory" in describe_exit(-9)
    assert "SIGSEGV" in describe_exit(-11)
    assert "status 3" in describe_exit(3)
