"""Incumbents: best validation among feasible queries, ties keep the earlier one."""

import numpy as np

from nas_harness.benchmarks.records import incumbents


def test_incumbent_ignores_infeasible_and_keeps_earlier_on_ties():
    inc = incumbents(
        index=np.array([5, 6, 7, 8, 9, 10]),
        valid_acc=np.array([99.0, 3.0, 3.0, 50.0, 10.0, 10.0]),
        feasible=np.array([False, True, True, False, True, True]),
    )
    assert inc.index.tolist() == [-1, 6, 6, 6, 9, 9]
    assert np.isnan(inc.valid_acc[0])
    assert inc.valid_acc[1:].tolist() == [3.0, 3.0, 3.0, 10.0, 10.0]


def test_incumbent_changes_at_the_last_query():
    inc = incumbents(np.arange(4), np.array([1.0, 2.0, 2.0, 5.0]), np.ones(4, dtype=bool))
    assert inc.index.tolist() == [0, 1, 1, 3]


def test_empty_log():
    inc = incumbents(np.array([], dtype=np.int64), np.array([]), np.array([], dtype=bool))
    assert inc.index.tolist() == [] and inc.index.dtype == np.int64
    assert inc.valid_acc.tolist() == [] and inc.valid_acc.dtype == np.float64


def test_buffer_built_columns_equal_pa_array_and_write_the_same_bytes():
    import pyarrow as pa

    from nas_harness.benchmarks.records import (
        TRAJECTORY_SCHEMA,
        arch_strings,
        arrow_column,
        repeated_string,
        string_column,
        to_parquet_bytes,
    )
    from nas_harness.benchmarks.space import SSS

    rng = np.random.default_rng(0)
    n = 37  # not a multiple of 8: the last byte of the bool bitmap is partial
    index = rng.integers(0, SSS.size, n)
    fast = {"run_id": repeated_string("cifar10/ppo/007", n), "algorithm": repeated_string("ppo", n),
            "dataset": repeated_string("cifar10", n), "arch": arch_strings(index)}
    slow = {"run_id": pa.array(["cifar10/ppo/007"] * n, pa.string()),
            "algorithm": pa.array(["ppo"] * n, pa.string()),
            "dataset": pa.array(["cifar10"] * n, pa.string()),
            "arch": pa.array(SSS.format_many(index), pa.string())}
    numeric = {"run": np.full(n, 7), "query": np.arange(1, n + 1), "arch_index": index,
               "flops": rng.random(n), "params": rng.integers(0, 10**6, n),
               "feasible": rng.random(n) < 0.5, "duplicate": rng.random(n) < 0.2,
               "valid_acc": rng.random(n), "incumbent_index": index,
               "incumbent_valid_acc": rng.random(n), "incumbent_test_acc": rng.random(n)}
    for f in TRAJECTORY_SCHEMA:   # columns added later: values by type
        if f.name not in numeric and f.name not in fast:
            numeric[f.name] = (rng.random(n) < 0.5 if f.type == pa.bool_() else
                               rng.integers(0, 99, n) if f.type == pa.int64() else rng.random(n))
    for f in TRAJECTORY_SCHEMA:
        if f.name in numeric:
            fast[f.name] = arrow_column(numeric[f.name], f.type)
            slow[f.name] = pa.array(numeric[f.name], f.type)
        assert fast[f.name].equals(slow[f.name]), f.name
    tables = [pa.Table.from_arrays([cols[f.name] for f in TRAJECTORY_SCHEMA],
                                   schema=TRAJECTORY_SCHEMA) for cols in (fast, slow)]
    assert to_parquet_bytes(tables[0]) == to_parquet_bytes(tables[1])
    assert string_column(["", "ä:b"]).to_pylist() == ["", "ä:b"]


def test_building_and_writing_a_trajectory_does_not_import_pandas():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from nas_harness.benchmarks.records import (TRAJECTORY_SCHEMA, arch_strings,\n"
        "    repeated_string,\n"
        "    summary, table_from_columns, to_parquet_bytes)\n"
        "n = 5\n"
        "cols = {f.name: np.zeros(n, dtype=bool if str(f.type) == 'bool' else\n"
        "        float if str(f.type) == 'double' else np.int64) for f in TRAJECTORY_SCHEMA}\n"
        "for name in ('run_id', 'algorithm', 'dataset'):\n"
        "    cols[name] = repeated_string('x', n)\n"
        "cols['arch'] = arch_strings(np.arange(n))\n"
        "t = table_from_columns(cols)\n"
        "to_parquet_bytes(t); summary(t)\n"
        "print('pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
