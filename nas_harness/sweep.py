"""Sweeps: algorithms x datasets x runs, planned, validated, executed, resumed.

``run_sweep(spec, out_dir)`` validates everything before any work (names, parameters, budget,
constraint), takes the directory's lock (one writer per directory), refuses a directory whose
``<dataset>/<label>`` holds complete runs of another configuration (another algorithm,
parameters, protocol, master seed or table: runs are never silently replaced or mixed), skips
runs already complete on disk, and hands the rest to
:func:`nas_harness.executors.execute_runs` (in-process, a local process pool or a Dask cluster).
Each run's result depends only on its :class:`RunTask`, and the files are produced by the same
code everywhere, so every executor writes the same bytes. A run that raises is recorded as
failed (traceback in its sidecar); the others go on.

The specification records live in :mod:`nas_harness.experiment`, planning in
:mod:`nas_harness.plan`, the directory's lock and configuration check in
:mod:`nas_harness.results_dir`, the execution options in :mod:`nas_harness.execution` and the
executors in :mod:`nas_harness.executors`; their public names are re-exported here.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nas_harness.benchmarks.data.store import load_table
from nas_harness.benchmarks.errors import ProtocolError
from nas_harness.benchmarks.run_files import (
    MISSING,
    TIMING_FIELD,
    complete_record,
    load_runs,
    remove_temporaries,
    run_paths,
)
from nas_harness.benchmarks.table import BenchmarkTable
from nas_harness.execution import DEFAULT_SCHEDULER_TIMEOUT, ExecutionOptions
from nas_harness.executors import default_workers, execute_runs
from nas_harness.experiment import PAPER_ALGORITHMS, AlgorithmSpec, SweepSpec, reproduce_spec
from nas_harness.plan import SweepPlan, plan_sweep
from nas_harness.progress import note
from nas_harness.results_dir import (
    LOCK_NAME,
    ConfigurationConflict,
    DirectoryBusy,
    check_configurations,
    lock_directory,
)
from nas_harness.task import DEFAULT_RUN_TIMEOUT, RunOutcome

__all__ = [
    "LOCK_NAME",
    "PAPER_ALGORITHMS",
    "TIMING_FIELD",
    "AlgorithmSpec",
    "ConfigurationConflict",
    "DirectoryBusy",
    "ExecutionOptions",
    "RunOutcome",
    "SweepPlan",
    "SweepResult",
    "SweepSpec",
    "check_configurations",
    "default_table",
    "default_workers",
    "load_runs",
    "plan_sweep",
    "reproduce_spec",
    "run_sweep",
]


@dataclass(frozen=True)
class SweepResult:
    """Summary of a sweep call.

    Attributes:
        out_dir: where the runs are.
        total: runs in the sweep.
        skipped: runs already complete (not recomputed).
        outcomes: the runs executed by this call.
        wall_s: wall time of the call.
        digest: sha256 of every run's fingerprint: names the set of results the sweep asks
            for (equal digests and no failures mean equal results on disk).
    """

    out_dir: Path
    total: int
    skipped: int
    outcomes: tuple[RunOutcome, ...] = field(default=())
    wall_s: float = 0.0
    digest: str = ""

    @property
    def completed(self) -> int:
        """Runs executed and completed by this call."""
        return sum(o.status == "complete" for o in self.outcomes)

    @property
    def failures(self) -> tuple[RunOutcome, ...]:
        """Runs executed by this call that failed."""
        return tuple(o for o in self.outcomes if o.status != "complete")

    @property
    def ok(self) -> bool:
        """Whether no run failed."""
        return not self.failures

    def describe(self) -> str:
        """A short human summary (the CLI prints it)."""
        if not self.outcomes:
            return (f"all {self.total} runs already complete in {self.out_dir}; nothing to do "
                    "(--force recomputes)")
        text = (f"{self.completed} runs computed, {self.skipped} already complete, "
                f"{len(self.failures)} failed, of {self.total}, in {self.wall_s:.1f} s -> "
                f"{self.out_dir}")
        if self.failures:
            lines = [f"  {o.run_id}: {o.error}" for o in self.failures[:20]]
            if len(self.failures) > 20:
                lines.append(f"  ... and {len(self.failures) - 20} more")
            text += "\nfailed runs (tracebacks in their .json sidecars):\n" + "\n".join(lines)
        return text


def default_table() -> BenchmarkTable:
    """The benchmark table named by ``NAS_HARNESS_DATA`` (cached in-process by the store)."""
    return load_table()


def _out_path(out_dir: Path | str) -> Path:
    if isinstance(out_dir, str) and not out_dir.strip():
        raise ProtocolError("the results directory is empty (--out \"\"); name a directory, "
                            "e.g. --out runs/my-sweep")
    return Path(out_dir)


def run_sweep(spec: SweepSpec, out_dir: Path | str, *, workers: int | None = None,
              scheduler: str | None = None, force: bool = False, progress: bool = True,
              plugins: Iterable[str | Path] = (), table: BenchmarkTable | None = None,
              lock_timeout: float = 0.0,
              run_timeout: float | None = DEFAULT_RUN_TIMEOUT,
              scheduler_timeout: float = DEFAULT_SCHEDULER_TIMEOUT,
              execution: ExecutionOptions | None = None) -> SweepResult:
    """Run every not-yet-complete run of ``spec`` and store it under ``out_dir``.

    Args:
        spec: the sweep.
        out_dir: results root (``<out>/<dataset>/<algorithm>/run-NNN.{parquet,json}``).
        workers: local processes (default: the CPU cores available; capped at them with a
            warning; 1 runs in this process, without isolation).
        scheduler: address of a Dask scheduler (``tcp://host:port``); overrides ``workers``.
            A malformed address is refused before any work.
        force: recompute complete runs too, and replace runs of another configuration.
        progress: show progress on stderr (a bar on a terminal, plain lines otherwise).
        plugins: ``.py`` files registering extra algorithms (loaded in every worker).
        table: the benchmark table (default: ``nas_harness.benchmarks.data.store.load_table()``).
        lock_timeout: seconds to wait for another sweep's lock on ``out_dir`` (0: fail at
            once with :class:`DirectoryBusy`; negative: wait as long as it takes).
        run_timeout: seconds after which a run is stopped and recorded as failed (None: no
            limit).
        scheduler_timeout: seconds to wait for the Dask scheduler to answer.
        execution: the five options above as one record already checked (the command line
            builds it before loading the table); then those five are left at their defaults.

    Returns:
        The summary; ``result.ok`` is False when some run failed (the others are stored).

    Raises:
        ConfigurationConflict: ``out_dir`` holds complete runs of another configuration under
            one of the sweep's labels (nothing is run; ``force`` replaces them).
        DirectoryBusy: another sweep writes to ``out_dir``.

    The local pool starts workers with ``forkserver``, which imports the calling script as
    ``__mp_main__``: a script that calls ``run_sweep`` with several workers needs the usual
    ``if __name__ == "__main__":`` guard.
    """
    start = time.perf_counter()
    out = _out_path(out_dir)
    loose = (workers, scheduler, scheduler_timeout, run_timeout, progress)
    if execution is None:
        execution = ExecutionOptions(*loose)
    elif loose != (None, None, DEFAULT_SCHEDULER_TIMEOUT, DEFAULT_RUN_TIMEOUT, True):
        raise TypeError("run_sweep takes execution=ExecutionOptions(...) or workers, "
                        "scheduler, scheduler_timeout, run_timeout and progress, not both")
    progress = execution.progress
    if table is None:
        note("loading the benchmark table (built and cached on first use)", progress)
        table = default_table()
    plan = plan_sweep(spec, table, plugins)
    digest = hashlib.sha256("\n".join(plan.fingerprints).encode("ascii")).hexdigest()
    lock = lock_directory(out, lock_timeout)
    try:
        seen: dict[Path, dict | None] = {}
        check_configurations(plan, out, force=force, seen=seen)
        pending = []
        for task, fingerprint in zip(plan.tasks, plan.fingerprints, strict=True):
            paths = run_paths(out, task.dataset, task.algorithm, task.run)
            if force or complete_record(paths, fingerprint,
                                        record=seen.get(paths.sidecar, MISSING)) is None:
                pending.append((task, fingerprint))
        skipped = len(plan.tasks) - len(pending)
        if not pending:
            return SweepResult(out, len(plan.tasks), skipped, (),
                               time.perf_counter() - start, digest)
        remove_temporaries({run_paths(out, t.dataset, t.algorithm, 0).directory
                            for t, _ in pending})
        note(f"{len(pending)} runs to compute ({skipped} already complete) -> {out}", progress)
        outcomes = execute_runs(pending, table, plan.versions, plan.plugins, out, execution)
    finally:
        lock.release()
    order = {task.run_id: i for i, (task, _) in enumerate(pending)}
    outcomes.sort(key=lambda o: order[o.run_id])
    return SweepResult(out, len(plan.tasks), skipped, tuple(outcomes),
                       time.perf_counter() - start, digest)

