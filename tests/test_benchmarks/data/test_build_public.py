"""Building from the public exports: known values, and refusal of every kind of bad file."""

from __future__ import annotations

import bz2
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import flip_byte

from nas_harness.benchmarks.cost_model import dataset_costs
from nas_harness.benchmarks.data.build_public import (
    BUILDER,
    build_from_public_exports,
    check_order,
    expected_arch_strings,
)
from nas_harness.benchmarks.data.sources import META_FILE, PUBLIC_FILES
from nas_harness.benchmarks.errors import DataIntegrityError, DataNotFoundError
from nas_harness.benchmarks.space import SSS, SearchSpace

C10_VALID = "lightonai_contrastive_embeddings/cifar10_accs.npy"
C10_CSV = "monet/Cifar10-NATS.csv"


def test_full_table_shape(table) -> None:
    assert table.names == ("cifar10", "cifar100", "ImageNet16-120")
    assert table.provenance.builder == BUILDER
    assert not table.provenance.partial
    assert set(PUBLIC_FILES) | {META_FILE} == set(table.provenance.sources)
    for name in table.names:
        d = table[name]
        assert d.num_archs == 32768 and d.is_complete and d.fidelities == ("90",)
        for col in (d.valid_acc, d.test_acc, d.flops):
            assert col.dtype == np.float64 and np.isfinite(col).all()
        assert d.params.dtype == np.int64 and (d.params > 0).all()
        assert not d.valid_acc.flags.writeable


def test_known_values_from_source_md(table) -> None:
    # SOURCE.md's spot checks: largest model and the official sample architectures.
    big = SSS.parse("64:64:64:64:64")
    assert big == 32767
    assert table["cifar10"].test_acc[big] == 93.40
    assert table["cifar10"].valid_acc[big] == pytest.approx(90.712, abs=1e-6)
    assert table["cifar100"].valid_acc[big] == pytest.approx(70.30, abs=1e-6)
    assert table["ImageNet16-120"].test_acc[big] == pytest.approx(47.17, abs=5e-3)
    assert [int(table[d].params[big]) for d in table.names] == [713674, 719524, 720824]
    best = int(np.argmax(table["cifar10"].test_acc))
    assert best == 32698 and SSS.format(best) == "64:64:56:64:24"
    assert table["cifar10"].test_acc[best] == 93.65
    np.testing.assert_allclose(table["cifar10"].valid_acc[[0, 11, 284]],
                               [76.888, 83.724, 86.796], atol=1e-6)
    assert table["cifar10"].params[[0, 11, 284]].tolist() == [11714, 49202, 144834]


def test_flops_and_params_are_the_cost_model(table) -> None:
    chans = SSS.channels(SSS.all_indices())
    for name in table.names:
        flops, params = dataset_costs(chans, name)
        np.testing.assert_array_equal(table[name].flops, flops)
        np.testing.assert_array_equal(table[name].params, params)
    assert table["ImageNet16-120"].flops.max() < table["cifar10"].flops.max()


def test_checksum_refusal(data_copy: Path) -> None:
    flip_byte(data_copy / C10_CSV, offset=-3)
    with pytest.raises(DataIntegrityError, match=r"sha256 mismatch for monet/Cifar10-NATS\.csv"):
        build_from_public_exports(data_copy)


def test_missing_file(data_copy: Path) -> None:
    (data_copy / C10_VALID).unlink()
    with pytest.raises(DataNotFoundError, match=r"cifar10_accs\.npy"):
        build_from_public_exports(data_copy)


# The structural checks run after the checksums; checksums=False reaches them with edited files.
def _edit_npy(root: Path, rel: str, edit) -> None:
    arr = np.load(root / rel)
    np.save(root / rel, edit(arr.copy()))


def test_nan_refused(data_copy: Path) -> None:
    def put_nan(a):
        a[123] = np.nan
        return a
    _edit_npy(data_copy, C10_VALID, put_nan)
    with pytest.raises(DataIntegrityError, match=r"NaN.*first at index 123"):
        build_from_public_exports(data_copy, checksums=False)
    with pytest.raises(DataIntegrityError, match="sha256"):
        build_from_public_exports(data_copy)


