"""Speed of the front metrics: the report's extra cost for normalised HV curves and IGD+.

Run: ``python -m tools.speed.fronts RUNS_DIR [--copies 6] [--checkpoints 100,250,500]``.
Loads the trajectories of a sweep (``nas-harness run ... --out RUNS_DIR``), stacks as many
label copies as asked (so 5 algorithms x 3 datasets x 100 runs become, with ``--copies``,
the target's 6 algorithms' worth of runs), then times :func:`front_curves` (per-query HV
curve of every run, IGD+ at the checkpoints) and the ``hv.csv`` summary. Target: under 2 s
for 3 datasets x 100 runs x 500 queries x 6 algorithms. Prints wall times; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import time

import pandas as pd

from nas_harness.analysis.metrics.front_runs import FRONT_COLUMNS, front_curves
from nas_harness.analysis.metrics.fronts import FrontScorer
from nas_harness.benchmarks.data.store import load_table
from nas_harness.benchmarks.run_files import load_runs


def main() -> None:
    """Time the front metrics on a sweep's runs."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs_dir")
    parser.add_argument("--runs-target", type=int, default=1800,
                        help="stack label copies until at least this many runs")
    parser.add_argument("--checkpoints", default="100,250,500")
    parser.add_argument("--cost", default="flops")
    args = parser.parse_args()
    table = load_table()
    traj = load_runs(args.runs_dir)[list(FRONT_COLUMNS)]
    n_runs = traj["run_id"].nunique()
    copies = []
    k = 0
    while k * n_runs < args.runs_target:
        copy = traj.copy()
        copy["algorithm"] = copy["algorithm"] + f"#{k}"
        copy["run_id"] = copy["run_id"] + f"#{k}"
        copies.append(copy)
        k += 1
    stacked = pd.concat(copies, ignore_index=True)
    keep = stacked["run_id"].drop_duplicates().iloc[:args.runs_target]
    stacked = stacked[stacked["run_id"].isin(set(keep))]
    budget = int(stacked["query"].max())
    cps = tuple(int(c) for c in args.checkpoints.split(","))
    start, cpu = time.perf_counter(), time.process_time()
    scorers = {ds: FrontScorer(table[ds], args.cost) for ds in stacked["dataset"].unique()}
    built = time.perf_counter()
    curves = front_curves(stacked, table, budget, cost=args.cost, checkpoints=cps,
                          scorers=scorers)
    scored = time.perf_counter()
    summary = curves.summary()
    done, cpu_done = time.perf_counter(), time.process_time()
    print(f"runs: {len(curves.runs)} ({n_runs} x {k} copies), queries: {len(stacked)}, "
          f"budget {budget}, checkpoints {cps}, cost {args.cost}")
    print(f"exact fronts + their HV: {built - start:.3f} s")
    print(f"HV curves + IGD+ at checkpoints: {scored - built:.3f} s")
    print(f"hv.csv summary ({len(summary)} rows): {done - scored:.3f} s")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"total: {done - start:.3f} s wall, {cpu_done - cpu:.3f} s CPU (target < 2 s); "
          f"load average {load:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
