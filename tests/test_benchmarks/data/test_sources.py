"""The source manifest: hashes as in SOURCE.md, pinned URLs, and checksum refusal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import flip_byte

from nas_harness.benchmarks.data.sources import (
    BY_PATH,
    MANIFEST,
    PUBLIC_FILES,
    has_public_exports,
    verify,
)
from nas_harness.benchmarks.errors import DataIntegrityError, DataNotFoundError


def test_manifest_matches_source_md(data_dir: Path) -> None:
    text = (data_dir / "SOURCE.md").read_text()
    listed = dict(
        (m.group(2), m.group(1)) for m in re.finditer(r"^([0-9a-f]{64})  (\S+)$", text, re.M)
    )
    assert listed == {f.relpath: f.sha256 for f in MANIFEST}


def test_urls_are_pinned_to_commits() -> None:
    url = BY_PATH["monet/Cifar10-NATS.csv"].url()
    assert url == ("https://raw.githubusercontent.com/vilhess/MONET/"
                   "336647a5dadb6e716f87eb05e493f8174973bc80/benchmark_scores/Cifar10-NATS.csv")
    assert BY_PATH["lightonai_contrastive_embeddings/arch_strings.npy"].url("http://x/") == (
        "http://x/lightonai/contrastive-embeddings-for-neural-architectures/"
        "8606a4a4d7ea9ed9c01964660e8b2afb1e003480/SearchSpaces/BenchNatsss/arch_strings.npy")
    meta = BY_PATH["official_nats_bench_sample/NATS-sss-v1_0-50262-simple/meta.pickle.pbz2"]
    assert meta.url().endswith("/D-X-Y/NATS-Bench/1d4a304ad1906aa5866563438fcbf0d624b7eda2/"
                               "fake_torch_dir/NATS-sss-v1_0-50262-simple/meta.pickle.pbz2")
    assert all(re.fullmatch(r"[0-9a-f]{40}", f.commit) for f in MANIFEST)


def test_verify_intact_data(data_dir: Path) -> None:
    hashes = verify(data_dir)
    assert set(PUBLIC_FILES) <= set(hashes)
    assert all(hashes[rel] == BY_PATH[rel].sha256 for rel in hashes)


def test_flipped_byte_is_refused(data_copy: Path) -> None:
    rel = "lightonai_contrastive_embeddings/cifar10_accs.npy"
    flip_byte(data_copy / rel)
    with pytest.raises(DataIntegrityError) as info:
        verify(data_copy)
    message = str(info.value)
    assert rel in message
    assert BY_PATH[rel].sha256 in message  # expected hash
    assert re.search(r"got [0-9a-f]{64}", message)  # actual hash
    assert "nas-harness data fetch" in message


def test_missing_required_file(data_copy: Path) -> None:
    (data_copy / "monet/ImageNet-NATS.csv").unlink()
    assert not has_public_exports(data_copy)
    with pytest.raises(DataNotFoundError, match=r"monet/ImageNet-NATS\.csv"):
        verify(data_copy)


def test_optional_files_checked_only_when_present(data_copy: Path) -> None:
    sample = data_copy / "official_nats_bench_sample"
    for path in sorted(sample.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    assert set(verify(data_copy)) == set(PUBLIC_FILES)
    with pytest.raises(DataNotFoundError, match="not in the source manifest"):
        verify(data_copy, ["monet/other.csv"])
