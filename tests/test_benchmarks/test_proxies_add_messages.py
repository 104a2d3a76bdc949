"""Bring-your-own score files by value: each rejection's exact line, each accepted column.

Score files here are synthetic (invented numbers), written small with ``subset=True``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nas_harness.benchmarks.errors import DataIntegrityError
from nas_harness.benchmarks.proxies.user_scores import validate_scores
from nas_harness.benchmarks.space import SSS


def _csv(tmp_path, df: pd.DataFrame, name: str = "s.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def _message(path, dataset="cifar10", **kw) -> str:
    with pytest.raises(DataIntegrityError) as err:
        validate_scores("zico", path, dataset, **kw)
    return str(err.value)


def test_duplicate_names_the_duplicated_architecture_and_its_count(tmp_path):
    df = pd.DataFrame({"index": [0, 1, 2, 2, 2], "score": [1.0, 2.0, 3.0, 4.0, 5.0]})
    assert _message(_csv(tmp_path, df), subset=True) == (
        f"s.csv (cifar10): architecture {SSS.format(2)} (index 2) appears 3 times; keep one "
        "row per architecture")


def test_nan_message_names_file_and_dataset(tmp_path):
    df = pd.DataFrame({"index": [4, 9], "score": [1.0, np.nan]})
    assert _message(_csv(tmp_path, df), subset=True) == (
        f"s.csv (cifar10): 1 NaN/inf score(s), first for {SSS.format(9)}; fix them, or "
        "declare them missing with --allow-missing")


def test_fractional_index_column(tmp_path):
    df = pd.DataFrame({"index": [0, np.nan], "score": [1.0, 2.0]})
    assert _message(_csv(tmp_path, df), subset=True) == (
        "s.csv: the 'index' column must hold integers (an empty cell or a fraction in it?)")


def test_index_one_past_the_end(tmp_path):
    df = pd.DataFrame({"index": [SSS.size - 1, SSS.size], "score": [1.0, 2.0]})
    assert _message(_csv(tmp_path, df), subset=True) == (
        "s.csv: index 32768 (row 1) is outside 0..32767")
    df = pd.DataFrame({"index": [SSS.size - 1, 0], "score": [1.0, 2.0]})
    scores = validate_scores("zico", _csv(tmp_path, df), "cifar10", subset=True)
    assert scores.columns["cifar10"][SSS.size - 1] == 1.0


def test_bad_architecture_names_the_file(tmp_path):
    df = pd.DataFrame({"arch": ["8:8:8:8:8", "8:8:8:8:9"], "score": [1.0, 2.0]})
    assert _message(_csv(tmp_path, df), subset=True).startswith("s.csv: row 1: ")


def test_agreeing_arch_and_index_columns_are_accepted(tmp_path):
    idx = np.array([7, 3, 100])
    df = pd.DataFrame({"arch": SSS.format_many(idx), "index": idx, "score": [0.5, 1.5, 2.5]})
    col = validate_scores("zico", _csv(tmp_path, df), "cifar10", subset=True).columns["cifar10"]
    assert col[7] == 0.5 and col[3] == 1.5 and col[100] == 2.5
    assert int(np.isfinite(col).sum()) == 3


def test_no_suffix(tmp_path):
    path = tmp_path / "scores"
    path.write_text("index,score\n0,1\n")
    assert _message(path) == "scores: unknown format (no suffix); give a .csv or .parquet file"


def test_unreadable_parquet_quotes_the_reader_error(tmp_path):
    path = tmp_path / "s.parquet"
    path.write_text("not a parquet file")
    try:
        pd.read_parquet(path)
    except Exception as exc:  # the reader's own words, cut at 120 characters
        reason = f"{type(exc).__name__}: {str(exc)[:120]}"
        assert len(str(exc)) > 120
    assert _message(path) == f"s.parquet is not a readable parquet file ({reason})"


def test_missing_score_column_lists_the_columns(tmp_path):
    df = pd.DataFrame({"arch": ["8:8:8:8:8"], "value": [1.0]})
    assert _message(_csv(tmp_path, df)) == (
        "s.csv: needs a 'score' column (larger = better); it has arch, value")


def test_no_rows(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("index,score\n")
    assert _message(path) == "s.csv: has no rows"


def test_unknown_dataset_in_the_column_names_the_file(tmp_path):
    df = pd.DataFrame({"index": [0], "score": [1.0], "dataset": ["svhn"]})
    assert _message(_csv(tmp_path, df), None, subset=True).startswith(
        "s.csv: unknown dataset 'svhn'")


def test_each_dataset_gets_its_own_rows(tmp_path):
    df = pd.DataFrame({"index": [0, 1, 0, 1], "score": [1.0, 2.0, 30.0, 40.0],
                       "dataset": ["cifar10", "cifar10", "cifar100", "cifar100"]})
    scores = validate_scores("zico", _csv(tmp_path, df), subset=True)
    assert scores.columns["cifar10"][:2].tolist() == [1.0, 2.0]
    assert scores.columns["cifar100"][:2].tolist() == [30.0, 40.0]
    assert all(type(ds) is str for ds in scores.columns)


def test_record_fields_and_integer_scores(tmp_path):
    df = pd.DataFrame({"index": [5, 6], "score": [3, 4]})
    scores = validate_scores("zico", _csv(tmp_path, df), "c10", subset=True)
    assert scores.name == "zico" and scores.subset is True and scores.allow_missing is False
    assert [type(ds) for ds in scores.columns] == [str]
    col = scores.columns["cifar10"]
    assert col.dtype == np.float64 and col[5] == 3.0 and col[6] == 4.0
    scores = validate_scores("zico", _csv(tmp_path, df), "c10", subset=True, allow_missing=True)
    assert scores.allow_missing is True
