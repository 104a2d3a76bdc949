"""Planning a sweep: every run's task and fingerprint, validated before any work.

:func:`plan_sweep` checks a :class:`SweepSpec` against the registry (plugins loaded first) and
the benchmark table -- unknown names and parameters, a budget above the architectures with
data, a fidelity the table lacks, a constraint nothing satisfies -- and returns the
:class:`SweepPlan` that the executors run. Nothing is written.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from nas_harness import __version__
from nas_harness.algorithms.registry import (
    RegistryError,
    load_plugin,
    params_to_dict,
    parse_params,
    resolve_algorithm,
)
from nas_harness.benchmarks.errors import ProtocolError
from nas_harness.benchmarks.protocol import DEFAULT_BUDGET, SearchContext
from nas_harness.benchmarks.table import BenchmarkTable
from nas_harness.experiment import SweepSpec
from nas_harness.runner import RunTask
from nas_harness.task import PluginSource

__all__ = ["SweepPlan", "plan_sweep", "read_plugins"]


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: every run's task and fingerprint, and the table's provenance."""

    spec: SweepSpec
    tasks: tuple[RunTask, ...]
    fingerprints: tuple[str, ...]
    versions: Mapping[str, str]
    plugins: tuple[PluginSource, ...] = ()



def _versions(table: BenchmarkTable) -> dict[str, str]:
    import numpy as np
    import pyarrow as pa

    return {"nas_harness": __version__, "numpy": np.__version__, "pyarrow": pa.__version__,
            "python": ".".join(map(str, sys.version_info[:3])),
            "table_checksum": table.provenance.checksum,
            "table_builder": table.provenance.builder}


def read_plugins(plugins: Iterable[str | Path]) -> tuple[PluginSource, ...]:
    """Load each plugin file here (a clear error if it is broken) and keep its text for workers."""
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
    sources = read_plugins(plugins)
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
