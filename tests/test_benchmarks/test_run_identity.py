"""Run files: what makes two runs one configuration, the completeness rule, reading back.

Expectations are literals written out by hand (sha256 of ``b"abc"`` from FIPS 180-2, the
JSON texts, the configuration of a real sidecar), not the module's own code run again.
"""

from __future__ import annotations

import copy
import json
import os
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nas_harness.benchmarks import run_files as rf
from nas_harness.benchmarks import run_identity
from nas_harness.benchmarks.errors import DataIntegrityError
from nas_harness.benchmarks.records import TRAJECTORY_SCHEMA, table_from_columns, to_parquet_bytes
from nas_harness.benchmarks.run_identity import plain_json

ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # FIPS 180-2
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# a real sidecar (results/libraries/runs/cifar10/random/run-000.json), timing shortened
SIDECAR = {
    "algorithm": "random", "algorithm_name": "random", "dataset": "cifar10",
    "fingerprint": "d9064a0de0f8e2df11239dcc56ab141611159c105a622ce6cf761b213a04ecfa",
    "format": 1, "params": {"replace": False},
    "protocol": {"budget": 500, "fidelity": "90", "max_flops_fraction": 0.5},
    "result": {"duplicates": 0, "feasible": 500, "incumbent_index": 15871,
               "parquet_sha256": "13dec9febfc6edbaa33b55d7305367d2b31c1d0caff61e51daad939b3c571848",
               "queries": 500},
    "run": 0, "run_id": "cifar10/random/000",
    "seed": {"algorithm_spawn_key": [259112085, 57302178, 3456525702, 154198815, 0, 0],
             "entropy": 0,
             "oracle_spawn_key": [259112085, 57302178, 3456525702, 154198815, 0, 1],
             "spawn_key": [259112085, 57302178, 3456525702, 154198815, 0]},
    "status": "complete",
    "table_checksum": "1ac375d46b8ed8e24819db365a1b91adde3a2e351a103a25153c1857e3ceb6f0",
    "timing": {"finished_at": "2026-12-04T13:59:42+0000", "wall_s": 0.002282},
    "versions": {"nas_harness": "0.1.0", "numpy": "2.4.6"},
}

SIDECAR_CONFIGURATION = {
    "algorithm": "random", "algorithm_name": "random", "params": {"replace": False},
    "dataset": "cifar10",
    "protocol": {"budget": 500, "fidelity": "90", "max_flops_fraction": 0.5},
    "master_seed": 0,
    "table_checksum": "1ac375d46b8ed8e24819db365a1b91adde3a2e351a103a25153c1857e3ceb6f0",
}


# -- paths, checksums, canonical JSON -----------------------------------------------------------

def test_run_paths_layout(tmp_path):
    paths = rf.run_paths(tmp_path, "cifar100", "rea", 7)
    assert paths.parquet == tmp_path / "cifar100" / "rea" / "run-007.parquet"
    assert paths.sidecar == tmp_path / "cifar100" / "rea" / "run-007.json"
    assert paths.directory == tmp_path / "cifar100" / "rea"
    assert rf.run_paths(str(tmp_path), "d", "a", 1234).sidecar.name == "run-1234.json"


def test_sha256_of_known_bytes():
    assert rf.sha256_bytes(b"abc") == ABC_SHA256
    assert rf.sha256_bytes(b"") == EMPTY_SHA256


def test_plain_turns_numpy_into_python_and_float32_into_its_decimal():
    out = plain_json({1: np.int64(3), "f32": np.float32(0.1), "f16": np.float16(0.5),
                     "f64": np.float64(0.1), "b": np.bool_(True), "t": (1, np.int32(2)),
                     "a": np.array([1.5, 2.5]), "s": "x", "n": None, "i": 4, "f": 0.25,
                     "nested": {"k": [np.float32(1.1)]}})
    assert out == {"1": 3, "f32": 0.1, "f16": 0.5, "f64": 0.1, "b": True, "t": [1, 2],
                   "a": [1.5, 2.5], "s": "x", "n": None, "i": 4, "f": 0.25,
                   "nested": {"k": [1.1]}}
    assert float(np.float32(0.1)) != 0.1  # why the sidecar writes the decimal
    assert type(out["1"]) is int and type(out["b"]) is bool and type(out["f64"]) is float
    assert type(out["f32"]) is float and type(out["t"][1]) is int
    assert type(out["a"]) is list and type(out["t"]) is list
    assert type(plain_json(np.bool_(False))) is bool and plain_json(np.bool_(False)) is False
    assert plain_json(True) is True and plain_json(False) is False


def test_plain_keeps_a_float64_exactly():
    x = np.float64(1) / 3
    assert plain_json(x) == 1 / 3 and type(plain_json(x)) is float


