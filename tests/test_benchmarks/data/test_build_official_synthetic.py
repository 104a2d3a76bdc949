"""The builder at scale, on a SYNTHETIC partial archive in the official format.

A 2,048-record archive spread over the whole index range is written once per session (the
official one is ~1 GB and cannot ship); the same records are built from the directory in
parallel and from a ``.tar`` serially, and both must equal the table the generator's values
make directly. Damaged records and cost-model mismatches are refused with the file named.
"""

from __future__ import annotations

import bz2
import pickle
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

from nas_harness.benchmarks.data import synthetic_archive as sa
from nas_harness.benchmarks.data.build_official import (
    SYNTHETIC_BUILDER,
    build_from_official_archive,
)
from nas_harness.benchmarks.data.store import read_table, save_table
from nas_harness.benchmarks.datasets import DATASETS
from nas_harness.benchmarks.errors import DataIntegrityError
from nas_harness.benchmarks.space import SSS

COLUMNS = ("valid_acc", "test_acc", "params", "flops", "latency", "hp12_valid_acc",
           "hp12_time", "hp12_train_time", "hp12_eval_time")
RECORDS = 2048


@pytest.fixture(scope="module")
def values(table):
    return sa.synthetic_values(table, seed=3, missing_seed_fraction=0.2)


