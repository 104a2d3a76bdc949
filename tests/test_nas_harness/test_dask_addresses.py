"""A Dask scheduler address: a malformed one is refused at once, an unreachable one in time.

Only the loopback interface is ever contacted, on a port nothing listens on (refused).
"""

import socket

import pytest
from sweep_fixtures import plugin_path, synthetic_table

import nas_harness.sweep
from nas_harness.benchmarks.errors import HarnessError
from nas_harness.cli import main
from nas_harness.execution import (
    DEFAULT_SCHEDULER_TIMEOUT,
    ExecutionError,
    ExecutionOptions,
    check_scheduler_address,
)
from nas_harness.sweep import SweepSpec, run_sweep

pytest.importorskip("dask.distributed")

TABLE = synthetic_table()
SPEC = SweepSpec(algorithms=("t_random",), datasets=("cifar10",), runs=2, budget=10)


def _refused_port() -> int:
    """A loopback port nothing listens on: bound, then closed, so connecting is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(("address", "why"), [
    ("foo://::bad::", "has the scheme 'foo'"),
    ("tcp://::bad::", "is malformed"),
    ("tcp://127.0.0.1:99999", "is malformed (Port out of range"),
    ("tcp://127.0.0.1", "is not scheme://host:port"),
    ("tcp://127.0.0.1:8786/extra", "is not scheme://host:port"),
    ("  ", "is empty"),
])
def test_a_malformed_address_is_refused_before_any_work(tmp_path, address, why):
    with pytest.raises(ExecutionError, match="Dask scheduler address") as exc:
        run_sweep(SPEC, tmp_path / "runs", scheduler=address, plugins=[plugin_path()],
                  table=TABLE, progress=False)
    assert why in str(exc.value) and "\n" not in str(exc.value)
    assert "e.g. tcp://127.0.0.1:8786" in str(exc.value)
    assert not (tmp_path / "runs").exists()


def test_well_formed_addresses_pass_as_given():
    for address in ("tcp://127.0.0.1:8786", "127.0.0.1:8786", "tls://host.example:1",
                    "tcp://[::1]:8786", "inproc://10.0.0.1/123/4"):
        assert check_scheduler_address(address) == address


def test_the_command_refuses_a_malformed_address_in_one_line(tmp_path, capsys, monkeypatch):
    loaded = []
    monkeypatch.setattr(nas_harness.sweep, "default_table", lambda: loaded.append(1) or TABLE)
    code = main(["run", "-a", "t_random", "-d", "cifar10", "--runs", "2", "--budget", "10",
                 "--plugin", str(plugin_path()), "--out", str(tmp_path / "runs"),
                 "--scheduler", "foo://::bad::"])
    err = capsys.readouterr().err
    assert code == 2 and not loaded and not (tmp_path / "runs").exists()
    assert err.splitlines() == [
        "nas-harness: error: the Dask scheduler address 'foo://::bad::' has the scheme 'foo'; "
        "use one of tcp, tls, ws, wss, ucx, inproc, e.g. tcp://127.0.0.1:8786 (the address "
        "`dask scheduler` prints)"]


def test_an_unreachable_scheduler_fails_within_the_timeout_in_one_line(tmp_path, capsys,
                                                                       monkeypatch):
    monkeypatch.setattr(nas_harness.sweep, "default_table", lambda: TABLE)
    address = f"tcp://127.0.0.1:{_refused_port()}"
    code = main(["run", "-a", "t_random", "-d", "cifar10", "--runs", "2", "--budget", "10",
                 "--plugin", str(plugin_path()), "--out", str(tmp_path / "runs"),
                 "--no-progress", "--scheduler", address, "--scheduler-timeout", "0.5"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == [
        f"nas-harness: error: no Dask scheduler answered at {address} within 0.5 s; start one "
        "with `dask scheduler`, check the address, or raise --scheduler-timeout"]


def test_the_scheduler_timeout_defaults_to_ten_seconds_and_must_be_positive():
    assert DEFAULT_SCHEDULER_TIMEOUT == ExecutionOptions().scheduler_timeout == 10.0
    for bad in (0, -1, float("inf"), float("nan"), None, "5"):
        with pytest.raises(ExecutionError, match="scheduler timeout must be a positive"):
            ExecutionOptions(scheduler_timeout=bad)
    for bad in (0, True, 2.5):
        with pytest.raises(ExecutionError, match="workers must be a positive integer"):
            ExecutionOptions(workers=bad)
    with pytest.raises(TypeError, match="not both"):
        run_sweep(SPEC, "unused", execution=ExecutionOptions(), workers=1)


def test_the_run_sweep_api_gives_up_on_an_unreachable_scheduler_too(tmp_path):
    with pytest.raises(HarnessError, match=r"within 0\.5 s"):
        run_sweep(SPEC, tmp_path / "x", plugins=[plugin_path()], table=TABLE, progress=False,
                  scheduler=f"tcp://127.0.0.1:{_refused_port()}", scheduler_timeout=0.5)