@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 63, reason="long double is a double here")
def test_plain_rounds_a_long_double_to_the_nearest_double_not_via_its_text():
    # 1 + 11 * 2**-53 lies halfway between two doubles: rounding the value itself gives the
    # even one, 1 + 6 * 2**-52; its shortest text 1.0000000000000012212 rounds down instead
    x = np.longdouble(1) + 11 * np.longdouble(2) ** -53
    assert plain_json(x) == 1 + 6 * 2.0 ** -52 == 1.0000000000000013


def test_sidecar_text_is_sorted_indented_and_refuses_nan():
    assert rf.sidecar_text({"b": 1, "a": np.float32(0.1)}) == '{\n "a": 0.1,\n "b": 1\n}\n'
    assert rf.sidecar_text({"z": {"y": [1, 2]}, "a": True}) == (
        '{\n "a": true,\n "z": {\n  "y": [\n   1,\n   2\n  ]\n }\n}\n')
    with pytest.raises(ValueError):
        rf.sidecar_text({"x": float("nan")})


# -- configuration identity ---------------------------------------------------------------------

def test_configuration_of_a_real_sidecar():
    assert rf.configuration_of(SIDECAR) == SIDECAR_CONFIGURATION
    assert list(rf.configuration_of(SIDECAR)) == list(rf.CONFIGURATION_KEYS)


def test_configuration_ignores_the_run_index_seeds_status_and_timing():
    other = copy.deepcopy(SIDECAR)
    other.update(run=5, run_id="cifar10/random/005", status="failed", fingerprint="f",
                 timing={"wall_s": 9.0}, versions={}, result={})
    other["seed"]["spawn_key"][-1] = 5
    assert rf.configuration_of(other) == SIDECAR_CONFIGURATION
    assert rf.configuration_key(rf.configuration_of(other)) == \
        rf.configuration_key(rf.configuration_of(SIDECAR))


@pytest.mark.parametrize("change", [
    {"algorithm": "rea"}, {"algorithm_name": "random:replace"}, {"params": {"replace": True}},
    {"dataset": "cifar100"}, {"protocol": {"budget": 100, "fidelity": "90",
                                           "max_flops_fraction": 0.5}},
    {"seed": {"entropy": 5}}, {"table_checksum": "0" * 64},
])
def test_each_configuration_field_separates_configurations(change):
    other = {**copy.deepcopy(SIDECAR), **change}
    assert rf.configuration_of(other) != SIDECAR_CONFIGURATION
    assert rf.configuration_key(rf.configuration_of(other)) != \
        rf.configuration_key(SIDECAR_CONFIGURATION)


def test_configuration_of_a_sparse_record_uses_the_defaults():
    assert rf.configuration_of({"algorithm": "rea"}) == {
        "algorithm": "rea", "algorithm_name": "rea", "params": {}, "dataset": None,
        "protocol": {}, "master_seed": None, "table_checksum": ""}
    assert rf.configuration_of({"algorithm": "a", "params": None, "protocol": None,
                                "seed": 3})["master_seed"] is None
    assert rf.configuration_of({"seed": {"spawn_key": [1]}})["master_seed"] is None
    config = rf.configuration_of({"algorithm": "a", "algorithm_name": "b",
                                  "params": {"k": np.int64(2), "w": (np.float32(0.1),)},
                                  "protocol": {"budget": np.int64(50)},
                                  "seed": {"entropy": 7}, "table_checksum": "abc"})
    assert config == {"algorithm": "a", "algorithm_name": "b",
                      "params": {"k": 2, "w": [0.1]}, "dataset": None,
                      "protocol": {"budget": 50}, "master_seed": 7, "table_checksum": "abc"}
    assert type(config["params"]["k"]) is int


def test_configuration_key_is_compact_sorted_json():
    assert rf.configuration_key({"b": [1, np.int64(2)], "a": {"y": 1, "x": np.float32(0.1)}}) \
        == '{"a":{"x":0.1,"y":1},"b":[1,2]}'
    assert rf.configuration_key(SIDECAR_CONFIGURATION) == (
        '{"algorithm":"random","algorithm_name":"random","dataset":"cifar10","master_seed":0,'
        '"params":{"replace":false},"protocol":{"budget":500,"fidelity":"90",'
        '"max_flops_fraction":0.5},"table_checksum":"1ac375d46b8ed8e24819db365a1b91adde3a2e'
        '351a103a25153c1857e3ceb6f0"}')


@given(st.dictionaries(st.sampled_from("abcdef"), st.integers(-5, 5) | st.text(max_size=3),
                       max_size=6), st.randoms(use_true_random=False))
def test_configuration_key_does_not_depend_on_insertion_order(config, rnd):
    items = list(config.items())
    rnd.shuffle(items)
    assert rf.configuration_key(dict(items)) == rf.configuration_key(config)
    assert json.loads(rf.configuration_key(config)) == config


def test_describe_difference_names_only_the_differing_fields_sorted():
    asked = {**SIDECAR_CONFIGURATION, "master_seed": 5,
             "protocol": {"budget": 100, "fidelity": "90", "max_flops_fraction": 0.5}}
    assert rf.describe_difference(SIDECAR_CONFIGURATION, asked) == (
        "master_seed=0, protocol.budget=500", "master_seed=5, protocol.budget=100")


