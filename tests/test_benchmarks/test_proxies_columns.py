"""Built-in proxy columns: values and provenance from MONET's pinned files, absence explicit.

Expected values are literals read by hand from MONET's CSVs (first rows of
``Cifar10-NATS.csv``: score 1.9495865, score_naswot / score_nasi as below).
"""

from __future__ import annotations

import numpy as np
import pytest

from nas_harness.benchmarks.proxies.catalog import proxy_column, proxy_names
from nas_harness.benchmarks.proxies.columns import BUILTIN, ProxyMissingError, absent_message

MONET_C10_SHA = "96983219294bc264d01df9534deba04e99a0acddc337e4651c72cee6799322db"


def test_ntk_is_monet_score_with_its_file_hash(table, data_dir):
    col = proxy_column("ntk", "cifar10", table["cifar10"], data_dir)
    assert col.values[0] == pytest.approx(1.9495865)
    assert col.values[1] == pytest.approx(2.8115952)
    assert col.sha256 == MONET_C10_SHA
    assert "monet/Cifar10-NATS.csv" in col.source and "'score'" in col.source
    assert not col.values.flags.writeable
    assert col.scored.all()


def test_naswot_and_nasi_are_distinct_columns(table, data_dir):
    ntk = proxy_column("ntk", "cifar100", table["cifar100"], data_dir).values
    naswot = proxy_column("naswot", "cifar100", table["cifar100"], data_dir).values
    nasi = proxy_column("nasi", "c100", table["cifar100"], data_dir).values
    assert not np.array_equal(ntk, naswot) and not np.array_equal(naswot, nasi)
    assert 5.4 < naswot.min() < naswot.max() < 6.6  # NASWOT's range on CIFAR-100


def test_params_and_flops_are_the_table_columns(table, data_dir):
    t = table["ImageNet16-120"]
    params = proxy_column("params", "ImageNet16-120", t, data_dir)
    assert params.values[32767] == 720824  # SOURCE.md: largest model on ImageNet16-120
    assert np.array_equal(proxy_column("flops", "in16", t, data_dir).values, t.flops)
    assert params.sha256 == ""


def test_nasi_on_imagenet_is_absent_in_one_line(table, data_dir):
    with pytest.raises(ProxyMissingError) as err:
        proxy_column("nasi", "ImageNet16-120", table["ImageNet16-120"], data_dir)
    text = str(err.value)
    assert "\n" not in text
    assert "absent on ImageNet16-120" in text and "not zero" in text
    assert "ntk, naswot, params, flops" in text


def test_proxy_names_per_dataset(tmp_path):
    assert proxy_names("cifar10", tmp_path) == ["ntk", "naswot", "nasi", "params", "flops"]
    assert "nasi" not in proxy_names("ImageNet16-120", tmp_path)


def test_unknown_proxy_names_the_way_out(table, tmp_path):
    with pytest.raises(ProxyMissingError, match=r"no proxy called 'zico'.*proxies list"):
        proxy_column("zico", "cifar10", table["cifar10"], cache=tmp_path)


def test_absent_message_for_every_absent_builtin():
    for name, spec in BUILTIN.items():
        for ds in {"cifar10", "cifar100", "ImageNet16-120"} - set(spec.datasets):
            assert absent_message(name, ds).startswith(f"proxy {name!r} is absent on {ds}")
