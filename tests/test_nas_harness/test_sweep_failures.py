"""A run that raises is recorded as failed with its traceback; the others go on."""

import json

import pytest
from sweep_fixtures import plugin_path, synthetic_table, tree

from nas_harness.benchmarks.run_files import load_runs, run_paths
from nas_harness.sweep import SweepSpec, run_sweep

TABLE = synthetic_table()
SPEC = SweepSpec(algorithms=(("t_flaky", {"p": 0.5}), ("t_random", {"batch": 5})),
                 datasets=("cifar10", "cifar100"), runs=6, budget=20)


@pytest.fixture()
def failing():
    marker = plugin_path().with_name("FAIL")
    marker.touch()
    yield marker
    marker.unlink(missing_ok=True)


def sweep(out, workers=1):
    return run_sweep(SPEC, out, plugins=[plugin_path()], table=TABLE, progress=False,
                     workers=workers)


@pytest.mark.parametrize("workers", [1, 2])
def test_failed_runs_are_recorded_and_the_rest_complete(tmp_path, failing, workers):
    out = tmp_path / "runs"
    result = sweep(out, workers)
    failed = {o.run_id for o in result.failures}
    assert not result.ok and 0 < len(failed) < 12  # some t_flaky runs, never t_random
    assert all("/t_flaky/" in run_id for run_id in failed)
    assert result.completed == 24 - len(failed)
    for run_id in failed:
        dataset, algo, run = run_id.split("/")
        paths = run_paths(out, dataset, algo, int(run))
        record = json.loads(paths.sidecar.read_text())
        assert record["status"] == "failed" and not paths.parquet.exists()
        assert record["error"]["type"] == "RuntimeError"
        assert "t_flaky failed on purpose" in record["error"]["traceback"]
        assert "in ask" in record["error"]["traceback"]
    summary = result.describe()
    assert f"{len(failed)} failed" in summary and sorted(failed)[0] in summary
    assert set(load_runs(out)["run_id"]) == {f"{d}/{a}/{r:03d}" for d in ("cifar10", "cifar100")
                                             for a in ("t_flaky", "t_random")
                                             for r in range(6)} - failed


def test_failures_are_the_same_in_every_executor(tmp_path, failing):
    sweep(tmp_path / "one", 1)
    sweep(tmp_path / "two", 2)
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_a_rerun_retries_failed_runs_only(tmp_path, failing):
    out = tmp_path / "runs"
    failed = {o.run_id for o in sweep(out).failures}
    again = sweep(out)  # still failing: the same runs are retried and fail the same way
    assert {o.run_id for o in again.outcomes} == failed == {o.run_id for o in again.failures}
    failing.unlink()    # the bug is fixed
    fixed = sweep(out)
    assert fixed.ok and {o.run_id for o in fixed.outcomes} == failed
    assert fixed.skipped == 24 - len(failed)
    assert load_runs(out)["run_id"].nunique() == 24
    reference = tmp_path / "clean"
    sweep(reference)
    assert tree(out) == tree(reference)
