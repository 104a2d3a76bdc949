"""Sweeps: algorithms x datasets x runs, planned, validated, executed, resumed.

``run_sweep(spec, out_dir)`` validates everything before any work (names, parameters, budget,
constraint), skips runs already complete on disk, and executes the rest in-process, on a local
process pool or on a Dask cluster. Each run's result depends only on its :class:`RunTask`, and
the files are produced by the same code everywhere, so every executor writes the same bytes.
A run that raises is recorded as failed (traceback in its sidecar); the others go on.
"""

from __future__ import annotations

import hashlib
import math
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.datasets import DATASET_NAMES, get_dataset
from benchmarks.errors import HarnessError, ProtocolError
from benchmarks.protocol import DEFAULT_BUDGET, DEFAULT_FLOPS_FRACTION, Protocol, SearchContext
from benchmarks.results_io import (
    TIMING_FIELD,
    RunPaths,
    complete_record,
    load_runs,
    remove_temporaries,
    run_paths,
    write_complete,
    write_failed,
)
from benchmarks.runner import RunTask
from benchmarks.table import BenchmarkTable

__all__ = [
    "PAPER_ALGORITHMS",
    "TIMING_FIELD",
    "AlgorithmSpec",
    "RunOutcome",
    "SweepPlan",
    "SweepResult",
    "SweepSpec",
    "load_runs",
    "plan_sweep",
    "reproduce_spec",
    "run_sweep",
]

PAPER_ALGORITHMS: tuple[str, ...] = (
    "layernas", "random", "evolution", "ppo", "reinforce",
)
"""The algorithms of the paper's experiment (``nas-harness reproduce``)."""
MAX_RUNS = 100_000


@dataclass(frozen=True)
class AlgorithmSpec:
    """An algorithm of a sweep: registry name, parameter overrides, results label.

    ``label`` (default: the name) names the results directory and enters the run's seed key,
    so the same algorithm with two parameter settings needs two labels.
    """

    name: str
    params: tuple[tuple[str, Any], ...] = ()
    label: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.params, Mapping):
            object.__setattr__(self, "params", tuple(sorted(self.params.items())))
        object.__setattr__(self, "params", tuple((str(k), v) for k, v in self.params))
        if not self.label:
            object.__setattr__(self, "label", self.name)

    @classmethod
    def coerce(cls, item: AlgorithmSpec | str | Sequence[Any]) -> AlgorithmSpec:
        """An AlgorithmSpec from a name, ``(name, params)`` or ``(name, params, label)``."""
        if isinstance(item, AlgorithmSpec):
            return item
        if isinstance(item, str):
            return cls(item)
        parts = tuple(item)
        if not 1 <= len(parts) <= 3:
            raise ProtocolError(f"an algorithm spec is NAME, (NAME, PARAMS) or "
                                f"(NAME, PARAMS, LABEL); got {item!r}")
        name = parts[0]
        params = parts[1] if len(parts) > 1 else {}
        label = parts[2] if len(parts) > 2 else ""
        return cls(str(name), tuple(dict(params or {}).items()), str(label))


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep runs: every algorithm on every dataset, ``runs`` times, one protocol.

    Attributes:
        algorithms: algorithm specs (names, ``(name, params)`` pairs or AlgorithmSpec).
        datasets: dataset names (aliases accepted; normalised).
        runs: runs per (algorithm, dataset), indices ``0..runs-1``.
        budget: queries per run.
        fidelity: ``"90"`` (default) or ``"12"``.
        max_flops_fraction: FLOPs at most this fraction of the largest model (None: no limit).
        master_seed: entropy of every run's ``SeedSequence`` (fixed, so sweeps reproduce).
    """

    algorithms: tuple[Any, ...]
    datasets: tuple[str, ...] = DATASET_NAMES
    runs: int = 100
    budget: int = DEFAULT_BUDGET
    fidelity: str = "90"
    max_flops_fraction: float | None = DEFAULT_FLOPS_FRACTION
    master_seed: int = 0

    def __post_init__(self) -> None:
        algos = tuple(AlgorithmSpec.coerce(a) for a in (
            (self.algorithms,) if isinstance(self.algorithms, (str, AlgorithmSpec))
            else self.algorithms))
        if not algos:
            raise ProtocolError("a sweep needs at least one algorithm")
        labels = [a.label for a in algos]
        if len(set(labels)) != len(labels):
            raise ProtocolError(
                f"algorithm labels must be unique in a sweep, got {labels}; give each setting "
                "its own label"
            )
        datasets = tuple(get_dataset(d).name for d in (
            (self.datasets,) if isinstance(self.datasets, str) else self.datasets))
        if not datasets:
            raise ProtocolError("a sweep needs at least one dataset")
        if len(set(datasets)) != len(datasets):
            raise ProtocolError(f"a dataset is listed twice: {list(self.datasets)}")
        if isinstance(self.runs, bool) or not isinstance(self.runs, int) \
                or not 1 <= self.runs <= MAX_RUNS:
            raise ProtocolError(f"runs must be an integer in 1..{MAX_RUNS}, got {self.runs!r}")
        if isinstance(self.master_seed, bool) or not isinstance(self.master_seed, int) \
                or self.master_seed < 0:
            raise ProtocolError(
                f"the master seed must be a non-negative integer, got {self.master_seed!r}")
        object.__setattr__(self, "algorithms", algos)
        object.__setattr__(self, "datasets", datasets)
        # the protocol checks budget, fidelity and fraction with clear messages
        Protocol(datasets[0], budget=self.budget, fidelity=self.fidelity,
                 max_flops_fraction=self.max_flops_fraction)
        object.__setattr__(self, "fidelity", str(self.fidelity))

    @property
    def num_runs(self) -> int:
        """Number of runs in the sweep."""
        return len(self.algorithms) * len(self.datasets) * self.runs


def reproduce_spec(runs: int = 100, budget: int = DEFAULT_BUDGET,
                   master_seed: int = 0) -> SweepSpec:
    """The paper's experiment: five algorithms, three datasets, FLOPs <= 50% of the largest."""
    return SweepSpec(algorithms=PAPER_ALGORITHMS, datasets=DATASET_NAMES, runs=runs,
                     budget=budget, fidelity="90", max_flops_fraction=DEFAULT_FLOPS_FRACTION,
                     master_seed=master_seed)


