"""nas-harness: fair, reproducible and fast NAS benchmarking on NATS-Bench's size search space.

The application layer: experiments and their specs, seeding, the runner and executors, sweeps,
the regression gate, the command line and the speed scripts that time whole sweeps. It may
import everything below it (``algorithms``, ``analysis``, ``benchmarks``); nothing imports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "load_runs"]


def load_runs(out_dir: Path | str = "results/runs", *, datasets: Iterable[str] | None = None,
              algorithms: Iterable[str] | None = None) -> Any:
    """Every complete run under ``out_dir`` as one DataFrame, its configuration as columns.

    One row per query (the trajectory columns), plus ``algorithm_name``, ``master_seed``, the
    protocol's fields and one ``param_<name>`` column per algorithm parameter, so runs of
    different settings can be told apart and grouped (``df.groupby("param_population_size")``).
    """
    from nas_harness.benchmarks.run_files import load_runs_with_params

    return load_runs_with_params(out_dir, datasets=datasets, algorithms=algorithms)
