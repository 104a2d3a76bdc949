"""Overhead per query of each library adapter, against the built-in random search (a script).

Each adapter runs ``--runs`` searches of ``--budget`` queries on one dataset of the benchmark
table, through the harness's oracle and search loop, after one short warm-up run (imports and
first-call costs excluded); the built-in ``random`` runs the same way as the reference. The
overhead of an adapter is its microseconds per query minus random search's: the time its
library spends deciding (and re-asking after infeasible proposals, which are counted too).
The last column extrapolates a 100-run, 3-dataset comparison at that budget on ``--workers``
cores.

Usage::

    NAS_HARNESS_DATA=/path/to/natsbench_sss python -m tools.speed.adapters \
        [--budget 500] [--runs 2] [--budget-for optuna:gp=30] [--json FILE] \
        [--out results/speed/adapters.md] [NAME ...]

Adapters whose library is missing are reported as such, not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass

import numpy as np

REFERENCE = "random"


@dataclass(frozen=True)
class AdapterTiming:
    """Seconds per query of one algorithm (mean over runs) and its infeasible proposals."""

    name: str
    budget: int
    runs: int
    us_per_query: float
    infeasible_per_query: float
    library: str


def time_algorithm(name: str, table: object, dataset: str, budget: int, runs: int
                   ) -> AdapterTiming:
    """Mean wall time per query of ``runs`` searches of ``budget`` queries (after a warm-up)."""
    from nas_harness.algorithms.registry import get_algorithm
    from nas_harness.algorithms.search_loop import run_search
    from nas_harness.benchmarks.oracle import Oracle
    from nas_harness.benchmarks.protocol import Protocol

    cls = get_algorithm(name)
    dt = table[dataset]  # type: ignore[index]

    def one(seed: int, n: int) -> tuple[float, int]:
        oracle = Oracle(dt, Protocol(dataset, budget=n))
        algo = cls(oracle.context, np.random.default_rng(seed), None)
        start = time.perf_counter()
        run_search(algo, oracle)
        return time.perf_counter() - start, int(getattr(algo, "num_infeasible", 0))

    one(10_000, min(budget, 5))  # warm-up: imports, caches
    seconds, infeasible = zip(*(one(seed, budget) for seed in range(runs)), strict=True)
    library = ", ".join(f"{k} {v}" for k, v in cls.provenance().items()) or "(built-in)"
    return AdapterTiming(name, budget, runs, float(np.sum(seconds)) / (runs * budget) * 1e6,
                         float(np.sum(infeasible)) / (runs * budget), library)


def _adapter_names() -> list[str]:
    from nas_harness.algorithms.registry import available_algorithms

    return [n for n, cls in available_algorithms().items()
            if cls.__module__.startswith("nas_harness.algorithms.adapters.")]


def main(argv: list[str] | None = None) -> int:
    """Time the adapters and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="adapters to time (default: all registered)")
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--budget", type=int, default=500, help="queries per run")
    parser.add_argument("--runs", type=int, default=2, help="timed runs per algorithm")
    parser.add_argument("--budget-for", action="append", default=["optuna:gp=30"],
                        metavar="NAME=N", help="a smaller budget for a slow adapter")
    parser.add_argument("--workers", type=int, default=2,
                        help="cores assumed by the 100-run extrapolation")
    parser.add_argument("--json", default=None, metavar="FILE", help="also write JSON here")
    parser.add_argument("--out", default=None, metavar="FILE",
                        help="also write the printed table to FILE (Markdown)")
    args = parser.parse_args(argv)
    from tools.speed.tee import tee

    with tee(args.out):
        _measure(args)
    return 0


def _measure(args: argparse.Namespace) -> None:
    """Time the adapters asked for and print the table."""
    from nas_harness.algorithms.registry import available_algorithms
    from nas_harness.benchmarks.data.store import load_table
    from tools.speed.targets import machine_line

    table = load_table()
    print(f"machine: {machine_line()}\n")   # a busy machine inflates every time below
    budgets = dict(item.split("=", 1) for item in args.budget_for)
    names = args.names or _adapter_names()
    algos = available_algorithms()
    rows = []
    reference = time_algorithm(REFERENCE, table, args.dataset, args.budget, args.runs)
    print(f"{args.runs} runs x {args.budget} queries on {args.dataset} per algorithm "
          f"(smaller budgets: {budgets or 'none'})\n")
    print("| algorithm | library | budget | us/query | overhead vs random (us/query) "
          "| infeasible asks/query | 100 runs x 3 datasets, est. |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name in [REFERENCE, *names]:
        cls = algos.get(name)
        missing = cls.unavailable() if cls is not None else "not registered"
        if missing:
            print(f"| {name} | {missing} | | | | | |")
            continue
        timing = reference if name == REFERENCE else time_algorithm(
            name, table, args.dataset, int(budgets.get(name, args.budget)), args.runs)
        rows.append(timing)
        overhead = timing.us_per_query - reference.us_per_query
        estimate_s = timing.us_per_query * 1e-6 * 300 * args.budget / args.workers
        print(f"| {name} | {timing.library} | {timing.budget} | {timing.us_per_query:,.1f} | "
              f"{overhead:,.1f} | {timing.infeasible_per_query:.2f} | "
              f"{_duration(estimate_s)} |", flush=True)
    print(f"\nload average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump([asdict(r) for r in rows], handle, indent=1)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


if __name__ == "__main__":
    raise SystemExit(main())
