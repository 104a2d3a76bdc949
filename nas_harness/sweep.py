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

The specification records live in :mod:`nas_harness.experiment` and the executors in
:mod:`nas_harness.executors`; their public names are re-exported here.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nas_harness import __version__
from nas_harness.algorithms.registry import (
    RegistryError,
    load_plugin,
    params_to_dict,
    parse_params,
    resolve_algorithm,
)
from nas_harness.benchmarks.data.store import load_table
from nas_harness.benchmarks.errors import HarnessError, ProtocolError
from nas_harness.benchmarks.protocol import DEFAULT_BUDGET, SearchContext
from nas_harness.benchmarks.run_files import (
    MISSING,
    STATUS_COMPLETE,
    TIMING_FIELD,
    RunPaths,
    complete_record,
    configuration_key,
    configuration_of,
    describe_difference,
    load_runs,
    read_run_directory,
    remove_temporaries,
    run_paths,
)
from nas_harness.benchmarks.table import BenchmarkTable
from nas_harness.executors import (
    DEFAULT_RUN_TIMEOUT,
    PluginSource,
    RunOutcome,
    check_out_dir,
    default_workers,
    execute_runs,
)
from nas_harness.experiment import PAPER_ALGORITHMS, AlgorithmSpec, SweepSpec, reproduce_spec
from nas_harness.progress import note
from nas_harness.runner import RunTask

LOCK_NAME = ".nas-harness.lock"

__all__ = [
    "LOCK_NAME",
    "PAPER_ALGORITHMS",
    "TIMING_FIELD",
    "AlgorithmSpec",
    "ConfigurationConflict",
    "DirectoryBusy",
    "RunOutcome",
    "SweepPlan",
    "SweepResult",
    "SweepSpec",
    "check_configurations",
    "default_workers",
    "load_runs",
    "plan_sweep",
    "reproduce_spec",
    "run_sweep",
]


class ConfigurationConflict(HarnessError, ValueError):
    """The output directory holds complete runs of another configuration under a label."""


