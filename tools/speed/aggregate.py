"""Speed of the analysis aggregation at the paper's scale (1,500 runs x 500 queries).

Run: ``python -m tools.speed.aggregate [--runs-per-group 100] [--budget 500]``.
Builds a synthetic trajectory table with every column of the schema (5 algorithms x 3
datasets x 100 runs), then times the step-function matrices, the summary table and the
criteria. Prints wall times; asserts nothing (timings belong in reports, not tests).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from nas_harness.benchmarks.datasets import DATASET_NAMES
from nas_harness.benchmarks.records import TRAJECTORY_COLUMNS


def synthetic_trajectories(runs: int, budget: int, algorithms: int = 5,
                           seed: int = 0) -> pd.DataFrame:
    """Trajectories with the real schema and monotone incumbents (values are fake)."""
    rng = np.random.default_rng(seed)
    names = [f"algo{i}" for i in range(algorithms)]
    groups = [(a, d) for d in DATASET_NAMES for a in names]
    n_runs = len(groups) * runs
    rows = n_runs * budget
    alg = np.repeat([a for a, _ in groups], runs * budget)
    ds = np.repeat([d for _, d in groups], runs * budget)
    run = np.tile(np.repeat(np.arange(runs), budget), len(groups))
    valid = rng.uniform(60, 90, size=(n_runs, budget))
    inc_valid = np.maximum.accumulate(valid, axis=1)
    index = rng.integers(0, 32768, size=(n_runs, budget))
    pos = np.maximum.accumulate(np.where(valid == inc_valid, np.arange(budget), 0), axis=1)
    inc_index = np.take_along_axis(index, pos, axis=1)
    run_id = np.char.add(np.char.add(ds.astype(str), "/"),
                         np.char.add(np.char.add(alg.astype(str), "/"),
                                     np.char.zfill(run.astype(str), 3)))
    data = {
        "run_id": run_id, "algorithm": alg, "dataset": ds, "run": run,
        "query": np.tile(np.arange(1, budget + 1), n_runs), "arch_index": index.ravel(),
        "arch": np.full(rows, "8:8:8:8:8"), "flops": rng.uniform(1, 100, rows),
        "params": np.zeros(rows, dtype=np.int64), "feasible": np.ones(rows, dtype=bool),
        "duplicate": np.zeros(rows, dtype=bool), "valid_acc": valid.ravel(),
        "incumbent_index": inc_index.ravel(), "incumbent_valid_acc": inc_valid.ravel(),
        "incumbent_test_acc": inc_valid.ravel() + 2.0, "elapsed_s": np.full(rows, np.nan),
    }
    return pd.DataFrame({c: data[c] for c in TRAJECTORY_COLUMNS})


def main() -> None:
    """Time the aggregation steps."""
    from nas_harness.analysis.metrics.aggregate import step_curves, summarize_curves
    from nas_harness.analysis.metrics.criteria import criteria
    from nas_harness.analysis.metrics.references import References

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs-per-group", type=int, default=100)
    parser.add_argument("--budget", type=int, default=500)
    args = parser.parse_args()
    traj = synthetic_trajectories(args.runs_per_group, args.budget)
    refs = {d: References(d, 1.0, 1, 5, 90.0, 92.0, 5, 93.0, (5,)) for d in DATASET_NAMES}
    print(f"{traj['run_id'].nunique()} runs x {args.budget} queries = {len(traj)} rows")
    for _ in range(3):
        t0 = time.perf_counter()
        curves = step_curves(traj, args.budget, ("incumbent_test_acc", "incumbent_index"))
        t1 = time.perf_counter()
        summary = summarize_curves(curves)
        t2 = time.perf_counter()
        criteria(curves, refs)
        t3 = time.perf_counter()
        print(f"step matrices {t1 - t0:.3f} s, summary ({len(summary)} rows) {t2 - t1:.3f} s, "
              f"criteria {t3 - t2:.3f} s, total {t3 - t0:.3f} s")


if __name__ == "__main__":
    main()
