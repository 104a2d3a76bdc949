"""Resume: complete runs are skipped, anything else is redone, and kill -9 changes nothing."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sweep_fixtures import plugin_path, synthetic_table, tree

from nas_harness.benchmarks.errors import DataIntegrityError
from nas_harness.benchmarks.run_files import load_runs, run_paths
from nas_harness.sweep import LOCK_NAME, ConfigurationConflict, SweepSpec, run_sweep

TABLE = synthetic_table()
TESTS_DIR = Path(__file__).resolve().parents[1]  # tests/, where sweep_fixtures.py lives


def spec(**kw):
    base = dict(algorithms=(("t_random", {"batch": 3}), "t_hill"),
                datasets=("cifar10", "ImageNet16-120"), runs=3, budget=30)
    return SweepSpec(**{**base, **kw})


@pytest.fixture()
def plugin():
    return plugin_path()


def sweep(out, plugin, s=None, **kw):
    return run_sweep(s or spec(), out, plugins=[plugin], table=TABLE, progress=False,
                     **{"workers": 1, **kw})


def test_second_sweep_does_no_work(tmp_path, plugin):
    out = tmp_path / "runs"
    first = sweep(out, plugin)
    assert first.ok and first.completed == first.total == 12 and first.skipped == 0
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    second = sweep(out, plugin)
    assert second.outcomes == () and second.skipped == 12
    assert "nothing to do" in second.describe()
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == mtimes
    assert second.digest == first.digest
    df = load_runs(out)
    assert len(df) == 12 * 30 and df.groupby("run_id").size().eq(30).all()


def test_missing_truncated_and_stale_runs_are_redone(tmp_path, plugin):
    out = tmp_path / "runs"
    sweep(out, plugin)
    reference = tree(out)
    p = [run_paths(out, "cifar10", "t_hill", r) for r in range(3)]
    q = run_paths(out, "ImageNet16-120", "t_random", 1)
    p[0].parquet.unlink()                                         # trajectory missing
    p[1].parquet.write_bytes(p[1].parquet.read_bytes()[:100])     # truncated trajectory
    p[2].sidecar.write_text('{"status": "comp')                   # torn sidecar
    q.sidecar.unlink()                                            # sidecar never written
    (q.directory / ".run-001.parquet.tmp-x1").write_bytes(b"half")  # a killed writer's leftover
    with pytest.raises(DataIntegrityError, match=r"run-002\.json is not valid JSON"):
        load_runs(out)  # a reader refuses damaged runs, naming the file
    assert len(load_runs(out, skip_damaged=True)) == 8 * 30  # or leaves them out when asked
    again = sweep(out, plugin)
    assert sorted(o.run_id for o in again.outcomes) == sorted(
        ["cifar10/t_hill/000", "cifar10/t_hill/001", "cifar10/t_hill/002",
         "ImageNet16-120/t_random/001"])
    assert tree(out) == reference


def test_changed_protocol_is_refused_and_force_replaces(tmp_path, plugin):
    out = tmp_path / "runs"
    sweep(out, plugin)
    before = tree(out)
    with pytest.raises(ConfigurationConflict, match=r"protocol.budget=30\) than this sweep "
                                                    r"\(protocol.budget=31"):
        sweep(out, plugin, spec(budget=31))
    assert tree(out) == before  # refused before any work
    assert sweep(out, plugin, spec(budget=31), force=True).completed == 12
    assert load_runs(out).groupby("run_id").size().eq(31).all()
    assert sweep(out, plugin, spec(budget=31), force=True).completed == 12


def test_a_runs_result_does_not_depend_on_the_rest_of_the_sweep(tmp_path, plugin):
    full, part = tmp_path / "full", tmp_path / "part"
    sweep(full, plugin)
    sweep(part, plugin, spec(algorithms=("t_hill",), datasets=("ImageNet16-120",), runs=2))
    part_files = tree(part)
    full_files = tree(full)
    assert len(part_files) == 4
    assert all(full_files[name] == data for name, data in part_files.items())


def test_pool_equals_single_process(tmp_path, plugin):
    one, two = tmp_path / "one", tmp_path / "two"
    sweep(one, plugin)
    result = sweep(two, plugin, workers=2)
    assert result.ok and result.completed == 12
    assert tree(one) == tree(two)


DRIVER = '''
import sys
sys.path.insert(0, {tests!r})
from sweep_fixtures import synthetic_table
from nas_harness.sweep import SweepSpec, run_sweep

if __name__ == "__main__":  # the process pool re-imports this file
    spec = SweepSpec(algorithms=(("t_random", {{"sleep": 0.002}}), "t_hill"),
                     datasets=("cifar10", "cifar100", "ImageNet16-120"), runs=8, budget=40)
    run_sweep(spec, sys.argv[1], workers=2, plugins=[sys.argv[2]], table=synthetic_table(),
              progress=False)
'''
RESUME_SPEC = SweepSpec(algorithms=(("t_random", {"sleep": 0.002}), "t_hill"),
                        datasets=("cifar10", "cifar100", "ImageNet16-120"), runs=8, budget=40)


def _sidecars(out):
    return len(list(out.glob("*/*/run-*.json")))


def _start(driver, out, plugin):
    return subprocess.Popen([sys.executable, str(driver), str(out), str(plugin)],
                            start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def _kill_after(proc, out, at_least, timeout=60.0):
    deadline = time.monotonic() + timeout
    while _sidecars(out) < at_least and proc.poll() is None:
        assert time.monotonic() < deadline, "the sweep made no progress"
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole sweep: parent, forkserver and workers
    proc.wait()
    return _sidecars(out)


def test_kill_9_at_any_moment_then_resume_gives_the_same_files(tmp_path, plugin):
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(DRIVER.format(tests=str(TESTS_DIR))))
    out = tmp_path / "killed"
    total = RESUME_SPEC.num_runs
    landed = _kill_after(_start(driver, out, plugin), out, 1)        # killed right away
    landed = _kill_after(_start(driver, out, plugin), out, landed + 10)  # and mid-sweep
    assert 0 < landed < total, "the kill must interrupt the sweep to prove anything"
    finish = _start(driver, out, plugin)
    output = finish.communicate(timeout=120)[0]
    assert finish.returncode == 0, output.decode()

    reference = tmp_path / "uninterrupted"
    run_sweep(RESUME_SPEC, reference, workers=1, plugins=[plugin], table=TABLE, progress=False)
    files = tree(out)
    assert len(files) == 2 * total
    assert files == tree(reference)
    assert not [p for p in out.rglob(".*") if p.name != LOCK_NAME], \
        "temporary files were left behind"