@pytest.fixture(scope="module")
def archive(values, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("synthetic")
    idx = sa.spread_indices(RECORDS)
    directory = sa.write_archive(root / "NATS-sss-SYNTHETIC-simple", idx, values=values,
                                 workers=2)
    tar_path = root / "NATS-sss-SYNTHETIC-simple.tar"
    with tarfile.open(tar_path, "w") as tar:  # the official tar: one top directory
        tar.add(directory, arcname=directory.name)
    return {"dir": directory, "tar": tar_path, "indices": idx, "root": root}


@pytest.fixture(scope="module")
def from_dir(archive):
    return build_from_official_archive(archive["dir"], allow_partial=True, workers=2)


@pytest.fixture(scope="module")
def from_tar(archive):
    return build_from_official_archive(archive["tar"], allow_partial=True, workers=1)


def test_spread_covers_the_index_range(archive) -> None:
    idx = archive["indices"]
    assert len(idx) == RECORDS and idx[0] == 0 and idx[-1] == SSS.size - 1
    assert len(list(archive["dir"].glob("*.pickle.pbz2"))) == RECORDS + 1  # + meta


def test_tar_serial_equals_directory_parallel(from_dir, from_tar) -> None:
    for name in DATASETS:
        for col in (*COLUMNS, "available"):
            np.testing.assert_array_equal(getattr(from_tar[name], col),
                                          getattr(from_dir[name], col), err_msg=col)


def test_built_rows_equal_the_generator_values(from_dir, values, archive) -> None:
    direct = sa.synthetic_table(values)
    idx = archive["indices"]
    for name in DATASETS:
        assert np.flatnonzero(from_dir[name].available).tolist() == idx.tolist()
        for col in COLUMNS:
            np.testing.assert_array_equal(getattr(from_dir[name], col)[idx],
                                          getattr(direct[name], col)[idx], err_msg=col)
    # the generator's missing seeds reach the table as NaN, and the time is per seed
    seeds = from_dir["cifar10"].hp12_seeds[idx]
    assert 0 < (~seeds).sum() < seeds.size and seeds.any(axis=1).all()
    assert np.isnan(from_dir["cifar10"].hp12_time[idx][~seeds]).all()


def test_provenance_says_synthetic_and_survives_the_store(from_dir, from_tar, archive,
                                                          tmp_path) -> None:
    for built in (from_dir, from_tar):
        assert built.provenance.synthetic and built.provenance.builder == SYNTHETIC_BUILDER
        assert built.provenance.partial
    assert list(from_tar.provenance.sources) == [archive["tar"].name]
    saved = save_table(from_dir, tmp_path / "cache")
    back = read_table(tmp_path / "cache")
    assert back.provenance.synthetic and back.provenance.checksum == saved.provenance.checksum
    for name in DATASETS:
        for col in COLUMNS:
            np.testing.assert_array_equal(getattr(back[name], col), getattr(from_dir[name], col))


def _small_copy(archive, tmp_path: Path, count: int = 6) -> Path:
    small = tmp_path / "small"
    small.mkdir()
    shutil.copy(archive["dir"] / "meta.pickle.pbz2", small)
    for i in archive["indices"][:count]:
        shutil.copy(archive["dir"] / f"{int(i):06d}.pickle.pbz2", small)
    return small


def test_damaged_record_is_named(archive, tmp_path: Path) -> None:
    small = _small_copy(archive, tmp_path)
    victim = small / f"{int(archive['indices'][3]):06d}.pickle.pbz2"
    victim.write_bytes(victim.read_bytes()[:-100])  # truncated download
    with pytest.raises(DataIntegrityError, match=rf"{victim.name}: damaged record"):
        build_from_official_archive(small, allow_partial=True, workers=1)
    tar_path = tmp_path / "small.tar"
    with tarfile.open(tar_path, "w") as tar:
        tar.add(small, arcname="NATS-sss-v1_0-50262-simple")
    with pytest.raises(DataIntegrityError,
                       match=rf"NATS-sss-v1_0-50262-simple/{victim.name}: damaged record"):
        build_from_official_archive(tar_path, allow_partial=True, workers=1)


def test_record_missing_a_result_is_named(archive, tmp_path: Path) -> None:
    small = _small_copy(archive, tmp_path)
    victim = small / f"{int(archive['indices'][2]):06d}.pickle.pbz2"
    record = pickle.loads(bz2.decompress(victim.read_bytes()))
    del record["90"]["all_results"][("cifar100", 777)]
    victim.write_bytes(bz2.compress(pickle.dumps(record)))
    with pytest.raises(DataIntegrityError, match=rf"{victim.name}: damaged record"):
        build_from_official_archive(small, allow_partial=True, workers=1)


def test_cost_model_mismatch_is_refused(archive, tmp_path: Path) -> None:
    small = _small_copy(archive, tmp_path)
    index = int(archive["indices"][4])
    victim = small / f"{index:06d}.pickle.pbz2"
    record = pickle.loads(bz2.decompress(victim.read_bytes()))
    record["90"]["all_results"][("ImageNet16-120", 777)]["flop"] += 0.5
    victim.write_bytes(bz2.compress(pickle.dumps(record)))
    with pytest.raises(DataIntegrityError,
                       match=rf"record {index:06d}.pickle.pbz2 .* on ImageNet16-120 .* cost model"):
        build_from_official_archive(small, allow_partial=True, workers=1)


def test_written_tar_has_the_official_layout(values, tmp_path: Path) -> None:
    path = sa.write_archive(tmp_path / "NATS-sss-SYNTHETIC-simple.tar", [5, 70], tar=True,
                            values=values, workers=1)
    with tarfile.open(path) as tar:
        names = tar.getnames()
    assert names == ["NATS-sss-SYNTHETIC-simple/meta.pickle.pbz2",
                     "NATS-sss-SYNTHETIC-simple/000005.pickle.pbz2",
                     "NATS-sss-SYNTHETIC-simple/000070.pickle.pbz2"]
    built = build_from_official_archive(path, allow_partial=True, workers=1)
    assert np.flatnonzero(built["cifar100"].available).tolist() == [5, 70]


def test_generator_is_deterministic(values, table) -> None:
    again = sa.synthetic_values(table, seed=3, missing_seed_fraction=0.2)
    other = sa.synthetic_values(table, seed=4, missing_seed_fraction=0.2)
    for name in DATASETS:
        np.testing.assert_array_equal(again.hp12[name], values.hp12[name])
        assert not np.array_equal(other.hp12[name], values.hp12[name], equal_nan=True)
        np.testing.assert_array_equal(values.valid[name], table[name].valid_acc)
    record = sa.make_record(sa._record_inputs(values, 11), 11, SSS.format(11))
    assert pickle.dumps(record) == pickle.dumps(
        sa.make_record(sa._record_inputs(again, 11), 11, SSS.format(11)))


def test_cli_builds_from_a_tar_and_info_says_synthetic(values, tmp_path: Path, monkeypatch,
                                                       capsys) -> None:
    from nas_harness.benchmarks.data.store import clear_memo
    from nas_harness.cli import main

    path = sa.write_archive(tmp_path / "NATS-sss-SYNTHETIC-simple.tar", [0, 9, 32767],
                            tar=True, values=values, workers=1)
    monkeypatch.setenv("NAS_HARNESS_CACHE", str(tmp_path / "cache"))
    clear_memo()
    assert main(["data", "build", "--from", str(path), "--workers", "1", "--no-progress"]) == 2
    assert "partial: it has 3 of 32768" in capsys.readouterr().err
    assert main(["data", "build", "--from", str(path), "--allow-partial", "--workers", "1",
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "partial SYNTHETIC table" in out
    assert f"builder:      {SYNTHETIC_BUILDER} (PARTIAL) (SYNTHETIC)" in out
    assert "SYNTHETIC:    generated hp=12" in out and "fidelities hp=90, hp=12" in out
    clear_memo()
