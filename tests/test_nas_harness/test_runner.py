"""One run -> one trajectory table: right columns, right values, deterministic bytes."""

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sweep_fixtures import synthetic_table

from nas_harness.algorithms.base import Algorithm
from nas_harness.benchmarks.records import (
    TRAJECTORY_COLUMNS,
    TRAJECTORY_SCHEMA,
    summary,
    to_parquet_bytes,
)
from nas_harness.benchmarks.space import SSS
from nas_harness.runner import RunTask, search

TABLE = synthetic_table()


class Walk(Algorithm):
    """Proposes 3 random architectures at a time, then stops after ``stop`` queries."""

    stop = 10**9

    def __init__(self, context, rng, params=None):
        super().__init__(context, rng, params)
        self.told = 0

    def ask(self, max_batch):
        if self.told >= self.stop:
            return np.array([], dtype=np.int64)
        return self.rng.integers(0, SSS.size, size=min(3, max_batch))

    def tell(self, indices, valid_acc):
        self.told += len(indices)


class Stopper(Walk):
    stop = 6


def task(**kw):
    base = dict(algorithm="walk", algorithm_name="walk", params=(), dataset="cifar100", run=4,
                budget=50)
    return RunTask(**{**base, **kw})


def test_columns_and_values():
    t = task()
    traj = search(t, TABLE["cifar100"], Walk, None)
    assert traj.schema.equals(TRAJECTORY_SCHEMA)
    assert traj.column_names == list(TRAJECTORY_COLUMNS)
    df = traj.to_pandas()
    assert len(df) == 50
    assert df["query"].tolist() == list(range(1, 51))
    assert set(df["run_id"]) == {"cifar100/walk/004"} and set(df["run"]) == {4}
    idx = df["arch_index"].to_numpy()
    assert df["arch"].tolist() == [SSS.format(i) for i in idx]
    dt = TABLE["cifar100"]
    np.testing.assert_array_equal(df["valid_acc"], dt.valid_acc[idx])
    np.testing.assert_array_equal(df["flops"], dt.flops[idx])
    np.testing.assert_array_equal(df["params"], dt.params[idx])
    max_flops = 0.5 * dt.flops.max()
    np.testing.assert_array_equal(df["feasible"], dt.flops[idx] <= max_flops)
    # incumbent: best feasible validation so far, its test accuracy from the table
    for q in range(50):
        feas = [(df["valid_acc"][k], -k) for k in range(q + 1) if df["feasible"][k]]
        if not feas:
            assert df["incumbent_index"][q] == -1 and np.isnan(df["incumbent_test_acc"][q])
            continue
        _, neg_k = max(feas)
        best = idx[-neg_k]
        assert df["incumbent_index"][q] == best
        assert df["incumbent_valid_acc"][q] == dt.valid_acc[best]
        assert df["incumbent_test_acc"][q] == dt.test_acc[best]
    assert summary(traj)["queries"] == 50


def test_duplicates_are_flagged():
    class Same(Walk):
        def ask(self, max_batch):
            return np.array([7, 7], dtype=np.int64)[:max_batch]

    df = search(task(budget=5), TABLE["cifar10"], Same, None).to_pandas()
    assert df["duplicate"].tolist() == [False, True, True, True, True]


def test_early_stop_gives_a_shorter_trajectory():
    traj = search(task(), TABLE["cifar10"], Stopper, None)
    assert traj.num_rows == 6


def test_same_task_same_bytes_and_runs_differ():
    a = to_parquet_bytes(search(task(), TABLE["cifar100"], Walk, None))
    b = to_parquet_bytes(search(task(), TABLE["cifar100"], Walk, None))
    c = to_parquet_bytes(search(task(run=5), TABLE["cifar100"], Walk, None))
    assert a == b and a != c
    back = pq.read_table(io.BytesIO(a))
    assert back.schema.equals(TRAJECTORY_SCHEMA)
    assert b"pandas" not in (back.schema.metadata or {})


def test_hp12_uses_the_oracle_stream_only():
    t12 = task(fidelity="12")
    df12 = search(t12, TABLE["cifar100"], Walk, None).to_pandas()
    df90 = search(task(), TABLE["cifar100"], Walk, None).to_pandas()
    # the algorithm's stream is not shifted by the oracle's seed draws
    assert df12["arch_index"].tolist() == df90["arch_index"].tolist()
    idx = df12["arch_index"].to_numpy()
    hp12 = TABLE["cifar100"].hp12_valid_acc[idx]
    assert np.all((df12["valid_acc"].to_numpy()[:, None] == hp12).any(axis=1))
    assert len(set(np.argmax(df12["valid_acc"].to_numpy()[:, None] == hp12, axis=1))) > 1
    again = search(t12, TABLE["cifar100"], Walk, None).to_pandas()
    assert again.equals(df12)


def test_schema_is_enforced():
    bad = pa.table({"x": [1]})
    with pytest.raises(ValueError, match="TRAJECTORY_SCHEMA"):
        to_parquet_bytes(bad)


def test_fingerprint_tracks_what_determines_the_result():
    base = task().fingerprint("abc")
    assert task().fingerprint("abc") == base
    assert task(budget=51).fingerprint("abc") != base
    assert task(params=(("a", 1),)).fingerprint("abc") != base
    assert task().fingerprint("other-table") != base
    assert task(master_seed=1).fingerprint("abc") != base
