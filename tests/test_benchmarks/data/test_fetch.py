"""Fetching over a loopback HTTP server that mirrors the pinned URL paths (127.0.0.1 only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import flip_byte

from nas_harness.benchmarks.data.fetch import fetch, fetch_base, fetch_sources
from nas_harness.benchmarks.data.paths import table_files
from nas_harness.benchmarks.data.sources import BY_PATH, FETCH_FILES, sha256_of
from nas_harness.benchmarks.data.store import read_table
from nas_harness.benchmarks.errors import DataIntegrityError, DataNotFoundError


def test_fetch_builds_the_table(mirror: dict, tmp_path: Path, table) -> None:
    cache = tmp_path / "cache"
    fetched = fetch(base_urls=mirror["base"], progress=False, cache=cache)
    for rel in FETCH_FILES:
        assert sha256_of(cache / "sources" / rel) == BY_PATH[rel].sha256
    src = BY_PATH["monet/Cifar10-NATS.csv"]
    assert f"/{src.owner}/{src.repo}/{src.commit}/{src.upstream_path}" in mirror["requests"]
    assert fetched.provenance.checksum == table.provenance.checksum
    stored = read_table(cache)
    for name in table.names:
        np.testing.assert_array_equal(stored[name].valid_acc, table[name].valid_acc)
        np.testing.assert_array_equal(stored[name].test_acc, table[name].test_acc)
    # a second fetch finds every file intact and downloads nothing
    served = len(mirror["requests"])
    fetch(base_urls=mirror["base"], progress=False, cache=cache)
    assert len(mirror["requests"]) == served


def test_corrupted_download_is_refused(mirror: dict, tmp_path: Path) -> None:
    rel = "lightonai_contrastive_embeddings/cifar100_accs.npy"
    flip_byte(mirror["path"][rel])
    dest = tmp_path / "sources"
    with pytest.raises(DataIntegrityError) as info:
        fetch_sources(dest, mirror["base"], progress=True)
    assert "corrupted" in str(info.value) and "deleted" in str(info.value)
    assert BY_PATH[rel].sha256 in str(info.value)
    assert not (dest / rel).exists()
    assert not [p for p in dest.rglob("*") if p.is_file() and p.name.endswith(".part")]
    with pytest.raises(DataIntegrityError):  # and no table is built from the rest
        fetch(dest, mirror["base"], progress=False, cache=tmp_path / "cache")
    assert not table_files(tmp_path / "cache")[0].exists()


def test_missing_upstream_file(mirror: dict, tmp_path: Path) -> None:
    mirror["path"]["monet/ImageNet-NATS.csv"].unlink()
    with pytest.raises(DataNotFoundError, match=r"could not download .*ImageNet-NATS\.csv"):
        fetch_sources(tmp_path / "s", mirror["base"], progress=False)
    assert not (tmp_path / "s" / "monet" / "ImageNet-NATS.csv").exists()


def test_fetch_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NAS_HARNESS_FETCH_BASE", raising=False)
    assert fetch_base() == "https://raw.githubusercontent.com"
    assert fetch_base("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert fetch_base("http://[::1]:8000") == "http://[::1]:8000"
    monkeypatch.setenv("NAS_HARNESS_FETCH_BASE", "https://mirror.example/raw")
    assert fetch_base() == "https://mirror.example/raw"
    for bad in ("http://example.com", "ftp://127.0.0.1/x", "file:///tmp", "nonsense"):
        with pytest.raises(DataNotFoundError, match="refusing to fetch"):
            fetch_base(bad)
