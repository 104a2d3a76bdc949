"""Free signals in the protocol: declared, recorded in the identity, charged, enforced.

Literals come from a committed run (results/libraries, cifar10/random/run-000): its
fingerprint and the sha256 of its trajectory, made before free signals existed.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.registry import get_algorithm, resolve_params
from nas_harness.benchmarks.errors import ProtocolError
from nas_harness.benchmarks.oracle import Oracle
from nas_harness.benchmarks.protocol import FreeSignals, Protocol, signal_names
from nas_harness.benchmarks.records import to_parquet_bytes
from nas_harness.runner import RunTask, protocol_record, search

TABLE_SHA = "1ac375d46b8ed8e24819db365a1b91adde3a2e351a103a25153c1857e3ceb6f0"
RUN0_FINGERPRINT = "d9064a0de0f8e2df11239dcc56ab141611159c105a622ce6cf761b213a04ecfa"
RUN0_PARQUET_SHA = "13dec9febfc6edbaa33b55d7305367d2b31c1d0caff61e51daad939b3c571848"


def task(**options) -> RunTask:
    return RunTask("random", "random", (("replace", False),), "cifar10", 0, 500,
                   protocol_options=tuple(options.items()))


def test_a_run_without_free_signals_keeps_its_identity():
    assert task().fingerprint(TABLE_SHA) == RUN0_FINGERPRINT
    assert protocol_record(task().protocol) == {"budget": 500, "fidelity": "90",
                                                "max_flops_fraction": 0.5}


def test_a_run_without_free_signals_is_byte_identical(table):
    assert table.provenance.checksum == TABLE_SHA
    trajectory = search(task(), table["cifar10"], get_algorithm("random"),
                        resolve_params("random"))
    assert hashlib.sha256(to_parquet_bytes(trajectory)).hexdigest() == RUN0_PARQUET_SHA


def test_identity_changes_with_free_signals_and_their_cost():
    plain = task().fingerprint(TABLE_SHA)
    ntk = task(free_signals="ntk,naswot")
    assert protocol_record(ntk.protocol)["free_signals"] == ("naswot", "ntk")
    assert ntk.fingerprint(TABLE_SHA) != plain
    assert task(free_signals=["NASWOT", "ntk"]).fingerprint(TABLE_SHA) == \
        ntk.fingerprint(TABLE_SHA)  # order and case do not make another run
    charged = task(free_signals="ntk", proxy_query_cost=0.1)
    assert protocol_record(charged.protocol)["proxy_query_cost"] == 0.1
    assert charged.fingerprint(TABLE_SHA) != task(free_signals="ntk").fingerprint(TABLE_SHA)


def test_protocol_refuses_bad_signal_settings():
    with pytest.raises(ProtocolError, match="not a proxy name"):
        Protocol(free_signals="ntk,9x")
    with pytest.raises(ProtocolError, match=r"in \[0, 1\]"):
        Protocol(free_signals="ntk", proxy_query_cost=2)
    with pytest.raises(ProtocolError, match="no free signal is declared"):
        Protocol(proxy_query_cost=0.5)
    assert signal_names(" ntk, ,ntk ") == ("ntk",)


class ReadsNtk(Algorithm):
    """Test algorithm: reads the ntk signal of ten architectures, proposes them one by one."""

    name = "reads_ntk"

    def ask(self, max_batch: int) -> np.ndarray:
        scores = self.context.signal("ntk", np.arange(10))
        return np.array([int(np.argmax(scores))], dtype=np.int64)

    def tell(self, indices: np.ndarray, valid_acc: np.ndarray) -> None:
        pass


def test_undeclared_signal_fails_loudly(table):
    with pytest.raises(ProtocolError, match=r"read free signal 'ntk'.*--free-signals ntk"):
        search(task(), table["cifar10"], ReadsNtk, None)
    with pytest.raises(ProtocolError, match=r"does not declare \(declared: naswot\)"):
        search(task(free_signals="naswot"), table["cifar10"], ReadsNtk, None)


def test_declared_signal_is_read(table, data_dir):
    trajectory = search(task(free_signals="ntk"), table["cifar10"], ReadsNtk, None)
    assert trajectory.num_rows == 500  # free: the whole query budget is left


def test_charged_reads_come_off_the_budget(table, data_dir):
    # 10 first reads x 0.25 = 2.5 queries: 497 queries remain
    trajectory = search(task(free_signals="ntk", proxy_query_cost=0.25), table["cifar10"],
                        ReadsNtk, None)
    assert trajectory.num_rows == 497


def test_meter_counts_first_reads_only():
    meter = FreeSignals({"z": np.arange(100.0)}, cost=0.5)
    assert meter.read("z", np.array([3, 3, 4])).tolist() == [3.0, 3.0, 4.0]
    meter.read("z", np.array([4, 5]))
    assert meter.evaluations == 3 and meter.charged == 1.5
    meter.read("z")
    assert meter.evaluations == 100


def test_oracle_needs_the_declared_columns(table):
    with pytest.raises(ProtocolError, match="no scores for them"):
        Oracle(table["cifar10"], Protocol(free_signals="ntk"), signals={})
    oracle = Oracle(table["cifar10"], Protocol(budget=10, free_signals="zico",
                                               proxy_query_cost=0.5),
                    signals={"zico": np.zeros(32768)})
    oracle.context.signal("zico", np.arange(3))
    assert oracle.remaining == 8  # floor(10 - 1.5)


MONET_C100_SHA = "ca6f73356f2deabf9ab919e320a63e4ffa2c91a110e08abf9bf49062fe6de806"


def test_identity_records_what_each_signal_is():
    t = RunTask("random", "random", (("replace", False),), "cifar100", 0, 500,
                protocol_options=(("free_signals", "ntk,params"),))
    record = t.identity(TABLE_SHA)
    assert record["signals_sha256"] == {"ntk": MONET_C100_SHA, "params": "table"}
    assert "signals_sha256" not in task().identity(TABLE_SHA)
    from nas_harness.benchmarks.run_files import configuration_of

    assert configuration_of(record)["signals_sha256"] == record["signals_sha256"]
    assert "signals_sha256" not in configuration_of(task().identity(TABLE_SHA))


def test_replacing_stored_scores_changes_the_fingerprint(tmp_path, monkeypatch):
    import pandas as pd

    from nas_harness.benchmarks.proxies.store import save_scores
    from nas_harness.benchmarks.proxies.user_scores import validate_scores

    monkeypatch.setenv("NAS_HARNESS_CACHE", str(tmp_path))
    path = tmp_path / "z.csv"
    t = task(free_signals="zico")
    with pytest.raises(Exception, match="no proxy called 'zico'"):
        t.fingerprint(TABLE_SHA)
    fingerprints = []
    for scale in (1.0, 2.0):  # synthetic scores
        pd.DataFrame({"index": np.arange(32768), "score": np.arange(32768) * scale}).to_csv(
            path, index=False)
        save_scores(validate_scores("zico", path, "cifar10"), path, replace=True)
        fingerprints.append(t.fingerprint(TABLE_SHA))
    assert fingerprints[0] != fingerprints[1]