def test_describe_difference_unset_fields_nesting_and_checksum_shortened():
    stored = {"params": {"a": 1, "deep": {"x": 1}}, "table_checksum": "0123456789abcdef" * 4}
    asked = {"params": {"b": 2, "deep": {"x": 1}}, "table_checksum": "fedcba9876543210" * 4}
    assert rf.describe_difference(stored, asked) == (
        "params.a=1, params.b=<unset>, table_checksum=0123456789ab...",
        "params.a=<unset>, params.b=2, table_checksum=fedcba987654...")


def test_describe_difference_of_identical_configurations():
    assert rf.describe_difference(SIDECAR_CONFIGURATION, copy.deepcopy(SIDECAR_CONFIGURATION)) \
        == ("(identical)", "(identical)")
    assert rf.describe_difference({}, {}) == ("(identical)", "(identical)")
    # a missing field differs from every value, None and the text "<unset>" included
    assert rf.describe_difference({"k": None}, {}) == ("k=None", "k=<unset>")
    assert rf.describe_difference({}, {"k": None}) == ("k=<unset>", "k=None")
    assert rf.describe_difference({}, {"k": "<unset>"}) == ("k=<unset>", "k=<unset>")
    assert rf.describe_difference({"k": "<unset>"}, {}) == ("k=<unset>", "k=<unset>")


def test_flat_joins_nested_keys_with_dots():
    assert run_identity._flat({"a": {"b": {"c": 1}, "d": [1]}, "e": 2}) == {
        "a.b.c": 1, "a.d": [1], "e": 2}
    assert run_identity._flat({}) == {}


# -- writing ------------------------------------------------------------------------------------

def test_atomic_write_creates_directories_replaces_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "a" / "b" / "file.bin"
    rf.atomic_write(path, b"first")
    rf.atomic_write(path, b"second")
    assert path.read_bytes() == b"second"
    assert os.listdir(path.parent) == ["file.bin"]


def test_atomic_write_failure_keeps_the_old_file_and_removes_the_temporary(tmp_path,
                                                                           monkeypatch):
    path = tmp_path / "file.bin"
    path.write_bytes(b"old")
    seen = []

    def broken(src, dst):
        seen.append(os.path.basename(src))
        raise OSError("disk full")

    monkeypatch.setattr(rf.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        rf.atomic_write(path, b"new")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["file.bin"]
    # the temporary's name is what remove_temporaries looks for
    assert seen and seen[0].startswith(".file.bin.tmp-")


def test_atomic_write_renames_within_the_directory(tmp_path, monkeypatch):
    # a rename is atomic only within one file system: the temporary sits beside the target
    path = tmp_path / "sub" / "file.bin"
    real = os.replace
    moves = []

    def recording(src, dst):
        moves.append((os.path.dirname(src), os.path.dirname(dst)))
        return real(src, dst)

    monkeypatch.setattr(rf.os, "replace", recording)
    rf.atomic_write(path, b"x")
    assert moves == [(str(path.parent), str(path.parent))]


def test_atomic_write_failure_while_writing(tmp_path):
    with pytest.raises(TypeError):
        rf.atomic_write(tmp_path / "x", "not bytes")  # type: ignore[arg-type]
    assert os.listdir(tmp_path) == []


def test_atomic_write_tolerates_a_temporary_already_gone(tmp_path, monkeypatch):
    def vanish(src, dst):
        os.unlink(src)
        raise OSError("gone")

    monkeypatch.setattr(rf.os, "replace", vanish)
    with pytest.raises(OSError, match="gone"):
        rf.atomic_write(tmp_path / "x", b"1")


def test_write_complete_records_the_checksum_and_size(tmp_path):
    paths = rf.run_paths(tmp_path, "cifar10", "random", 0)
    record = {"run_id": "cifar10/random/000", "algorithm": "random", "dataset": "cifar10",
              "run": 0, "result": {"queries": 3}}
    rf.write_complete(paths, b"abc", record)
    assert "status" not in record and record["result"] == {"queries": 3}  # not mutated
    assert paths.parquet.read_bytes() == b"abc"
    assert json.loads(paths.sidecar.read_text()) == {
        "run_id": "cifar10/random/000", "algorithm": "random", "dataset": "cifar10", "run": 0,
        "status": "complete",
        "result": {"queries": 3, "parquet_sha256": ABC_SHA256, "parquet_bytes": 3}}
    assert paths.sidecar.read_text().endswith("}\n")
    assert rf.complete_record(paths)["status"] == "complete"
    rf.write_complete(paths, b"", {"run_id": "r", "algorithm": "a", "dataset": "d", "run": 0})
    assert json.loads(paths.sidecar.read_text())["result"] == {
        "parquet_sha256": EMPTY_SHA256, "parquet_bytes": 0}


def test_write_failed_removes_the_trajectory(tmp_path):
    paths = rf.run_paths(tmp_path, "cifar10", "random", 0)
    base = {"run_id": "x", "algorithm": "random", "dataset": "cifar10", "run": 0}
    rf.write_complete(paths, b"abc", base)
    rf.write_failed(paths, {**base, "error": "boom"})
    assert not paths.parquet.exists()
    assert json.loads(paths.sidecar.read_text()) == {**base, "error": "boom", "status": "failed"}
    rf.write_failed(paths, base)  # no Parquet file to remove: fine
    assert rf.read_sidecar(paths.sidecar)["status"] == "failed"
    assert rf.complete_record(paths, verify=False) is None


# -- reading ------------------------------------------------------------------------------------

GOOD = {"run_id": "d/a/000", "algorithm": "a", "dataset": "d", "run": 0, "status": "complete"}


def _write_json(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))
    return path


