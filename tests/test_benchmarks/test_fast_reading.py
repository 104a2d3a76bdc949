"""The fast readers give what the plain routes give: columns without pandas, runs in threads."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from nas_harness.benchmarks.data.store import column_to_numpy, load_table
from nas_harness.benchmarks.records import TRAJECTORY_SCHEMA
from nas_harness.benchmarks.run_files import complete_record, load_runs, read_sidecar, run_paths
from nas_harness.experiment import AlgorithmSpec, SweepSpec
from nas_harness.sweep import run_sweep


@pytest.mark.parametrize("values", [
    pa.array(np.arange(-5, 70, dtype=np.int64)),
    pa.array(np.arange(0, 40, dtype=np.int16)),
    pa.array(np.arange(0, 40, dtype=np.int32)),
    pa.array(np.array([0.5, np.nan, -1.25, 3.0])),
    pa.array([True, False, True, True, False, False, True, False, True, True, False]),
    pa.array(["a", "b", "a"]),
])
def test_column_to_numpy_equals_pyarrow(values: pa.Array) -> None:
    chunked = pa.chunked_array([values, values])
    for column in (chunked, chunked.slice(3, len(values)), values.slice(2)):
        want = (column.to_numpy() if isinstance(column, pa.ChunkedArray)
                else column.to_numpy(zero_copy_only=False))
        got = column_to_numpy(column)
        assert got.dtype == want.dtype
        if got.dtype.kind == "f":
            np.testing.assert_array_equal(got, want)  # NaN where NaN
        else:
            assert got.tolist() == want.tolist()


def test_column_to_numpy_with_nulls_falls_back() -> None:
    got = column_to_numpy(pa.chunked_array([pa.array([1.0, None, 3.0])]))
    assert got[0] == 1.0 and np.isnan(got[1]) and got[2] == 3.0


def test_reading_the_table_imports_neither_pandas_nor_compute(data_dir, tmp_path) -> None:
    load_table(data_dir, tmp_path)  # built (with pandas) in this process; read in a fresh one
    code = ("import sys; from nas_harness.benchmarks.data.store import read_table; "
            f"read_table({str(tmp_path)!r}); "
            "print('pandas' in sys.modules, 'pyarrow.compute' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory, table):
    out = tmp_path_factory.mktemp("fast-reading")
    spec = SweepSpec(algorithms=(AlgorithmSpec("random"), AlgorithmSpec("evolution")),
                     datasets=("cifar10", "cifar100"), runs=3, budget=20)
    run_sweep(spec, out, workers=1, progress=False, table=table)
    return out


def test_threads_and_columns_do_not_change_the_frame(sweep_dir) -> None:
    full = load_runs(sweep_dir, threads=1)
    assert list(full.columns) == TRAJECTORY_SCHEMA.names and len(full) == 2 * 2 * 3 * 20
    pd.testing.assert_frame_equal(load_runs(sweep_dir, threads=4), full)
    # any subset, in any order, comes back in file order with the same values
    part = load_runs(sweep_dir, columns=["incumbent_test_acc", "run_id", "query"])
    assert list(part.columns) == ["run_id", "query", "incumbent_test_acc"]
    pd.testing.assert_frame_equal(part, full[list(part.columns)])
    only = load_runs(sweep_dir, columns=["query"], datasets=["cifar100"],
                     algorithms=["random"])
    assert only["query"].tolist() == list(range(1, 21)) * 3


def test_unknown_column_is_named(sweep_dir) -> None:
    with pytest.raises(ValueError, match=r"unknown trajectory column.*'acc'"):
        load_runs(sweep_dir, columns=["query", "acc"])


def test_complete_record_uses_a_record_already_read(sweep_dir) -> None:
    paths = run_paths(sweep_dir, "cifar10", "random", 0)
    record = read_sidecar(paths.sidecar)
    assert complete_record(paths, record["fingerprint"], record=record) == record
    # the given record is the one judged: a stale fingerprint or a failed status is not complete
    assert complete_record(paths, "0" * 64, record=record) is None
    assert complete_record(paths, record=None) is None
    assert complete_record(paths, record={**record, "status": "failed"}) is None
    # and the Parquet file is still checked against it
    assert complete_record(paths, record={**record, "result": {"parquet_sha256": "x"}}) is None


def test_a_rerun_reads_and_skips_every_complete_run(sweep_dir, table) -> None:
    spec = SweepSpec(algorithms=(AlgorithmSpec("random"), AlgorithmSpec("evolution")),
                     datasets=("cifar10", "cifar100"), runs=3, budget=20)
    again = run_sweep(spec, sweep_dir, workers=1, progress=False, table=table)
    assert (again.skipped, again.outcomes) == (12, ())
