"""The Parquet store and load_table: round trips, checksums, cache reuse and rebuilds."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import SAMPLE, copy_tree, flip_byte

from nas_harness.benchmarks.data.build_official import build_from_official_archive
from nas_harness.benchmarks.data.paths import table_files
from nas_harness.benchmarks.data.sources import PUBLIC_FILES, sha256_of
from nas_harness.benchmarks.data.store import (
    clear_memo,
    load_table,
    read_sidecar,
    read_table,
    save_table,
)
from nas_harness.benchmarks.errors import DataIntegrityError, DataNotFoundError

COLUMNS = ("valid_acc", "test_acc", "params", "flops", "available")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("NAS_HARNESS_DATA", raising=False)
    monkeypatch.setenv("NAS_HARNESS_CACHE", str(tmp_path / "default-cache"))
    clear_memo()
    yield
    clear_memo()


def _assert_same(a, b) -> None:
    assert a.names == b.names
    for name in a.names:
        for col in COLUMNS:
            x, y = getattr(a[name], col), getattr(b[name], col)
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)


def test_round_trip(table, tmp_path: Path) -> None:
    saved = save_table(table, tmp_path / "c")
    parquet, sidecar = table_files(tmp_path / "c")
    assert saved.provenance.checksum == sha256_of(parquet)
    back = read_table(tmp_path / "c")
    _assert_same(table, back)
    assert back.provenance.checksum == saved.provenance.checksum
    assert back.provenance.sources == table.provenance.sources
    assert back["cifar10"].hp12_valid_acc is None
    meta = json.loads(sidecar.read_text())
    assert meta["builder"] == "public-exports" and meta["partial"] is False
    assert meta["datasets"]["cifar100"] == {"rows": 32768, "available": 32768,
                                            "fidelities": ["90"]}
    # long format, human-readable columns
    frame = pq.read_table(parquet).to_pandas()
    assert len(frame) == 3 * 32768
    row = frame[(frame["dataset"] == "cifar10") & (frame["index"] == 32698)].iloc[0]
    assert row["arch"] == "64:64:56:64:24"
    assert [row[f"c{i}"] for i in range(1, 6)] == [64, 64, 56, 64, 24]
    assert row["test_acc"] == 93.65


def test_checksum_is_deterministic(table, tmp_path: Path) -> None:
    a = save_table(table, tmp_path / "a").provenance.checksum
    b = save_table(table, tmp_path / "b").provenance.checksum
    assert a == b


def test_partial_official_round_trip(official_dir: Path, tmp_path: Path) -> None:
    partial = build_from_official_archive(official_dir, allow_partial=True)
    save_table(partial, tmp_path / "c")
    back = read_table(tmp_path / "c")
    _assert_same(partial, back)
    assert back.provenance.partial
    for name in partial.names:
        for col in ("hp12_valid_acc", "hp12_train_time", "hp12_eval_time", "latency"):
            np.testing.assert_array_equal(getattr(back[name], col), getattr(partial[name], col))
        assert back[name].fidelities == ("90", "12")


def test_corrupted_cache_is_refused(table, tmp_path: Path) -> None:
    save_table(table, tmp_path / "c")
    parquet, _ = table_files(tmp_path / "c")
    flip_byte(parquet, offset=len(parquet.read_bytes()) // 2)
    with pytest.raises(DataIntegrityError, match=r"corrupted.*nas-harness data build"):
        read_table(tmp_path / "c")
    with pytest.raises(DataIntegrityError, match="nas-harness data build"):
        load_table(cache_dir=tmp_path / "c")


def test_schema_version_mismatch(table, tmp_path: Path) -> None:
    save_table(table, tmp_path / "c")
    _, sidecar = table_files(tmp_path / "c")
    meta = json.loads(sidecar.read_text())
    meta["schema_version"] = 0
    sidecar.write_text(json.dumps(meta))
    with pytest.raises(DataIntegrityError, match="schema version"):
        read_table(tmp_path / "c")


def test_no_data_anywhere(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError) as info:
        load_table(cache_dir=tmp_path / "empty")
    message = str(info.value)
    assert "nas-harness data fetch" in message
    assert "export NAS_HARNESS_DATA=/path/to/natsbench_sss" in message
    assert "nas-harness data build --from DIR" in message
    assert not (tmp_path / "empty" / "table").exists()  # no fake table written


def test_data_env_not_a_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NAS_HARNESS_DATA", str(tmp_path / "nope"))
    with pytest.raises(DataNotFoundError, match=(
            rf"^NAS_HARNESS_DATA={re.escape(str(tmp_path / 'nope'))} is not a directory; point "
            r"NAS_HARNESS_DATA at a natsbench_sss directory or `unset NAS_HARNESS_DATA`, then "
            r"get the benchmark data")):
        load_table(cache_dir=tmp_path / "c")
    assert not (tmp_path / "c" / "table").exists()


def test_a_stale_data_env_names_itself_when_a_good_cache_is_there(
        table, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    save_table(table, tmp_path / "c")
    monkeypatch.setenv("NAS_HARNESS_DATA", str(tmp_path / "moved"))
    with pytest.raises(DataNotFoundError) as info:
        load_table(cache_dir=tmp_path / "c")
    assert str(info.value) == (
        f"NAS_HARNESS_DATA={tmp_path / 'moved'} is not a directory, so the cached table in "
        f"{(tmp_path / 'c' / 'table').resolve()} is not used either; `unset NAS_HARNESS_DATA` "
        "to use that table, or point NAS_HARNESS_DATA at a natsbench_sss directory")
    monkeypatch.delenv("NAS_HARNESS_DATA")
    _assert_same(load_table(cache_dir=tmp_path / "c"), table)  # the fix it names works
    with pytest.raises(DataNotFoundError, match=r"^data_dir=.*moved is not a directory; get"):
        load_table(data_dir=tmp_path / "moved", cache_dir=tmp_path / "c")


def test_builds_caches_and_memoises(data_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                    tmp_path: Path, table) -> None:
    monkeypatch.setenv("NAS_HARNESS_DATA", str(data_dir))
    cache = tmp_path / "c"
    first = load_table(cache_dir=cache)
    parquet, _ = table_files(cache)
    assert parquet.is_file() and first.provenance.checksum == sha256_of(parquet)
    assert first.provenance.checksum == table.provenance.checksum  # same bytes as the fixture
    assert load_table(cache_dir=cache) is first  # in-process memo
    stamp = parquet.stat().st_mtime_ns
    clear_memo()
    again = load_table(cache_dir=cache)  # from the cache, not rebuilt
    assert again is not first and parquet.stat().st_mtime_ns == stamp
    _assert_same(first, again)
    # with no data at all, the cached table is still served (it is self-verifying)
    monkeypatch.delenv("NAS_HARNESS_DATA")
    clear_memo()
    assert load_table(cache_dir=cache).provenance.checksum == first.provenance.checksum


def test_rebuilds_when_recorded_sources_differ(data_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c"
    load_table(data_dir, cache)
    _, sidecar = table_files(cache)
    meta = json.loads(sidecar.read_text())
    meta["sources"]["monet/Cifar10-NATS.csv"] = "0" * 64  # as if built from other files
    sidecar.write_text(json.dumps(meta))
    clear_memo()
    table = load_table(data_dir, cache)
    assert read_sidecar(cache)["sources"]["monet/Cifar10-NATS.csv"] != "0" * 64
    assert table.provenance.checksum == read_sidecar(cache)["checksum"]


def test_corrupted_source_with_cache_is_refused(data_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c"
    load_table(data_copy, cache)
    flip_byte(data_copy / PUBLIC_FILES[0])
    clear_memo()
    with pytest.raises(DataIntegrityError, match="sha256 mismatch"):
        load_table(data_copy, cache)


def test_explicit_official_build_is_kept(data_dir: Path, official_dir: Path,
                                         tmp_path: Path) -> None:
    cache = tmp_path / "c"
    save_table(build_from_official_archive(official_dir, allow_partial=True), cache)
    loaded = load_table(data_dir, cache)
    assert loaded.provenance.builder == "official-archive" and loaded.provenance.partial


def test_uses_fetched_sources(data_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c"
    for rel in PUBLIC_FILES:
        (cache / "sources" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data_dir / rel, cache / "sources" / rel)
    loaded = load_table(cache_dir=cache)
    assert loaded["cifar10"].is_complete
    assert read_sidecar(cache)["source_dir"] == str((cache / "sources").resolve())


def test_official_archive_as_data_dir_is_not_silently_partial(official_dir: Path,
                                                                tmp_path: Path) -> None:
    archive = copy_tree(official_dir, tmp_path / SAMPLE.split("/")[-1])
    with pytest.raises(DataIntegrityError, match="partial"):
        load_table(archive, tmp_path / "c")
