"""Building from an official archive: partial refusal, explicit partial build, and equality.

"Exactly equal" below means bit-identical float64: the public exports were written from the
same float64 values the official API returns (MONET's CSV with full round-trip precision,
lightonai's npy as float64), so the accuracies agree to the last bit, not just to a tolerance.
"""

from __future__ import annotations

import bz2
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import copy_tree

from nas_harness.benchmarks.cost_model import dataset_costs
from nas_harness.benchmarks.data.build_official import (
    BUILDER,
    build_from_official_archive,
    is_official_archive,
)
from nas_harness.benchmarks.errors import DataIntegrityError, DataNotFoundError
from nas_harness.benchmarks.space import SSS

SAMPLE_INDICES = [0, 11, 284]

pytest.importorskip("nats_bench")


@pytest.fixture(scope="module")
def partial(official_dir: Path):
    return build_from_official_archive(official_dir, allow_partial=True)


def _raw(official_dir: Path, index: int) -> dict:
    with bz2.open(official_dir / f"{index:06d}.pickle.pbz2", "rb") as handle:
        return pickle.load(handle)


def test_partial_archive_refused(official_dir: Path) -> None:
    with pytest.raises(DataIntegrityError) as info:
        build_from_official_archive(official_dir)
    message = str(info.value)
    assert "partial" in message and "3 of 32768" in message
    assert "--allow-partial" in message and "allow_partial=True" in message


def test_partial_build(partial) -> None:
    assert partial.provenance.builder == BUILDER and partial.provenance.partial
    assert "meta.pickle.pbz2" in partial.provenance.sources
    for name in partial.names:
        d = partial[name]
        assert np.flatnonzero(d.available).tolist() == SAMPLE_INDICES
        assert d.fidelities == ("90", "12")
        missing = ~d.available
        assert np.isnan(d.valid_acc[missing]).all() and np.isnan(d.flops[missing]).all()
        assert (d.params[missing] == -1).all()
        assert np.isnan(d.hp12_valid_acc[missing]).all()
        have = d.available
        for col in (d.valid_acc, d.test_acc, d.flops, d.latency, d.hp12_train_time,
                    d.hp12_eval_time):
            assert np.isfinite(col[have]).all()
        assert np.isfinite(d.hp12_valid_acc[have]).all()


def test_hp12_values_match_the_raw_records(partial, official_dir: Path) -> None:
    # independent of the nats_bench API: read the pickled records directly
    for index in SAMPLE_INDICES:
        raw = _raw(official_dir, index)["12"]["all_results"]
        for name, key in (("cifar10", "cifar10-valid"), ("cifar100", "cifar100"),
                          ("ImageNet16-120", "ImageNet16-120")):
            row = partial[name].hp12_valid_acc[index]
            expected = [raw[(key, seed)]["eval_acc1es"]["x-valid@11"] for seed in (777, 888, 999)]
            np.testing.assert_array_equal(row, expected)
            assert len(set(row.tolist())) > 1  # the three seeds really differ
            train = raw[(key, 777)]["train_times"]
            assert partial[name].hp12_train_time[index] == pytest.approx(
                sum(train[i] for i in range(12)))


def test_partial_equals_public_exports(partial, table) -> None:
    idx = np.asarray(SAMPLE_INDICES)
    for name in table.names:
        off, pub = partial[name], table[name]
        np.testing.assert_array_equal(off.valid_acc[idx], pub.valid_acc[idx])  # bit-identical
        np.testing.assert_array_equal(off.test_acc[idx], pub.test_acc[idx])
        np.testing.assert_array_equal(off.params[idx], pub.params[idx])
        flops, params = dataset_costs(SSS.channels(idx), name)
        np.testing.assert_allclose(off.flops[idx], flops, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(off.params[idx], params)


def test_meta_order_refused(official_dir: Path, tmp_path: Path) -> None:
    archive = copy_tree(official_dir, tmp_path / "archive")
    with bz2.open(archive / "meta.pickle.pbz2", "rb") as handle:
        meta = pickle.load(handle)
    meta["meta_archs"][3], meta["meta_archs"][4] = meta["meta_archs"][4], meta["meta_archs"][3]
    with bz2.open(archive / "meta.pickle.pbz2", "wb") as handle:
        pickle.dump(meta, handle)
    with pytest.raises(DataIntegrityError, match=r"meta_archs: index order .* first at index 3"):
        build_from_official_archive(archive, allow_partial=True)


def test_record_under_wrong_index_refused(official_dir: Path, tmp_path: Path) -> None:
    archive = copy_tree(official_dir, tmp_path / "archive")
    shutil.move(archive / "000011.pickle.pbz2", archive / "000012.pickle.pbz2")
    with pytest.raises(DataIntegrityError,
                       match=r"record 12 \(hp=90\) is architecture 11 '8:8:8:16:32'"):
        build_from_official_archive(archive, allow_partial=True)


def test_not_an_archive(tmp_path: Path) -> None:
    assert not is_official_archive(tmp_path)
    with pytest.raises(DataNotFoundError, match="not an official NATS-Bench SSS archive"):
        build_from_official_archive(tmp_path, allow_partial=True)


def test_single_file_archive(official_dir: Path, tmp_path: Path, partial) -> None:
    with bz2.open(official_dir / "meta.pickle.pbz2", "rb") as handle:
        meta = pickle.load(handle)
    whole = {"meta_archs": meta["meta_archs"],
             "arch2infos": {i: _raw(official_dir, i) for i in SAMPLE_INDICES},
             "evaluated_indexes": set(SAMPLE_INDICES)}
    path = tmp_path / "NATS-sss-v1_0-50262.pickle.pbz2"
    with bz2.open(path, "wb") as handle:
        pickle.dump(whole, handle)
    assert is_official_archive(path)
    single = build_from_official_archive(path, allow_partial=True)
    assert list(single.provenance.sources) == [path.name]
    for name in partial.names:
        for col in ("valid_acc", "test_acc", "params", "flops", "available", "hp12_valid_acc"):
            np.testing.assert_array_equal(getattr(single[name], col), getattr(partial[name], col))
