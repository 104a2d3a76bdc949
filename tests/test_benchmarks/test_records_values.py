"""Run records by value: the incumbent column, a sidecar's counts, the Parquet writer settings.

Every expected value is written out by hand from a small trajectory (synthetic values).
"""

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nas_harness.benchmarks import records as rec
from nas_harness.benchmarks.space import SSS


def _trajectory(feasible, duplicate, valid, test=None, index=None):
    """A trajectory of ``len(feasible)`` queries whose incumbent columns follow the rule."""
    n = len(feasible)
    index = np.arange(100, 100 + n) if index is None else np.asarray(index)
    valid = np.asarray(valid, dtype=float)
    feasible = np.asarray(feasible, dtype=bool)
    inc = rec.incumbents(index, valid, feasible)
    test_of = dict(zip(index.tolist(), (test if test is not None else valid + 1.0), strict=True))
    inc_test = np.array([test_of.get(int(i), np.nan) if i >= 0 else np.nan for i in inc.index])
    cols = {"run_id": rec.repeated_string("cifar10/evolution/003", n),
            "algorithm": rec.repeated_string("evolution", n),
            "dataset": rec.repeated_string("cifar10", n), "run": np.full(n, 3),
            "query": np.arange(1, n + 1), "arch_index": index, "arch": rec.arch_strings(index),
            "flops": np.linspace(1.0, 2.0, n), "params": np.arange(n) * 10,
            "feasible": feasible, "duplicate": np.asarray(duplicate, dtype=bool),
            "valid_acc": valid, "incumbent_index": inc.index, "incumbent_valid_acc":
            inc.valid_acc, "incumbent_test_acc": inc_test, "elapsed_s": np.full(n, np.nan)}
    return rec.table_from_columns(cols)


# -- the incumbent ------------------------------------------------------------------------------

def test_the_first_query_is_the_incumbent_when_feasible():
    inc = rec.incumbents(np.array([7, 8]), np.array([5.0, 4.0]), np.array([True, True]))
    assert inc.index.tolist() == [7, 7] and inc.valid_acc.tolist() == [5.0, 5.0]


def test_no_feasible_query_leaves_no_incumbent():
    inc = rec.incumbents(np.array([7, 8, 9]), np.array([5.0, 6.0, 7.0]), np.zeros(3, bool))
    assert inc.index.tolist() == [-1, -1, -1] and inc.index.dtype == np.int64
    assert np.isnan(inc.valid_acc).all()


def test_the_incumbent_follows_every_strict_improvement_at_its_own_query():
    inc = rec.incumbents(np.array([10, 11, 12, 13, 14, 15]),
                         np.array([1.0, 3.0, 2.0, 3.0, 4.0, -5.0]),
                         np.array([True, True, True, True, True, True]))
    assert inc.index.tolist() == [10, 11, 11, 11, 14, 14]
    assert inc.valid_acc.tolist() == [1.0, 3.0, 3.0, 3.0, 4.0, 4.0]


def test_negative_and_infinite_accuracies_are_compared_as_numbers():
    inc = rec.incumbents(np.array([1, 2, 3]), np.array([-np.inf, -7.0, np.inf]),
                         np.array([True, True, True]))
    # -inf feasible is no improvement over "nothing yet"; -7 is, then +inf
    assert inc.index.tolist() == [-1, 2, 3]
    assert np.isnan(inc.valid_acc[0]) and inc.valid_acc[1:].tolist() == [-7.0, np.inf]


def test_a_single_query_log():
    one = rec.incumbents(np.array([4]), np.array([0.5]), np.array([True]))
    assert one.index.tolist() == [4] and one.valid_acc.tolist() == [0.5]
    none = rec.incumbents(np.array([4]), np.array([0.5]), np.array([False]))
    assert none.index.tolist() == [-1] and np.isnan(none.valid_acc[0])


# -- a sidecar's summary ------------------------------------------------------------------------

def test_summary_counts_feasible_and_duplicate_queries_and_reads_the_last_incumbent():
    t = _trajectory(feasible=[True, False, True, True, False],
                    duplicate=[False, False, True, True, True],
                    valid=[70.0, 99.0, 72.0, 71.0, 80.0],
                    test=[60.0, 90.0, 62.0, 61.0, 85.0])
    assert rec.summary(t) == {"queries": 5, "feasible": 3, "duplicates": 3,
                              "incumbent_index": 102, "incumbent_valid_acc": 72.0,
                              "incumbent_test_acc": 62.0}


