"""A sweep on a real Dask cluster (separate worker processes) writes the very same files."""

import pytest
from sweep_fixtures import plugin_path, synthetic_table, tree

from nas_harness.benchmarks.errors import HarnessError
from nas_harness.sweep import SweepSpec, run_sweep

distributed = pytest.importorskip("dask.distributed")

TABLE = synthetic_table()
SPEC = SweepSpec(algorithms=(("t_random", {"batch": 4}), "t_hill", ("t_flaky", {"p": 0.4})),
                 datasets=("cifar10", "ImageNet16-120"), runs=4, budget=25, fidelity="12")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=":0") as lc:
        yield lc


def sweep(out, **kw):
    return run_sweep(SPEC, out, plugins=[plugin_path()], table=TABLE, progress=False, **kw)


def test_dask_equals_local_pool_and_single_process(tmp_path, cluster):
    marker = plugin_path().with_name("FAIL")
    marker.touch()  # failures must be identical too
    try:
        on_dask = sweep(tmp_path / "dask", scheduler=cluster.scheduler_address)
        on_pool = sweep(tmp_path / "pool", workers=2)
        single = sweep(tmp_path / "single", workers=1)
    finally:
        marker.unlink()
    assert on_dask.total == on_dask.completed + len(on_dask.failures) == 24
    assert 0 < len(on_dask.failures) < 8
    failed = {o.run_id for o in on_dask.failures}
    assert failed == {o.run_id for o in on_pool.failures} == {o.run_id for o in single.failures}
    workers = cluster.scheduler_info["workers"]
    assert len(workers) == 2  # really two other processes
    files = tree(tmp_path / "dask")
    assert len(files) == 2 * 24 - len(on_dask.failures)
    assert files == tree(tmp_path / "pool") == tree(tmp_path / "single")
    # and a second Dask sweep resumes: only the failed runs are retried
    again = sweep(tmp_path / "dask", scheduler=cluster.scheduler_address)
    assert {o.run_id for o in again.outcomes} == {o.run_id for o in on_dask.failures}
    assert again.ok


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    with pytest.raises(HarnessError, match="Dask scheduler"):
        run_sweep(SPEC, tmp_path / "x", plugins=[plugin_path()], table=TABLE, progress=False,
                  scheduler="tcp://127.0.0.1:1", scheduler_timeout=1)
