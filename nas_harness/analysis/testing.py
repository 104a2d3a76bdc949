"""Fixtures for the analysis tests: synthetic tables and hand-made trajectories.

The synthetic table is clearly fake (builder ``synthetic-test``) and exists so the analysis
can be tested end to end without the benchmark data; it is never used for a result.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from nas_harness.benchmarks.cost_model import dataset_costs
from nas_harness.benchmarks.datasets import DATASET_NAMES
from nas_harness.benchmarks.records import TRAJECTORY_COLUMNS
from nas_harness.benchmarks.space import SSS
from nas_harness.benchmarks.table import BenchmarkTable, DatasetTable, TableProvenance

SYNTHETIC_BUILDER = "synthetic-test"


def synthetic_table(seed: int = 0, datasets: Sequence[str] = DATASET_NAMES) -> BenchmarkTable:
    """A full-size table whose accuracy grows with the channels, plus seeded noise."""
    rng = np.random.default_rng(seed)
    indices = SSS.all_indices()
    channels = SSS.channels(indices)
    width = channels.sum(axis=1) / (64.0 * channels.shape[1])
    tables = {}
    for offset, name in enumerate(datasets):
        flops, params = dataset_costs(channels, name)
        base = 60.0 + 30.0 * np.sqrt(width) - 10.0 * offset
        valid = base + rng.normal(0.0, 0.5, len(indices))
        test = valid + rng.normal(0.3, 0.3, len(indices))
        tables[name] = DatasetTable(
            dataset=name, valid_acc=valid, test_acc=test,
            params=np.asarray(params, dtype=np.int64), flops=np.asarray(flops, dtype=float),
            available=np.ones(len(indices), dtype=bool))
    provenance = TableProvenance(SYNTHETIC_BUILDER, {"synthetic/seed": str(seed)},
                                 checksum=f"synthetic-{seed}")
    return BenchmarkTable(tables, provenance)


def hand_trajectory(run_id: str, values: Sequence[float], *, algorithm: str = "a",
                    dataset: str = "cifar10", run: int = 0,
                    index: Sequence[int] | None = None) -> pd.DataFrame:
    """A trajectory with the given incumbent test accuracies (NaN: no feasible query yet).

    Only the columns the analysis reads carry meaning; the others hold placeholders of the
    right dtype.
    """
    n = len(values)
    acc = np.asarray(values, dtype=np.float64)
    inc = (np.asarray(index, dtype=np.int64) if index is not None
           else np.where(np.isnan(acc), -1, np.arange(n)).astype(np.int64))
    data = {
        "run_id": [run_id] * n, "algorithm": [algorithm] * n, "dataset": [dataset] * n,
        "run": np.full(n, run, dtype=np.int64), "query": np.arange(1, n + 1, dtype=np.int64),
        "arch_index": np.arange(n, dtype=np.int64), "arch": ["8:8:8:8:8"] * n,
        "flops": np.zeros(n), "params": np.zeros(n, dtype=np.int64),
        "feasible": ~np.isnan(acc), "duplicate": np.zeros(n, dtype=bool),
        "valid_acc": np.nan_to_num(acc, nan=0.0), "incumbent_index": inc,
        "incumbent_valid_acc": acc, "incumbent_test_acc": acc, "elapsed_s": np.full(n, np.nan),
    }
    return pd.DataFrame({c: data[c] for c in TRAJECTORY_COLUMNS})