def test_summary_reads_the_incumbent_after_the_last_query_not_the_one_before():
    t = _trajectory(feasible=[True, True, True], duplicate=[False, False, False],
                    valid=[1.0, 2.0, 3.0], test=[11.0, 12.0, 13.0])
    got = rec.summary(t)
    assert (got["incumbent_index"], got["incumbent_valid_acc"], got["incumbent_test_acc"]) == \
        (102, 3.0, 13.0)


def test_summary_without_a_feasible_query_has_no_incumbent():
    t = _trajectory(feasible=[False, False], duplicate=[False, True], valid=[5.0, 6.0])
    assert rec.summary(t) == {"queries": 2, "feasible": 0, "duplicates": 1,
                              "incumbent_index": -1, "incumbent_valid_acc": None,
                              "incumbent_test_acc": None}


def test_summary_of_a_table_without_test_accuracies_says_none():
    t = _trajectory(feasible=[True], duplicate=[False], valid=[5.0], test=[np.nan])
    got = rec.summary(t)
    assert got["incumbent_valid_acc"] == 5.0 and got["incumbent_test_acc"] is None


def test_summary_of_an_empty_trajectory():
    t = _trajectory(feasible=[], duplicate=[], valid=[])
    assert rec.summary(t) == {"queries": 0, "feasible": 0, "duplicates": 0,
                              "incumbent_index": -1, "incumbent_valid_acc": None,
                              "incumbent_test_acc": None}


# -- the Parquet form ---------------------------------------------------------------------------

def test_the_writer_settings_are_the_fixed_ones():
    assert rec.PARQUET_OPTIONS == {"compression": "snappy", "use_dictionary": True,
                                   "write_statistics": True, "version": "2.6",
                                   "data_page_version": "1.0", "store_schema": True}


def test_the_file_carries_the_writer_settings():
    t = _trajectory(feasible=[True, False, True, True], duplicate=[False, False, True, False],
                    valid=[1.0, 2.0, 3.0, 0.5])
    data = rec.to_parquet_bytes(t)
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    assert meta.format_version == "2.6" and meta.num_rows == 4
    group = meta.row_group(0)
    names = [group.column(i).path_in_schema for i in range(group.num_columns)]
    assert names == list(rec.TRAJECTORY_COLUMNS)
    for i in range(group.num_columns):
        col = group.column(i)
        assert col.compression == "SNAPPY", col.path_in_schema
        assert col.is_stats_set and col.statistics.num_values == 4, col.path_in_schema
    assert group.column(names.index("query")).statistics.min == 1
    assert group.column(names.index("query")).statistics.max == 4
    dictionary = {group.column(i).path_in_schema for i in range(group.num_columns)
                  if group.column(i).has_dictionary_page}
    assert {"run_id", "algorithm", "dataset", "arch"} <= dictionary
    assert b"ARROW:schema" in meta.metadata  # the Arrow schema is stored
    arrow_meta = pq.read_schema(io.BytesIO(data))
    assert arrow_meta.equals(rec.TRAJECTORY_SCHEMA)
    back = pq.ParquetFile(io.BytesIO(data)).read()
    assert back.drop_columns(["elapsed_s"]).equals(t.drop_columns(["elapsed_s"]))  # NaN != NaN
    # data page version 1: the pages are DataPage (v1), not DataPageV2
    pages = _thrift_page_types(data)
    assert pages and all(p == "DATA_PAGE" for p in pages)


def _thrift_page_types(data):
    """Page types from each column chunk's first page header (Thrift compact field 1)."""
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    out = []
    group = meta.row_group(0)
    for i in range(group.num_columns):
        col = group.column(i)
        start = col.data_page_offset
        # PageHeader field 1 (type, i32) is encoded as 0x15 then a zigzag varint
        assert data[start] == 0x15, col.path_in_schema
        kind = data[start + 1] >> 1
        out.append({0: "DATA_PAGE", 3: "DATA_PAGE_V2"}.get(kind, str(kind)))
    return out


def test_the_same_table_gives_the_same_bytes_and_other_settings_other_bytes():
    t = _trajectory(feasible=[True, True], duplicate=[False, True], valid=[1.0, 2.0])
    data = rec.to_parquet_bytes(t)
    assert data == rec.to_parquet_bytes(t)
    sink = io.BytesIO()
    pq.write_table(t, sink, **{**rec.PARQUET_OPTIONS, "compression": "zstd"})
    assert sink.getvalue() != data


