"""Bring-your-own scores: every rejection is one line naming the fix.

Accepted files are stored with their sha256 and read back identically. Score files here are
synthetic (invented numbers).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from nas_harness.benchmarks.errors import DataIntegrityError
from nas_harness.benchmarks.proxies.catalog import proxy_names
from nas_harness.benchmarks.proxies.columns import ProxyMissingError
from nas_harness.benchmarks.proxies.store import list_stored, load_stored, save_scores
from nas_harness.benchmarks.proxies.user_scores import validate_scores
from nas_harness.benchmarks.space import SSS
from nas_harness.cli.main import main

N = SSS.size


def frame(n: int = N, **extra) -> pd.DataFrame:
    idx = np.arange(n)
    return pd.DataFrame({"arch": SSS.format_many(idx), "score": idx * 0.5 + 1.0, **extra})


def write(df: pd.DataFrame, path, fmt: str = "csv"):
    if fmt == "csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)
    return path


def reject(tmp_path, df, match, name="zico", fmt="csv", **kw):
    path = write(df, tmp_path / f"s.{fmt}", fmt)
    with pytest.raises(DataIntegrityError, match=match) as err:
        validate_scores(name, path, **kw)
    assert "\n" not in str(err.value)


# -- accepted ------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_full_file_is_stored_with_sha256_and_reads_back(tmp_path, fmt):
    path = write(frame(), tmp_path / f"zico.{fmt}", fmt)
    scores = validate_scores("zico", path, "c10")
    record = save_scores(scores, path, tmp_path / "cache")
    assert record.source_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert record.datasets == {"cifar10": N}
    col = load_stored("zico", "cifar10", tmp_path / "cache")
    assert col.values[32767] == 32767 * 0.5 + 1.0 and col.values[0] == 1.0
    stored = tmp_path / "cache" / "proxies" / "zico.parquet"
    assert col.sha256 == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert proxy_names("cifar10", tmp_path / "cache")[-1] == "zico"
    assert "zico" not in proxy_names("cifar100", tmp_path / "cache")


def test_index_column_and_dataset_column(tmp_path):
    df = pd.concat([pd.DataFrame({"index": np.arange(N), "score": np.arange(N) * 1.0,
                                  "dataset": ds}) for ds in ("cifar100", "in16")])
    scores = validate_scores("zico", write(df, tmp_path / "z.csv"))
    assert sorted(scores.columns) == ["ImageNet16-120", "cifar100"]


def test_declared_subset_and_declared_missing(tmp_path):
    df = frame(100)
    df.loc[3, "score"] = np.nan
    scores = validate_scores("zico", write(df, tmp_path / "z.csv"), "cifar10", subset=True,
                             allow_missing=True)
    col = scores.columns["cifar10"]
    assert (~np.isnan(col)).sum() == 99 and np.isnan(col[3]) and np.isnan(col[100])


# -- every rejection ------------------------------------------------------------------------

def test_rejects_missing_architectures_unless_subset(tmp_path):
    reject(tmp_path, frame(N - 1), r"scores 32767 of 32768 .*first 64:64:64:64:64.*--subset",
           dataset="cifar10")


def test_rejects_nan(tmp_path):
    df = frame()
    df.loc[5, "score"] = np.nan
    reject(tmp_path, df, r"1 NaN/inf score\(s\), first for 8:8:8:8:48.*--allow-missing",
           dataset="cifar10")


def test_rejects_inf(tmp_path):
    df = frame()
    df.loc[0, "score"] = np.inf
    reject(tmp_path, df, r"NaN/inf", dataset="cifar10", fmt="parquet")


def test_rejects_duplicates(tmp_path):
    df = pd.concat([frame(), frame(1)])
    reject(tmp_path, df, r"8:8:8:8:8 \(index 0\) appears 2 times", dataset="cifar10")


def test_rejects_unknown_dataset_option(tmp_path):
    reject(tmp_path, frame(), r"--dataset: unknown dataset 'mnist'", dataset="mnist")


def test_rejects_unknown_dataset_column(tmp_path):
    reject(tmp_path, frame(dataset="svhn"), r"unknown dataset 'svhn'")


def test_rejects_no_dataset_at_all(tmp_path):
    reject(tmp_path, frame(), r"say which dataset it scores with --dataset")


def test_rejects_dataset_option_disagreeing_with_column(tmp_path):
    reject(tmp_path, frame(dataset="cifar10"), r"disagrees", dataset="cifar100")


def test_rejects_bad_architecture_string(tmp_path):
    df = frame()
    df.loc[2, "arch"] = "8:8:8:8:9"
    reject(tmp_path, df, r"row 2", dataset="cifar10")


def test_rejects_index_out_of_range(tmp_path):
    df = pd.DataFrame({"index": [0, 40000], "score": [1.0, 2.0]})
    reject(tmp_path, df, r"index 40000 \(row 1\) is outside", dataset="cifar10", subset=True)


def test_rejects_arch_and_index_disagreeing(tmp_path):
    df = frame(3, index=[0, 2, 1])
    reject(tmp_path, df, r"row 1: 'arch' 8:8:8:8:16 is index 1, but 'index' says 2",
           dataset="cifar10", subset=True)


def test_rejects_missing_columns(tmp_path):
    reject(tmp_path, pd.DataFrame({"arch": ["8:8:8:8:8"], "value": [1.0]}),
           r"needs a 'score' column", dataset="cifar10")
    reject(tmp_path, pd.DataFrame({"name": ["x"], "score": [1.0]}), r"needs an 'arch' column",
           dataset="cifar10")


def test_rejects_text_scores(tmp_path):
    reject(tmp_path, pd.DataFrame({"arch": ["8:8:8:8:8"], "score": ["high"]}),
           r"'score' column must be numbers", dataset="cifar10", subset=True)


def test_rejects_unknown_format_and_absent_file(tmp_path):
    (tmp_path / "s.xlsx").write_text("x")
    with pytest.raises(DataIntegrityError, match=r"give a \.csv or \.parquet file"):
        validate_scores("zico", tmp_path / "s.xlsx", "cifar10")
    with pytest.raises(DataIntegrityError, match="does not exist"):
        validate_scores("zico", tmp_path / "nope.csv", "cifar10")


def test_rejects_bad_and_builtin_names(tmp_path):
    reject(tmp_path, frame(1), r"lower-case identifier", name="ZiCo", dataset="cifar10")
    reject(tmp_path, frame(1), r"'ntk' is a built-in proxy", name="ntk", dataset="cifar10")


def test_rejects_all_missing(tmp_path):
    reject(tmp_path, pd.DataFrame({"index": [0], "score": [np.nan]}), r"no finite score",
           dataset="cifar10", subset=True, allow_missing=True)


def test_existing_name_is_kept_unless_replace(tmp_path):
    path = write(frame(), tmp_path / "z.csv")
    save_scores(validate_scores("zico", path, "cifar10"), path, tmp_path)
    before = (tmp_path / "proxies" / "zico.parquet").read_bytes()
    with pytest.raises(DataIntegrityError, match=r"already stored.*--replace"):
        save_scores(validate_scores("zico", path, "cifar100"), path, tmp_path)
    assert (tmp_path / "proxies" / "zico.parquet").read_bytes() == before
    save_scores(validate_scores("zico", path, "cifar100"), path, tmp_path, replace=True)
    assert list_stored(tmp_path)[0].datasets == {"cifar100": N}


def test_changed_store_file_is_refused(tmp_path):
    path = write(frame(), tmp_path / "z.csv")
    save_scores(validate_scores("zico", path, "cifar10"), path, tmp_path)
    stored = tmp_path / "proxies" / "zico.parquet"
    stored.write_bytes(stored.read_bytes() + b"x")
    with pytest.raises(DataIntegrityError, match="changed since it was stored"):
        load_stored("zico", "cifar10", tmp_path)


def test_absent_dataset_of_a_stored_proxy(tmp_path):
    path = write(frame(), tmp_path / "z.csv")
    save_scores(validate_scores("zico", path, "cifar10"), path, tmp_path)
    with pytest.raises(ProxyMissingError, match="no scores on cifar100"):
        load_stored("zico", "cifar100", tmp_path)


def test_cli_add_and_list(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NAS_HARNESS_CACHE", str(tmp_path / "cache"))
    path = write(frame(), tmp_path / "zico.csv")
    assert main(["proxies", "add", "zico", str(path), "-d", "cifar10"]) == 0
    assert "stored proxy zico (cifar10: 32768 architectures)" in capsys.readouterr().out
    assert main(["proxies", "list"]) == 0
    out = capsys.readouterr().out
    assert "zico     cifar10 (32768)" in out and str(path.resolve()) in out
    assert main(["proxies", "add", "zico", str(path), "-d", "mnist"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
