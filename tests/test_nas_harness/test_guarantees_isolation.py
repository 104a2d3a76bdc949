"""Guarantees: a run that misbehaves fails alone, with its cause, and the sweep goes on.

Each test reproduces a misbehaviour with the synthetic table and ``t_hostile`` (a
plugin whose ``mode`` parameter picks the misbehaviour): a process that dies, a run that
hangs, the global random state, numerical overflow/NaN, non-finite parameters, processes
left behind by a killed sweep, and ``--workers`` above the cores.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sweep_fixtures import hostile_plugin_path, plugin_path, synthetic_table

from nas_harness.algorithms.params import ParamError
from nas_harness.algorithms.registry import get_algorithm, parse_params
from nas_harness.benchmarks.run_files import load_runs, run_paths
from nas_harness.executors import capped_workers
from nas_harness.sweep import SweepSpec, run_sweep

TABLE = synthetic_table()
REPO = Path(__file__).resolve().parents[2]


def spec(mode: str, runs: int = 2, budget: int = 10) -> SweepSpec:
    return SweepSpec(algorithms=(("t_hostile", {"mode": mode}), "t_random"),
                     datasets=("cifar10",), runs=runs, budget=budget)


def sweep(out: Path, mode: str, workers: int, runs: int = 2, **kw):
    return run_sweep(spec(mode, runs), out, plugins=[hostile_plugin_path(), plugin_path()],
                     table=TABLE, progress=False, workers=workers, **kw)


def error_of(out: Path, run: int = 0) -> dict:
    record = json.loads(run_paths(out, "cifar10", "t_hostile", run).sidecar.read_text())
    assert record["status"] == "failed"
    assert not run_paths(out, "cifar10", "t_hostile", run).parquet.exists()
    return record["error"]


def assert_others_complete(out: Path, result, runs: int = 2) -> None:
    assert {o.run_id for o in result.failures} == {f"cifar10/t_hostile/{r:03d}"
                                                    for r in range(runs)}
    assert set(load_runs(out)["run_id"]) == {f"cifar10/t_random/{r:03d}" for r in range(runs)}


# every misbehaviour in one sweep per executor (one pool start-up), each under its own label
POOL_CAUSES = {
    "sys_exit": "SystemExit",
    "os_exit": "WorkerDied: the worker process exited with status 4",
    "sigkill": "WorkerDied: the worker process was killed by SIGKILL",
    "np_random": "GlobalRandomStateError",
    "py_random": "GlobalRandomStateError",
    "overflow": "FloatingPointError: overflow",
    "nan": "FloatingPointError: invalid value",
}
IN_PROCESS = ("sys_exit", "np_random", "py_random", "overflow", "nan")  # survivable here


def hostile_sweep(out: Path, modes, workers: int, runs: int = 2, **kw):
    algorithms = [("t_hostile", {"mode": m}, f"h-{m.replace('_', '-')}") for m in modes]
    return run_sweep(SweepSpec(algorithms=(*algorithms, "t_random"), datasets=("cifar10",),
                               runs=runs, budget=10),
                     out, plugins=[hostile_plugin_path(), plugin_path()], table=TABLE,
                     progress=False, workers=workers, **kw)


def check_each_fails_alone(out: Path, result, causes: dict[str, str], runs: int = 2) -> None:
    labels = {m: f"h-{m.replace('_', '-')}" for m in causes}
    assert {o.run_id for o in result.failures} == {
        f"cifar10/{label}/{r:03d}" for label in labels.values() for r in range(runs)}
    assert set(load_runs(out)["run_id"]) == {f"cifar10/t_random/{r:03d}" for r in range(runs)}
    for mode, cause in causes.items():
        for run in range(runs):
            paths = run_paths(out, "cifar10", labels[mode], run)
            record = json.loads(paths.sidecar.read_text())
            assert record["status"] == "failed" and not paths.parquet.exists()
            error = record["error"]
            assert cause in f"{error['type']}: {error['message']}", (mode, error)
            if error["type"] == "GlobalRandomStateError":  # names the rule and the fix
                assert "global random state" in error["message"]
                assert "self.rng" in error["message"]
    summary = result.describe()
    assert all(cause.split(":")[0] in summary for cause in causes.values())


def test_each_misbehaving_run_fails_alone_in_the_pool(tmp_path):
    out = tmp_path / "runs"
    result = hostile_sweep(out, POOL_CAUSES, workers=2)
    check_each_fails_alone(out, result, POOL_CAUSES)


def test_each_survivable_misbehaviour_fails_alone_in_process(tmp_path):
    out = tmp_path / "runs"
    causes = {m: POOL_CAUSES[m] for m in IN_PROCESS}
    result = hostile_sweep(out, causes, workers=1)
    check_each_fails_alone(out, result, causes)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_hanging_run_is_stopped_by_the_run_timeout(tmp_path, workers):
    out = tmp_path / "runs"
    start = time.monotonic()
    result = hostile_sweep(out, ["hang"], workers=workers, runs=1, run_timeout=3.0)
    assert time.monotonic() - start < 30
    check_each_fails_alone(out, result, {"hang": "RunTimeoutError: the run took longer than "
                                                  "the run timeout of 3 s"}, runs=1)


@pytest.mark.parametrize("algorithm", ["reinforce", "ppo"])
def test_a_policy_blown_up_by_its_parameters_fails_instead_of_completing(tmp_path, algorithm):
    out = tmp_path / "runs"
    result = run_sweep(SweepSpec(algorithms=((algorithm, {"init_std": 1e308}),),
                                 datasets=("cifar10",), runs=1, budget=30),
                       out, table=TABLE, progress=False, workers=1)
    assert not result.ok
    record = json.loads(run_paths(out, "cifar10", algorithm, 0).sidecar.read_text())
    assert record["error"]["type"] == "FloatingPointError"


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", float("inf"), float("nan")])
def test_non_finite_parameters_are_refused_up_front(tmp_path, value):
    with pytest.raises(ParamError, match="finite"):
        parse_params(get_algorithm("reinforce"), {"learning_rate": value})
    out = tmp_path / "runs"
    with pytest.raises(ParamError, match="learning_rate"):
        run_sweep(SweepSpec(algorithms=(("reinforce", {"learning_rate": value}),),
                            datasets=("cifar10",), runs=2, budget=10),
                  out, table=TABLE, progress=False, workers=1)
    assert not out.exists()  # nothing computed, nothing written


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("dask.distributed")
    import dask

    # no retries on other workers: a run that kills its worker is KilledWorker at once; and
    # one task at a time on the one-thread worker (saturation 1.0; dask's default 1.1 sends
    # two), so a death fails only the run that caused it, never a run queued behind it
    with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                          "distributed.scheduler.worker-saturation": 1.0}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                     host="127.0.0.1", dashboard_address=":0") as cluster:
        yield cluster


def test_a_dead_dask_worker_fails_its_run_only(tmp_path, dask_cluster):
    out = tmp_path / "runs"
    result = run_sweep(spec("os_exit"), out, plugins=[hostile_plugin_path(), plugin_path()],
                       table=TABLE, progress=False, scheduler=dask_cluster.scheduler_address)
    assert_others_complete(out, result)
    error = error_of(out)
    assert error["type"] == "KilledWorker" and "died" in error["message"]


def test_a_hanging_run_on_dask_is_recorded_after_the_run_timeout(tmp_path, dask_cluster):
    out = tmp_path / "runs"
    result = run_sweep(spec("hang", runs=1), out,
                       plugins=[hostile_plugin_path(), plugin_path()], table=TABLE,
                       progress=False, scheduler=dask_cluster.scheduler_address,
                       run_timeout=3.0)
    assert_others_complete(out, result, runs=1)
    assert error_of(out)["type"] == "RunTimeoutError"


KILLED_SWEEP = textwrap.dedent("""
    import sys
    from sweep_fixtures import plugin_path, synthetic_table
    from nas_harness.sweep import SweepSpec, run_sweep

    if __name__ == "__main__":
        spec = SweepSpec(algorithms=(("t_random", {"sleep": 0.05}),), datasets=("cifar10",),
                         runs=50, budget=50)
        run_sweep(spec, sys.argv[1], workers=2, plugins=[plugin_path()],
                  table=synthetic_table(), progress=False)