def test_a_table_with_another_schema_or_metadata_is_refused():
    t = _trajectory(feasible=[True], duplicate=[False], valid=[1.0])
    with pytest.raises(ValueError, match="exactly TRAJECTORY_SCHEMA"):
        rec.to_parquet_bytes(t.replace_schema_metadata({"pandas": "{}"}))
    with pytest.raises(ValueError, match="exactly TRAJECTORY_SCHEMA"):
        rec.to_parquet_bytes(t.drop_columns(["elapsed_s"]))


# -- columns built from buffers -----------------------------------------------------------------

def test_arrow_columns_hold_the_values_and_types():
    assert rec.arrow_column(np.array([3, -1, 2**40]), pa.int64()).to_pylist() == [3, -1, 2**40]
    assert rec.arrow_column(np.array([0.5, -2.0]), pa.float64()).to_pylist() == [0.5, -2.0]
    bits = [True, False, False, True, True, False, True, False, True]
    col = rec.arrow_column(np.array(bits), pa.bool_())
    assert col.to_pylist() == bits and col.type == pa.bool_() and col.null_count == 0
    # ints given for a float column are converted, not reinterpreted
    assert rec.arrow_column(np.array([1, 2]), pa.float64()).to_pylist() == [1.0, 2.0]


def test_strings_and_repeated_strings():
    assert rec.string_column(["16:8:8:8:8", "", "é"]).to_pylist() == ["16:8:8:8:8", "", "é"]
    assert rec.repeated_string("ab", 3).to_pylist() == ["ab", "ab", "ab"]
    assert rec.repeated_string("ab", 0).to_pylist() == []
    assert rec.repeated_string("", 2).to_pylist() == ["", ""]


def test_arch_strings_are_the_space_s_names_by_index():
    index = np.array([0, 1, 8, SSS.size - 1, 12345])
    assert rec.arch_strings(index).to_pylist() == SSS.format_many(index)
    assert rec.arch_strings(np.array([0, SSS.size - 1])).to_pylist() == \
        ["8:8:8:8:8", "64:64:64:64:64"]


def test_table_from_columns_takes_numpy_and_arrow_columns_in_schema_order():
    t = _trajectory(feasible=[True, False], duplicate=[True, False], valid=[3.0, 4.0],
                    index=[5, 9])
    assert t.schema.equals(rec.TRAJECTORY_SCHEMA)
    assert t.column("arch_index").to_pylist() == [5, 9]
    assert t.column("arch").to_pylist() == SSS.format_many(np.array([5, 9]))
    assert t.column("feasible").to_pylist() == [True, False]
    assert t.column("duplicate").to_pylist() == [True, False]
    assert t.column("query").to_pylist() == [1, 2]
    assert t.column("incumbent_index").to_pylist() == [5, 5]


def test_summary_of_the_first_architecture_as_incumbent_and_no_duplicates():
    t = _trajectory(feasible=[True, True], duplicate=[False, False], valid=[9.0, 1.0],
                    test=[8.0, 0.0], index=[0, 5])
    assert rec.summary(t) == {"queries": 2, "feasible": 2, "duplicates": 0,
                              "incumbent_index": 0, "incumbent_valid_acc": 9.0,
                              "incumbent_test_acc": 8.0}


def test_the_writer_is_given_the_fixed_settings_not_pyarrow_s_defaults(monkeypatch):
    # pyarrow's defaults equal these today; they are pinned so a pyarrow upgrade that changes
    # a default cannot change the files
    seen = []
    write = pq.write_table

    def spy(table, sink, **kwargs):
        seen.append(kwargs)
        return write(table, sink, **kwargs)

    monkeypatch.setattr(pq, "write_table", spy)
    rec.to_parquet_bytes(_trajectory(feasible=[True], duplicate=[False], valid=[1.0]))
    assert seen == [rec.PARQUET_OPTIONS]


def test_a_bool_column_from_numbers_is_their_truth_value():
    col = rec.arrow_column(np.array([0.0, 1.0, 2.5, -1.0, 0.0]), pa.bool_())
    assert col.to_pylist() == [False, True, True, True, False]
    assert rec.arrow_column(np.array([0, 3, 0]), pa.bool_()).to_pylist() == [False, True, False]