class DirectoryBusy(HarnessError, RuntimeError):
    """Another sweep holds the output directory's lock."""


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: every run's task and fingerprint, and the table's provenance."""

    spec: SweepSpec
    tasks: tuple[RunTask, ...]
    fingerprints: tuple[str, ...]
    versions: Mapping[str, str]
    plugins: tuple[PluginSource, ...] = ()


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


# -- planning and validation ------------------------------------------------------------------

def _versions(table: BenchmarkTable) -> dict[str, str]:
    import numpy as np
    import pyarrow as pa


    return {"nas_harness": __version__, "numpy": np.__version__, "pyarrow": pa.__version__,
            "python": ".".join(map(str, sys.version_info[:3])),
            "table_checksum": table.provenance.checksum,
            "table_builder": table.provenance.builder}


def _read_plugins(plugins: Iterable[str | Path]) -> tuple[PluginSource, ...]:

    out = []
    for plugin in plugins:
        path = Path(plugin).expanduser().resolve()
        load_plugin(path)  # raises a clear RegistryError for a missing or broken file
        try:
            out.append(PluginSource(str(path), path.read_bytes()))
        except OSError as exc:  # pragma: no cover - it was just imported
            raise RegistryError(f"cannot read plugin {str(plugin)!r}: {exc}") from exc
    return tuple(out)


def plan_sweep(spec: SweepSpec, table: BenchmarkTable,
               plugins: Iterable[str | Path] = ()) -> SweepPlan:
    """Validate ``spec`` against the registry and ``table``; return every run's task.

    Raises a HarnessError (nothing is written) for an unknown algorithm, dataset or parameter,
    a dataset the table lacks, a budget above the number of architectures, or a constraint no
    architecture satisfies.
    """
    sources = _read_plugins(plugins)
    resolved = []
    for algo in spec.algorithms:
        cls, preset = resolve_algorithm(algo.name)   # family:preset -> its published values
        full = params_to_dict(parse_params(cls, {**preset, **dict(algo.params)}))
        resolved.append((algo, tuple(sorted(full.items()))))
    for dataset in spec.datasets:
        dt = table[dataset]
        available = int(dt.available.sum())
        if spec.budget > available:
            raise ProtocolError(
                f"a budget of {spec.budget} queries exceeds the {available} architectures with "
                f"data on {dataset}; use --budget {available} or less (the default is "
                f"{DEFAULT_BUDGET})"
            )
        protocol = spec.protocol(dataset)
        if protocol.fidelity not in dt.fidelities:
            raise ProtocolError(
                f"fidelity hp={protocol.fidelity} is not in the table of {dataset} (it has "
                f"{', '.join('hp=' + f for f in dt.fidelities)})")
        SearchContext.for_protocol(dt, protocol)  # raises when no architecture is feasible
    checksum = table.provenance.checksum
    tasks = tuple(
        RunTask(algorithm=algo.label, algorithm_name=algo.name, params=params, dataset=dataset,
                run=run, budget=spec.budget, fidelity=spec.fidelity,
                max_flops_fraction=spec.max_flops_fraction, master_seed=spec.master_seed,
                protocol_options=tuple(sorted(spec.options_for(dataset).items())))
        for dataset in spec.datasets for algo, params in resolved for run in range(spec.runs)
    )
    return SweepPlan(spec, tasks, tuple(t.fingerprint(checksum) for t in tasks),
                     _versions(table), sources)


def _default_table() -> BenchmarkTable:
    """The benchmark table named by ``NAS_HARNESS_DATA`` (cached in-process by the store)."""
    return load_table()


def _run_files_in(directory: Path) -> list[tuple[Path, dict | None]]:
    """Every ``run-NNN.json`` of one ``<dataset>/<label>`` directory, with its record."""
    return [(run.paths.sidecar, run.record)
            for run in read_run_directory(directory, skip_damaged=True)]


def _remove_run(sidecar: Path) -> None:
    for path in (sidecar, sidecar.with_suffix(".parquet")):
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def check_configurations(plan: SweepPlan, out_dir: Path, *, force: bool = False,
                         seen: dict[Path, dict | None] | None = None) -> int:
    """Refuse (or with ``force`` remove) runs of another configuration where the plan writes.

    Each ``<out>/<dataset>/<label>`` directory holds runs of one configuration. Complete runs
    of another one raise :class:`ConfigurationConflict` naming both configurations and the
    way out; with ``force`` they are deleted (every run index, so none is left to mix). Failed
    runs of another configuration hold no result and are deleted either way. Returns how
    many runs were deleted. ``seen``, when given, receives every sidecar read (path ->
    record) that is still there afterwards, so the caller need not read it again.
    """
    checksum = plan.versions.get("table_checksum", "")
    wanted: dict[Path, dict] = {}
    planned: dict[Path, set[str]] = {}  # the plan's fingerprints per directory
    for task, fingerprint in zip(plan.tasks, plan.fingerprints, strict=True):
        directory = run_paths(out_dir, task.dataset, task.algorithm, 0).directory
        if directory not in wanted:
            wanted[directory] = task.configuration(checksum)
        planned.setdefault(directory, set()).add(fingerprint)
    conflicts: list[tuple[Path, dict, dict, list[Path]]] = []
    stale: list[Path] = []  # failed runs of another configuration: nothing to lose
    for directory, config in wanted.items():
        key = configuration_key(config)
        others: dict[str, tuple[dict, list[Path]]] = {}
        for sidecar, record in _run_files_in(directory):
            if seen is not None:
                seen[sidecar] = record
            if record is None:
                continue  # torn: redone (or ignored) like any incomplete run
            if record.get("fingerprint") in planned[directory]:
                continue  # a planned run's identity, so this configuration (no key needed)
            stored = configuration_of(record)
            if configuration_key(stored) == key:
                continue
            if record.get("status") != STATUS_COMPLETE:
                stale.append(sidecar)
                continue
            others.setdefault(configuration_key(stored), (stored, []))[1].append(sidecar)
        for stored, sidecars in others.values():
            conflicts.append((directory, stored, config, sidecars))
    if conflicts and not force:
        directory, stored, config, sidecars = conflicts[0]
        have, ask = describe_difference(stored, config)
        more = (f" (and {len(conflicts) - 1} more director"
                f"{'y' if len(conflicts) == 2 else 'ies'})" if len(conflicts) > 1 else "")
        raise ConfigurationConflict(
            f"{directory} holds {len(sidecars)} complete run(s) of another configuration "
            f"({have}) than this sweep ({ask}){more}; nothing was run. Use another --out or "
            "--label (in an experiment file: output or the algorithm's label) to keep both, "
            "or --force to replace them"
        )
    doomed = stale + [sidecar for *_, sidecars in conflicts for sidecar in sidecars]
    for sidecar in doomed:
        _remove_run(sidecar)
        if seen is not None:
            seen.pop(sidecar, None)
    return len(doomed)


def _out_path(out_dir: Path | str) -> Path:
    if isinstance(out_dir, str) and not out_dir.strip():
        raise ProtocolError("the results directory is empty (--out \"\"); name a directory, "
                            "e.g. --out runs/my-sweep")
    return Path(out_dir)


def _lock(out: Path, timeout: float) -> Any:
    """The directory's lock, held for the whole sweep (fails with a clear line when taken)."""
    from filelock import FileLock, Timeout

    check_out_dir(out)  # a file in the way, or no write permission: one line, no work
    lock = FileLock(str(out / LOCK_NAME))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise DirectoryBusy(
            f"another sweep is writing to {out} (it holds {out / LOCK_NAME}); wait for it "
            "to finish, or use another --out"
        ) from None
    except OSError as exc:
        raise ProtocolError(f"cannot lock the results directory {out} "
                            f"({exc.strerror or exc}); choose another --out") from None
    return lock