""")


def _children() -> dict[int, int]:
    """Pid -> parent pid of every process."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            out[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return out


def _descendants(pid: int) -> set[int]:
    parents = _children()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (Linux)")
def test_workers_exit_when_the_sweep_is_killed(tmp_path):
    script = tmp_path / "sweep.py"
    script.write_text(KILLED_SWEEP)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), str(REPO)])}
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "runs")], env=env)
    try:
        deadline = time.monotonic() + 60
        while not list((tmp_path / "runs").rglob("run-*.json")):  # the workers are at work
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        left = _descendants(proc.pid)
        assert len(left) >= 2  # the workers (and the forkserver)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while left and time.monotonic() < deadline:
            left = {p for p in left if Path(f"/proc/{p}").exists()
                    and "Z" not in Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1][:3]}
            time.sleep(0.1)
        assert not left, f"processes left behind by the killed sweep: {sorted(left)}"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_workers_above_the_cores_are_capped_with_a_warning(tmp_path, monkeypatch):
    import nas_harness.executors as executors

    monkeypatch.setattr(executors, "default_workers", lambda: 2)
    assert capped_workers(1000) == (2, "--workers 1000 is more than the 2 CPU cores "
                                       "available; using 2 worker processes")
    assert capped_workers(2) == (2, "")
    assert capped_workers(None) == (None, "")
    started = []
    real = executors._run_local_pool

    def spy(pending, table, versions, plugins, out_dir, workers, *rest):
        started.append(workers)
        return real(pending, table, versions, plugins, out_dir, workers, *rest)

    monkeypatch.setattr(executors, "_run_local_pool", spy)
    with pytest.warns(UserWarning, match="more than the 2 CPU cores"):
        result = sweep(tmp_path / "runs", "none", workers=1000)
    assert result.ok and started == [2]