@dataclass(frozen=True)
class PluginSource:
    """A plugin file and its text, so workers on other machines can load it too."""

    path: str
    source: bytes


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: every run's task and fingerprint, and the table's provenance."""

    spec: SweepSpec
    tasks: tuple[RunTask, ...]
    fingerprints: tuple[str, ...]
    versions: Mapping[str, str]
    plugins: tuple[PluginSource, ...] = ()


@dataclass(frozen=True)
class RunOutcome:
    """What became of one executed run (the files hold the details)."""

    run_id: str
    status: str
    wall_s: float
    error: str = ""


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

    from nas_harness import __version__

    return {"nas_harness": __version__, "numpy": np.__version__, "pyarrow": pa.__version__,
            "python": ".".join(map(str, sys.version_info[:3])),
            "table_checksum": table.provenance.checksum,
            "table_builder": table.provenance.builder}


def _read_plugins(plugins: Iterable[str | Path]) -> tuple[PluginSource, ...]:
    from algorithms.registry import RegistryError, load_plugin

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
    from algorithms.registry import get_algorithm, params_to_dict, parse_params

    sources = _read_plugins(plugins)
    resolved = []
    for algo in spec.algorithms:
        cls = get_algorithm(algo.name)
        full = params_to_dict(parse_params(cls, dict(algo.params)))
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


# -- executing one run (identical in every process) -------------------------------------------

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

    from algorithms.registry import load_plugin

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
    from algorithms.registry import get_algorithm, parse_params
    from benchmarks.runner import search, summary, to_parquet_bytes

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
    from tqdm import tqdm

    # disable=None: on only when stderr is a terminal
    return tqdm(total=total, unit="run", desc="runs", file=sys.stderr, dynamic_ncols=True,
                disable=None if enabled else True, smoothing=0.1)


def _run_in_process(pending: list[tuple[RunTask, str]], plan: SweepPlan, table: BenchmarkTable,
                    out_dir: Path, tick: Callable[[int], None]) -> Iterator[RunOutcome]:
    for task, fingerprint in pending:
        outcome = store_payload(out_dir, execute_task(task, table, plan.versions, fingerprint))
        tick(1)
        yield outcome


def _run_local_pool(pending: list[tuple[RunTask, str]], plan: SweepPlan, table: BenchmarkTable,
                    out_dir: Path, workers: int, tick: Callable[[int], None]
                    ) -> Iterator[RunOutcome]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    chunks = _chunks(pending, workers)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                             initargs=(table, plan.versions, plan.plugins, str(out_dir))) as pool:
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


def _run_dask(pending: list[tuple[RunTask, str]], plan: SweepPlan, table: BenchmarkTable,
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
        futures = [client.submit(_dask_chunk, chunk, table_future, plan.versions, plan.plugins,
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


def _default_table() -> BenchmarkTable:
    """The benchmark table named by ``NAS_HARNESS_DATA`` (cached in-process by the store)."""
    from benchmarks.store import load_table

    return load_table()


def default_workers() -> int:
    """The CPU cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1  # pragma: no cover - not Linux


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
        table: the benchmark table (default: ``benchmarks.store.load_table()``).

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
    n_workers = workers or default_workers()
    bar = _progress(len(pending), progress)
    try:
        if scheduler:
            stream = _run_dask(pending, plan, table, out, scheduler, bar.update)
        elif min(n_workers, len(pending)) <= 1:
            stream = _run_in_process(pending, plan, table, out, bar.update)
        else:
            stream = _run_local_pool(pending, plan, table, out, min(n_workers, len(pending)),
                                     bar.update)
        outcomes = list(stream)
    finally:
        bar.close()
    order = {task.run_id: i for i, (task, _) in enumerate(pending)}
    outcomes.sort(key=lambda o: order[o.run_id])
    return SweepResult(out, len(plan.tasks), skipped, tuple(outcomes),
                       time.perf_counter() - start, digest)


def run_files(out_dir: Path | str, task: RunTask) -> RunPaths:
    """The files of ``task`` under ``out_dir``."""
    return run_paths(out_dir, task.dataset, task.algorithm, task.run)