def test_read_sidecar_accepts_a_run_record(tmp_path):
    assert rf.read_sidecar(_write_json(tmp_path / "s.json", GOOD)) == GOOD
    assert rf.read_sidecar(_write_json(tmp_path / "t.json", {**GOOD, "run": 12}))["run"] == 12


@pytest.mark.parametrize("value", [
    {}, [GOOD], "text", 3, None,
    *[{k: v for k, v in GOOD.items() if k != key} for key in GOOD],
    {**GOOD, "run": "0"}, {**GOOD, "run": 0.0}, {**GOOD, "run": True}, {**GOOD, "run": None},
])
def test_read_sidecar_refuses_what_is_not_a_run(tmp_path, value):
    assert rf.read_sidecar(_write_json(tmp_path / "s.json", value)) is None


def test_read_sidecar_missing_torn_or_not_text(tmp_path):
    assert rf.read_sidecar(tmp_path / "missing.json") is None
    torn = tmp_path / "torn.json"
    torn.write_text(json.dumps(GOOD)[:-3])
    assert rf.read_sidecar(torn) is None
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00{")
    assert rf.read_sidecar(binary) is None
    assert rf.read_sidecar(tmp_path) is None  # a directory


def test_read_sidecar_reads_utf8_whatever_the_locale(tmp_path, monkeypatch):
    path = tmp_path / "u.json"
    path.write_bytes(json.dumps({**GOOD, "algorithm": "r\u00e9a"},
                                ensure_ascii=False).encode("utf-8"))
    assert rf.read_sidecar(path)["algorithm"] == "r\u00e9a"
    # under a Latin-1 locale (Windows' cp1252 alike) text read without an encoding is wrong
    real = type(path).read_text

    def latin1_locale(self, encoding=None, errors=None):
        return real(self, encoding=encoding or "latin-1", errors=errors)

    monkeypatch.setattr(type(path), "read_text", latin1_locale)
    assert rf.read_sidecar(path)["algorithm"] == "r\u00e9a"


def _stored(tmp_path, data=b"trajectory", **extra):
    paths = rf.run_paths(tmp_path, "d", "a", 0)
    rf.write_complete(paths, data, {**GOOD, **extra})
    return paths


def test_complete_record_checks_status_fingerprint_and_checksum(tmp_path):
    paths = _stored(tmp_path, fingerprint="fp1")
    assert rf.complete_record(paths)["fingerprint"] == "fp1"
    assert rf.complete_record(paths, "fp1") is not None and rf.is_complete(paths, "fp1")
    assert rf.complete_record(paths, "fp2") is None and not rf.is_complete(paths, "fp2")
    assert rf.is_complete(paths)
    paths.parquet.write_bytes(b"trajectorY")  # same size, one byte changed
    assert rf.complete_record(paths) is None and not rf.is_complete(paths)
    assert rf.complete_record(paths, verify=False) is not None
    paths.parquet.unlink()
    assert rf.complete_record(paths) is None
    assert rf.complete_record(paths, "fp1", verify=False)["run_id"] == "d/a/000"
    assert rf.complete_record(paths, "fp2", verify=False) is None


def test_complete_record_without_a_fingerprint_in_the_sidecar(tmp_path):
    paths = _stored(tmp_path)
    assert rf.complete_record(paths) is not None
    assert rf.complete_record(paths, "fp") is None
    assert not rf.is_complete(paths, "")


def test_complete_record_refuses_other_statuses_and_missing_checksums(tmp_path):
    paths = rf.run_paths(tmp_path, "d", "a", 0)
    paths.directory.mkdir(parents=True)
    paths.parquet.write_bytes(b"abc")
    for status in ("failed", "running", "Complete"):
        _write_json(paths.sidecar, {**GOOD, "status": status,
                                    "result": {"parquet_sha256": ABC_SHA256}})
        assert rf.complete_record(paths, verify=False) is None
    _write_json(paths.sidecar, GOOD)  # complete, but no result recorded
    assert rf.complete_record(paths, verify=False) == GOOD
    assert rf.complete_record(paths) is None
    _write_json(paths.sidecar, {**GOOD, "result": {"parquet_sha256": ABC_SHA256}})
    assert rf.complete_record(paths) is not None
    paths.sidecar.unlink()
    assert rf.complete_record(paths, verify=False) is None and not rf.is_complete(paths)


def test_is_complete_verifies_the_checksum(tmp_path):
    paths = _stored(tmp_path)
    paths.parquet.write_bytes(b"other")
    assert not rf.is_complete(paths)


def test_remove_temporaries_only_removes_writer_leftovers(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    leftovers = [a / ".run-000.json.tmp-x1", a / ".run-000.parquet.tmp-abc", b / ".x.tmp-"]
    kept = [a / "run-000.json", a / "run-000.json.tmp-x", a / ".hidden", b / ".tmp",
            a / ".x.tmp_y"]
    for path in leftovers + kept:
        path.write_bytes(b"")
    assert rf.remove_temporaries([tmp_path / "missing", a, tmp_path / "none", b]) == 3
    assert all(not p.exists() for p in leftovers) and all(p.exists() for p in kept)
    assert rf.remove_temporaries([a, b]) == 0
    assert rf.remove_temporaries([]) == 0


def test_remove_temporaries_tolerates_a_file_already_gone(tmp_path, monkeypatch):
    (tmp_path / ".f.tmp-1").write_bytes(b"")
    (tmp_path / ".f.tmp-2").write_bytes(b"")
    real = type(tmp_path).unlink
    calls = []

    def racing(self, *args, **kwargs):
        calls.append(self.name)
        if len(calls) == 1:
            real(self)  # another process removed it first
            raise FileNotFoundError(self)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(type(tmp_path), "unlink", racing)
    assert rf.remove_temporaries([tmp_path]) == 1
    assert len(calls) == 2 and os.listdir(tmp_path) == []


def test_iter_sidecars_orders_by_dataset_algorithm_and_run_number(tmp_path):
    names = ["z/a/run-010.json", "a/b/run-2.json", "a/b/run-010.json", "a/a/run-999.json",
             "a/a/run-1000.json", "a/b/run-001.json"]
    ignored = ["a/b/run-001.parquet", "a/b/run-x.json", "a/b/run-001.json.bak",
               "a/b/.run-001.json.tmp-1", "a/b/xrun-001.json", "a/run-003.json",
               "a/b/c/run-004.json", "run-005.json", "a/b/run-.json"]
    for name in names + ignored:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    found = [p.relative_to(tmp_path).as_posix() for p in rf.iter_sidecars(tmp_path)]
    assert found == ["a/a/run-999.json", "a/a/run-1000.json", "a/b/run-001.json",
                     "a/b/run-2.json", "a/b/run-010.json", "z/a/run-010.json"]
    assert rf.iter_sidecars(str(tmp_path)) == rf.iter_sidecars(tmp_path)
    assert rf.iter_sidecars(tmp_path / "missing") == []
    (tmp_path / "file").write_text("")
    assert rf.iter_sidecars(tmp_path / "file") == []


# -- loading runs -------------------------------------------------------------------------------

def _trajectory(run_id, algorithm, dataset, run, n, start=0.0):
    q = np.arange(1, n + 1, dtype=np.int64)
    idx = q * 10 + run
    return table_from_columns({
        "run_id": pa.array([run_id] * n), "algorithm": pa.array([algorithm] * n),
        "dataset": pa.array([dataset] * n), "run": np.full(n, run), "query": q,
        "arch_index": idx, "arch": pa.array(["8:8:8:8:8"] * n), "flops": q * 1.5,
        "params": q * 100, "feasible": np.ones(n, bool), "duplicate": np.zeros(n, bool),
        "valid_acc": start + q, "incumbent_index": idx, "incumbent_valid_acc": start + q,
        "incumbent_test_acc": start + q - 0.5, "elapsed_s": np.full(n, np.nan)})


def _store_run(out, dataset, algorithm, run, n=2, record_extra=None, status="complete"):
    run_id = f"{dataset}/{algorithm}/{run:03d}"
    data = to_parquet_bytes(_trajectory(run_id, algorithm, dataset, run, n, start=run * 10.0))
    record = {"run_id": run_id, "algorithm": algorithm, "dataset": dataset, "run": run,
              **(record_extra or {})}
    paths = rf.run_paths(out, dataset, algorithm, run)
    if status == "complete":
        rf.write_complete(paths, data, record)
    else:
        rf.write_failed(paths, record)
    return paths


@pytest.fixture
def sweep(tmp_path):
    out = tmp_path / "runs"
    _store_run(out, "cifar100", "rea", 1, n=3)
    _store_run(out, "cifar10", "rea", 0)
    _store_run(out, "cifar10", "random", 1)
    _store_run(out, "cifar10", "random", 0)
    _store_run(out, "cifar10", "random", 2, status="failed")
    _store_run(out, "ImageNet16-120", "rea", 0)
    torn = _store_run(out, "cifar10", "rea", 3)
    torn.parquet.write_bytes(torn.parquet.read_bytes()[:-5])
    lost = _store_run(out, "cifar10", "rea", 4)
    lost.parquet.unlink()
    return out


def _ids(frame):
    return list(dict.fromkeys(frame["run_id"]))


def test_load_runs_reads_complete_runs_in_order(sweep):
    runs = rf.load_runs(sweep, skip_damaged=True)
    assert list(runs.columns) == TRAJECTORY_SCHEMA.names
    assert _ids(runs) == ["ImageNet16-120/rea/000", "cifar10/random/000", "cifar10/random/001",
                          "cifar10/rea/000", "cifar100/rea/001"]
    assert len(runs) == 2 + 2 + 2 + 2 + 3
    r1 = runs[runs["run_id"] == "cifar10/random/001"]
    assert r1["query"].tolist() == [1, 2] and r1["valid_acc"].tolist() == [11.0, 12.0]
    assert r1["run"].tolist() == [1, 1] and r1["arch_index"].tolist() == [11, 21]


@pytest.mark.parametrize(("datasets", "algorithms", "expected"), [
    (["c10"], None, ["cifar10/random/000", "cifar10/random/001", "cifar10/rea/000"]),
    (["CIFAR-100", "in16"], None, ["ImageNet16-120/rea/000", "cifar100/rea/001"]),
    (None, ["rea"], ["ImageNet16-120/rea/000", "cifar10/rea/000", "cifar100/rea/001"]),
    (["cifar10"], ["random"], ["cifar10/random/000", "cifar10/random/001"]),
    ([], None, []), (None, [], []), (["cifar100"], ["random"], []),
])
def test_load_runs_filters(sweep, datasets, algorithms, expected):
    runs = rf.load_runs(sweep, skip_damaged=True, datasets=datasets, algorithms=algorithms)
    assert _ids(runs) == expected
    assert list(runs.columns) == TRAJECTORY_SCHEMA.names


def test_load_runs_of_nothing_is_an_empty_frame_with_the_schema(tmp_path):
    runs = rf.load_runs(tmp_path / "missing")
    assert len(runs) == 0 and list(runs.columns) == TRAJECTORY_SCHEMA.names


def test_load_runs_refuses_a_damaged_run_naming_the_file_unless_asked_to_skip(sweep):
    with pytest.raises(DataIntegrityError) as exc:
        rf.load_runs(sweep)
    message = str(exc.value)
    assert message.startswith(f"{sweep / 'cifar10' / 'rea' / 'run-003.parquet'} is missing or "
                              "does not match the checksum in its sidecar (and 1 more); re-run")
    assert "\n" not in message
    kept = _ids(rf.load_runs(sweep, skip_damaged=True))
    assert "cifar10/rea/003" not in kept and "cifar10/rea/004" not in kept and len(kept) == 5


def test_load_runs_refuses_a_parquet_that_vanishes_after_its_sidecar_is_read(sweep,
                                                                             monkeypatch):
    real = rf.read_runs

    def then_vanish(*args, **kwargs):
        runs = real(*args, **kwargs)
        rf.run_paths(sweep, "cifar10", "random", 1).parquet.unlink(missing_ok=True)
        return runs

    monkeypatch.setattr(rf, "read_runs", then_vanish)
    with pytest.raises(DataIntegrityError, match=r"random.run-001\.parquet is missing"):
        rf.load_runs(sweep, datasets=["cifar10"], algorithms=["random"])
    assert _ids(rf.load_runs(sweep, skip_damaged=True)) == [
        "ImageNet16-120/rea/000", "cifar10/random/000", "cifar10/rea/000", "cifar100/rea/001"]


@pytest.mark.parametrize(("name", "text", "why"), [
    ("run-000.json", None, r"is not valid JSON \(truncated\?"),           # torn sidecar
    ("run-005.json", "", "is empty"),
    ("run-005.json", "  \n", "is empty"),
    ("run-005.json", "{}", "is not a run's sidecar"),
    ("run-005.json", '{"run_id": 1}', "is not a run's sidecar"),
    ("notes.json", "", r"is not a run's sidecar \(those are named run-NNN\.json\)"),
    ("run-x.json", "{}", "is not a run's sidecar"),
])
def test_read_runs_refuses_a_damaged_or_stray_sidecar_in_one_line(tmp_path, name, text, why):
    out = tmp_path / "runs"
    good = _store_run(out, "cifar10", "rea", 0)
    _store_run(out, "cifar10", "rea", 1)
    path = out / "cifar10" / "rea" / name
    path.write_text(good.sidecar.read_text()[:-20] if text is None else text)
    with pytest.raises(DataIntegrityError) as exc:
        rf.read_runs(out)
    message = str(exc.value)
    assert message.startswith(f"{path} ") and re.search(why, message)
    assert "delete or move it, then re-run" in message and "\n" not in message
    with pytest.raises(DataIntegrityError, match=re.escape(str(path))):
        rf.load_runs(out)
    # asked to skip (what a sweep does before redoing runs): a torn sidecar is kept unread
    skipped = rf.read_runs(out, skip_damaged=True)
    assert [r.paths.sidecar.name for r in skipped] == sorted(
        {"run-000.json", "run-001.json"} | ({name} if rf._RUN_FILE.match(name) else set()))
    assert [r.record is None for r in skipped].count(True) == (1 if name.startswith("run-")
                                                                and name != "run-x.json" else 0)
    # another dataset is not read when it is not asked for
    assert rf.read_runs(out, datasets=["cifar100"]) == []


def test_a_run_stored_complete_without_a_query_is_not_complete(tmp_path):
    out = tmp_path / "runs"
    paths = _store_run(out, "cifar10", "rea", 0, n=0, record_extra={"result": {"queries": 0}})
    _store_run(out, "cifar10", "rea", 1, record_extra={"result": {"queries": 2}})
    assert rf.complete_record(paths) is None and not rf.is_complete(paths)
    (empty, full) = rf.read_runs(out)
    assert (empty.complete, empty.status) == (False, rf.STATUS_EMPTY)
    assert (full.complete, full.status) == (True, "complete")
    assert _ids(rf.load_runs(out)) == ["cifar10/rea/001"]


def test_load_runs_with_params_adds_the_configuration(tmp_path):
    out = tmp_path / "runs"
    config = {"algorithm_name": "rea:fast", "params": {"population": 10, "sizes": [1, 2]},
              "protocol": {"budget": 2, "fidelity": "90"}, "seed": {"entropy": 3}}
    _store_run(out, "cifar10", "rea", 0, record_extra=config)
    _store_run(out, "cifar10", "random", 0, record_extra={"params": {"replace": False},
                                                           "seed": {"entropy": 4}})
    _store_run(out, "cifar10", "random", 1, status="failed",
               record_extra={"params": {"other": 1}})
    stray = out / "cifar10" / "random" / "run-009.json"
    stray.write_text("{}")
    with pytest.raises(DataIntegrityError, match=r"run-009\.json is not a run's sidecar"):
        rf.load_runs_with_params(out)
    stray.unlink()
    runs = rf.load_runs_with_params(out)
    assert len(runs) == 4
    assert set(runs.columns) == set(TRAJECTORY_SCHEMA.names) | {
        "algorithm_name", "master_seed", "budget", "fidelity", "param_population",
        "param_sizes", "param_replace"}
    rea = runs[runs["algorithm"] == "rea"].iloc[0]
    assert rea["algorithm_name"] == "rea:fast" and rea["master_seed"] == 3
    assert rea["budget"] == 2 and rea["fidelity"] == "90"
    assert rea["param_population"] == 10 and rea["param_sizes"] == "[1, 2]"
    assert pd.isna(rea["param_replace"])
    rnd = runs[runs["algorithm"] == "random"]
    assert rnd["algorithm_name"].tolist() == ["random", "random"]
    assert rnd["master_seed"].tolist() == [4, 4] and not rnd["param_replace"].iloc[0]
    assert rnd["param_population"].isna().all() and rnd["budget"].isna().all()
    assert runs["params"].tolist()[:2] == [100, 200]  # the trajectory's column, kept


def test_load_runs_with_params_dict_params_and_filters(tmp_path):
    out = tmp_path / "runs"
    _store_run(out, "cifar10", "a", 0, record_extra={"params": {"opts": {"k": 1}}})
    _store_run(out, "cifar100", "a", 0, record_extra={"params": {"opts": {"k": 2}}})
    runs = rf.load_runs_with_params(out, datasets=["cifar100"], algorithms=["a"])
    assert _ids(runs) == ["cifar100/a/000"] and runs["param_opts"].tolist() == ['{"k": 2}'] * 2


def test_load_runs_with_params_without_runs(tmp_path):
    out = tmp_path / "runs"
    _store_run(out, "cifar10", "a", 0, status="failed")
    runs = rf.load_runs_with_params(out)
    assert len(runs) == 0 and list(runs.columns) == TRAJECTORY_SCHEMA.names


def test_load_runs_hashes_each_trajectory_once(sweep, monkeypatch):
    real = rf.sha256_bytes
    hashed = []

    def counting(data):
        hashed.append(len(data))
        return real(data)

    monkeypatch.setattr(rf, "sha256_bytes", counting)
    runs = rf.load_runs(sweep, skip_damaged=True, threads=1)
    # six complete sidecars whose Parquet file is there (one of them torn): one hash each
    assert len(hashed) == 6 and len(_ids(runs)) == 5


# -- columns and threads ------------------------------------------------------------------------

def test_load_runs_columns_in_schema_order(sweep):
    full = rf.load_runs(sweep, skip_damaged=True, threads=1)
    for threads in (1, 4):
        some = rf.load_runs(sweep, columns=["query", "incumbent_test_acc", "run_id"],
                            threads=threads, skip_damaged=True)
        assert list(some.columns) == ["run_id", "query", "incumbent_test_acc"]
        pd.testing.assert_frame_equal(some, full[["run_id", "query", "incumbent_test_acc"]])
    arch = rf.load_runs(sweep, columns=("arch",), datasets=["cifar100"])
    assert list(arch.columns) == ["arch"] and arch["arch"].tolist() == ["8:8:8:8:8"] * 3


def test_load_runs_columns_of_nothing(tmp_path):
    runs = rf.load_runs(tmp_path, columns=["run_id", "valid_acc"])
    assert len(runs) == 0 and list(runs.columns) == ["run_id", "valid_acc"]
    assert runs["valid_acc"].dtype == np.float64


def test_load_runs_refuses_unknown_columns(sweep):
    with pytest.raises(ValueError, match=r"unknown trajectory column\(s\) \['bogus'\]"):
        rf.load_runs(sweep, skip_damaged=True, columns=["query", "bogus"])
    with pytest.raises(ValueError, match="run_id, algorithm, dataset, run, query"):
        rf.load_runs(sweep, skip_damaged=True, columns=["Query"])


@pytest.fixture
def pools(monkeypatch):
    """The max_workers of every thread pool load_runs starts."""
    import concurrent.futures

    created = []

    class Recording(concurrent.futures.ThreadPoolExecutor):
        def __init__(self, max_workers=None, *args, **kwargs):
            created.append(max_workers)
            super().__init__(max_workers, *args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", Recording)
    monkeypatch.setattr(os, "cpu_count", lambda: 7)
    return created


def test_load_runs_threads_asked_for_never_more_than_files(sweep, pools):
    one = rf.load_runs(sweep, skip_damaged=True, threads=1)  # 8 sidecars under sweep
    assert pools == []
    for threads, expected in ((3, 3), (50, 8), (None, 7)):
        pools.clear()
        pd.testing.assert_frame_equal(rf.load_runs(sweep, threads=threads, skip_damaged=True),
                                      one)
        assert pools == [expected]
    pools.clear()
    rf.load_runs(sweep, threads=4, datasets=["cifar100"])  # one file: no pool
    rf.load_runs(sweep.parent / "empty", threads=4)  # no file
    assert pools == []


def test_load_runs_without_a_core_count_reads_in_one_thread(sweep, pools, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert len(rf.load_runs(sweep, skip_damaged=True)) == 11 and pools == []


# -- load_runs_with_params, more ----------------------------------------------------------------

def test_load_runs_with_params_algorithm_filter(tmp_path):
    out = tmp_path / "runs"
    _store_run(out, "cifar10", "a", 0, record_extra={"params": {"x": 1}})
    _store_run(out, "cifar10", "b", 0, record_extra={"params": {"y": 2}})
    runs = rf.load_runs_with_params(out, algorithms=["b"])
    assert _ids(runs) == ["cifar10/b/000"] and runs["param_y"].tolist() == [2, 2]


def test_load_runs_with_params_tolerates_odd_protocol_and_params(tmp_path):
    out = tmp_path / "runs"
    _store_run(out, "cifar10", "a", 0, record_extra={"protocol": [1, 2], "params": [3]})
    _store_run(out, "cifar10", "b", 0, record_extra={"protocol": {"budget": 2},
                                                      "params": "p"})
    runs = rf.load_runs_with_params(out)
    assert _ids(runs) == ["cifar10/a/000", "cifar10/b/000"]
    assert not any(c.startswith("param_") for c in runs.columns)
    assert runs["budget"].isna().tolist() == [True, True, False, False]


def test_load_runs_with_params_has_exactly_load_runs_rows(tmp_path):
    out = tmp_path / "runs"
    _store_run(out, "cifar10", "a", 0, record_extra={"params": {"x": 1}})
    stray = _store_run(out, "cifar10", "a", 1, record_extra={"params": {"x": 2}})
    # a sidecar naming another run than its trajectory does: the rows stay, unconfigured
    record = json.loads(stray.sidecar.read_text())
    record["run_id"] = "elsewhere"
    stray.sidecar.write_text(json.dumps(record))
    plain = rf.load_runs(out)
    runs = rf.load_runs_with_params(out)
    pd.testing.assert_frame_equal(runs[list(plain.columns)], plain)
    assert runs["param_x"].tolist()[:2] == [1, 1] and runs["param_x"][2:].isna().all()


def test_load_runs_with_params_one_configuration_per_run_id(tmp_path):
    out = tmp_path / "runs"
    _store_run(out, "cifar10", "a", 0, record_extra={"params": {"x": 1}})
    twin = _store_run(out, "cifar10", "a", 1, record_extra={"params": {"x": 2}})
    # run 1 claims run 0's id, trajectory and sidecar alike: the first sidecar's
    # configuration is the run's
    data = to_parquet_bytes(_trajectory("cifar10/a/000", "a", "cifar10", 0, 2))
    rf.write_complete(twin, data, {"run_id": "cifar10/a/000", "algorithm": "a",
                                   "dataset": "cifar10", "run": 1, "params": {"x": 2}})
    runs = rf.load_runs_with_params(out)
    assert len(runs) == 4 and runs["param_x"].tolist() == [1, 1, 1, 1]