def test_wrong_length_refused(data_copy: Path) -> None:
    _edit_npy(data_copy, "lightonai_contrastive_embeddings/ImageNet16-120.npy", lambda a: a[:-1])
    with pytest.raises(DataIntegrityError, match=r"shape \(32768,\)"):
        build_from_public_exports(data_copy, checksums=False)


def test_accuracy_outside_percent_refused(data_copy: Path) -> None:
    _edit_npy(data_copy, C10_VALID, lambda a: a / 100 - 1)
    with pytest.raises(DataIntegrityError, match=r"\[0, 100\]"):
        build_from_public_exports(data_copy, checksums=False)


def _edit_csv(root: Path, rel: str, edit) -> None:
    frame = pd.read_csv(root / rel, index_col=0)
    edit(frame).to_csv(root / rel)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda f: f.drop(index=500), "expected 32768 rows"),
    (lambda f: f.assign(index=f["index"].where(f["index"] != 7, 6)), "index 6 appears 2 times"),
    (lambda f: pd.concat([f.iloc[:10], f.iloc[[11, 10]], f.iloc[12:]]), "not in index order"),
    (lambda f: f.assign(index=f["index"].replace(32767, 40000)), "missing, first 32767"),
    (lambda f: f.assign(accuracy=f["accuracy"].where(f.index != 9)), "missing values"),
    (lambda f: f.drop(columns="num_param"), "num_param"),
    (lambda f: f.assign(num_param=f["num_param"] + (f.index == 42)),
     "disagrees with the cost model .* first index 42"),
])
def test_bad_csv_refused(data_copy: Path, edit, message: str) -> None:
    _edit_csv(data_copy, C10_CSV, edit)
    with pytest.raises(DataIntegrityError, match=message):
        build_from_public_exports(data_copy, checksums=False)


def test_unedited_copy_builds_without_checksums(data_copy: Path, table) -> None:
    # the control for the refusals above: a plain round trip through pandas changes nothing
    _edit_csv(data_copy, C10_CSV, lambda f: f)
    rebuilt = build_from_public_exports(data_copy, checksums=False)
    np.testing.assert_array_equal(rebuilt["cifar10"].test_acc, table["cifar10"].test_acc)


def test_arch_strings_order_refused(data_copy: Path) -> None:
    def swap(a):
        a[[5, 6]] = a[[6, 5]]
        return a
    _edit_npy(data_copy, "lightonai_contrastive_embeddings/arch_strings.npy", swap)
    with pytest.raises(DataIntegrityError, match=r"arch_strings.npy: index order .* index 5"):
        build_from_public_exports(data_copy, checksums=False)


def test_meta_archs_order_refused(data_copy: Path) -> None:
    path = data_copy / META_FILE
    with bz2.open(path, "rb") as handle:
        meta = pickle.load(handle)
    archs = meta["meta_archs"]
    archs[100], archs[200] = archs[200], archs[100]
    with bz2.open(path, "wb") as handle:
        pickle.dump(meta, handle)
    with pytest.raises(DataIntegrityError, match="sha256"):
        build_from_public_exports(data_copy)
    with pytest.raises(DataIntegrityError, match=r"meta_archs: index order .* first at index 100"):
        build_from_public_exports(data_copy, checksums=False)


def test_order_must_match_the_search_space() -> None:
    strings = expected_arch_strings()
    check_order("ok", strings)  # the reference order itself passes
    other = SearchSpace(options=tuple((8, 16, 24, 32, 40, 48, 56, 72) for _ in range(5)))
    with pytest.raises(DataIntegrityError, match="disagrees with the search space"):
        check_order("arch_strings", strings, other)
    with pytest.raises(DataIntegrityError, match="expected 32768"):
        check_order("short", strings[:-1])
