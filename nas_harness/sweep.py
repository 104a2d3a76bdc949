"""Sweeps: algorithms x datasets x runs, planned, validated, executed, resumed.

``run_sweep(spec, out_dir)`` validates everything before any work (names, parameters, budget,
constraint), skips runs already complete on disk, and hands the rest to
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

from algorithms.registry import (
    RegistryError,
    load_plugin,
    params_to_dict,
    parse_params,
    resolve_algorithm,
)
from benchmarks.data.store import load_table
from benchmarks.errors import ProtocolError
from benchmarks.protocol import DEFAULT_BUDGET, Protocol, SearchContext
from benchmarks.run_files import (
    TIMING_FIELD,
    RunPaths,
    complete_record,
    load_runs,
    remove_temporaries,
    run_paths,
)
from benchmarks.table import BenchmarkTable
from nas_harness import __version__
from nas_harness.executors import PluginSource, RunOutcome, default_workers, execute_runs
from nas_harness.experiment import PAPER_ALGORITHMS, AlgorithmSpec, SweepSpec, reproduce_spec
from nas_harness.runner import RunTask

__all__ = [
    "PAPER_ALGORITHMS",
    "TIMING_FIELD",
    "AlgorithmSpec",
    "RunOutcome",
    "SweepPlan",
    "SweepResult",
    "SweepSpec",
    "default_workers",
    "load_runs",
    "plan_sweep",
    "reproduce_spec",
    "run_sweep",
]


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
                f"data on {dataset}; use --budget {min(available, DEFAULT_BUDGET)} or less"
            )
        protocol = Protocol(dataset, budget=spec.budget, fidelity=spec.fidelity,
                            max_flops_fraction=spec.max_flops_fraction)
        if protocol.fidelity not in dt.fidelities:
            raise ProtocolError(
                f"fidelity hp={protocol.fidelity} is not in the table of {dataset} (it has "
                f"{', '.join('hp=' + f for f in dt.fidelities)})")
        SearchContext.for_protocol(dt, protocol)  # raises when no architecture is feasible
    checksum = table.provenance.checksum
    tasks = tuple(
        RunTask(algorithm=algo.label, algorithm_name=algo.name, params=params, dataset=dataset,
                run=run, budget=spec.budget, fidelity=spec.fidelity,
                max_flops_fraction=spec.max_flops_fraction, master_seed=spec.master_seed)
        for dataset in spec.datasets for algo, params in resolved for run in range(spec.runs)
    )
    return SweepPlan(spec, tasks, tuple(t.fingerprint(checksum) for t in tasks),
                     _versions(table), sources)


def _default_table() -> BenchmarkTable:
    """The benchmark table named by ``NAS_HARNESS_DATA`` (cached in-process by the store)."""
    return load_table()


def run_sweep(spec: SweepSpec, out_dir: Path | str, *, workers: int | None = None,
              scheduler: str | None = None, force: bool = False, progress: bool = True,
              plugins: Iterable[str | Path] = (), table: BenchmarkTable | None = None
              ) -> SweepResult:
    """Run every not-yet-complete run of ``spec`` and store it under ``out_dir``.

    Args:
        spec: the sweep.
        out_dir: results root (``<out>/<dataset>/<algorithm>/run-NNN.{parquet,json}``).
        workers: local processes (default: the CPU cores available; 1 runs in-process).
        scheduler: address of a Dask scheduler (``tcp://host:port``); overrides ``workers``.
        force: recompute complete runs too.
        progress: show a tqdm bar on stderr (only when it is a terminal).
        plugins: ``.py`` files registering extra algorithms (loaded in every worker).
        table: the benchmark table (default: ``benchmarks.data.store.load_table()``).

    Returns:
        The summary; ``result.ok`` is False when some run failed (the others are stored).

    The local pool starts workers with ``forkserver``, which imports the calling script as
    ``__mp_main__``: a script that calls ``run_sweep`` with several workers needs the usual
    ``if __name__ == "__main__":`` guard.
    """
    start = time.perf_counter()
    if table is None:
        table = _default_table()
    plan = plan_sweep(spec, table, plugins)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ProtocolError(f"workers must be a positive integer, got {workers!r}")
    out = Path(out_dir)
    digest = hashlib.sha256("\n".join(plan.fingerprints).encode("ascii")).hexdigest()
    pending = []
    for task, fingerprint in zip(plan.tasks, plan.fingerprints, strict=True):
        paths = run_paths(out, task.dataset, task.algorithm, task.run)
        if force or complete_record(paths, fingerprint) is None:
            pending.append((task, fingerprint))
    skipped = len(plan.tasks) - len(pending)
    if not pending:
        return SweepResult(out, len(plan.tasks), skipped, (), time.perf_counter() - start,
                           digest)
    remove_temporaries({run_paths(out, t.dataset, t.algorithm, 0).directory
                        for t, _ in pending})
    outcomes = execute_runs(pending, table, plan.versions, plan.plugins, out,
                            workers=workers or default_workers(), scheduler=scheduler,
                            progress=progress)
    order = {task.run_id: i for i, (task, _) in enumerate(pending)}
    outcomes.sort(key=lambda o: order[o.run_id])
    return SweepResult(out, len(plan.tasks), skipped, tuple(outcomes),
                       time.perf_counter() - start, digest)


def run_files(out_dir: Path | str, task: RunTask) -> RunPaths:
    """The files of ``task`` under ``out_dir``."""
    return run_paths(out_dir, task.dataset, task.algorithm, task.run)
