"""``nas-harness data fetch | build | info`` through the real entry point, in tmp dirs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import flip_byte

from nas_harness.benchmarks.data.paths import table_files
from nas_harness.benchmarks.data.store import clear_memo, load_table
from nas_harness.cli import main


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("NAS_HARNESS_CACHE", str(path))
    monkeypatch.delenv("NAS_HARNESS_DATA", raising=False)
    monkeypatch.delenv("NAS_HARNESS_FETCH_BASE", raising=False)
    clear_memo()
    yield path
    clear_memo()


def test_info_without_table(cache: Path, capsys) -> None:
    assert main(["data", "info"]) == 2
    err = capsys.readouterr().err
    assert "nas-harness data fetch" in err and "NAS_HARNESS_DATA" in err


def test_build_public_and_info(cache: Path, data_dir: Path, capsys, table) -> None:
    assert main(["data", "build", "--from", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "public-exports" in out
    assert f"checksum:     {table.provenance.checksum} [ok]" in out
    assert "monet/Cifar10-NATS.csv" in out
    assert "cifar10         rows  32768  available  32768  fidelities hp=90" in out
    assert load_table().provenance.checksum == table.provenance.checksum  # what runs now use
    assert main(["data", "info"]) == 0
    assert str(table_files(cache)[0]) in capsys.readouterr().out


def test_build_official_needs_allow_partial(cache: Path, official_dir: Path, capsys) -> None:
    assert main(["data", "build", "--from", str(official_dir)]) == 2
    err = capsys.readouterr().err
    assert "partial" in err and "3 of 32768" in err and "--allow-partial" in err
    assert not table_files(cache)[0].exists()
    assert main(["data", "build", "--from", str(official_dir), "--allow-partial"]) == 0
    out = capsys.readouterr().out
    assert "official-archive (PARTIAL)" in out
    assert "available      3  fidelities hp=90, hp=12" in out


def test_build_from_unknown_dir(cache: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["data", "build", "--from", str(tmp_path / "empty")]) == 2
    assert "neither the public exports" in capsys.readouterr().err


def test_info_reports_corruption(cache: Path, data_dir: Path, capsys) -> None:
    assert main(["data", "build", "--from", str(data_dir)]) == 0
    parquet = table_files(cache)[0]
    flip_byte(parquet, offset=len(parquet.read_bytes()) // 2)
    capsys.readouterr()
    assert main(["data", "info"]) == 2
    captured = capsys.readouterr()
    assert "MISMATCH" in captured.out and "nas-harness data build" in captured.err


def test_fetch_over_loopback(cache: Path, mirror: dict, monkeypatch: pytest.MonkeyPatch,
                             capsys, table) -> None:
    monkeypatch.setenv("NAS_HARNESS_FETCH_BASE", mirror["base"])
    assert main(["data", "fetch", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"{table.provenance.checksum} [ok]" in out
    assert (cache / "sources" / "monet" / "Cifar10-NATS.csv").is_file()
    clear_memo()
    assert load_table().provenance.checksum == table.provenance.checksum