def run_sweep(spec: SweepSpec, out_dir: Path | str, *, workers: int | None = None,
              scheduler: str | None = None, force: bool = False, progress: bool = True,
              plugins: Iterable[str | Path] = (), table: BenchmarkTable | None = None,
              lock_timeout: float = 0.0,
              run_timeout: float | None = DEFAULT_RUN_TIMEOUT) -> SweepResult:
    """Run every not-yet-complete run of ``spec`` and store it under ``out_dir``.

    Args:
        spec: the sweep.
        out_dir: results root (``<out>/<dataset>/<algorithm>/run-NNN.{parquet,json}``).
        workers: local processes (default: the CPU cores available; capped at them with a
            warning; 1 runs in this process, without isolation).
        scheduler: address of a Dask scheduler (``tcp://host:port``); overrides ``workers``.
        force: recompute complete runs too, and replace runs of another configuration.
        progress: show progress on stderr (a bar on a terminal, plain lines otherwise).
        plugins: ``.py`` files registering extra algorithms (loaded in every worker).
        table: the benchmark table (default: ``nas_harness.benchmarks.data.store.load_table()``).
        lock_timeout: seconds to wait for another sweep's lock on ``out_dir`` (0: fail at
            once with :class:`DirectoryBusy`; negative: wait as long as it takes).
        run_timeout: seconds after which a run is stopped and recorded as failed (None: no
            limit).

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
    if table is None:
        note("loading the benchmark table (built and cached on first use)", progress)
        table = _default_table()
    plan = plan_sweep(spec, table, plugins)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ProtocolError(f"workers must be a positive integer, got {workers!r}")
    digest = hashlib.sha256("\n".join(plan.fingerprints).encode("ascii")).hexdigest()
    lock = _lock(out, lock_timeout)
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
        outcomes = execute_runs(pending, table, plan.versions, plan.plugins, out,
                                workers=workers, scheduler=scheduler, progress=progress,
                                run_timeout=run_timeout)
    finally:
        lock.release()
    order = {task.run_id: i for i, (task, _) in enumerate(pending)}
    outcomes.sort(key=lambda o: order[o.run_id])
    return SweepResult(out, len(plan.tasks), skipped, tuple(outcomes),
                       time.perf_counter() - start, digest)


def run_files(out_dir: Path | str, task: RunTask) -> RunPaths:
    """The files of ``task`` under ``out_dir``."""
    return run_paths(out_dir, task.dataset, task.algorithm, task.run)
