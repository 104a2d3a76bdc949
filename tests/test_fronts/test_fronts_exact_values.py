"""Exact fronts by value: the rows, the record's fields, integer and list inputs, bad shapes."""

from __future__ import annotations

import numpy as np
import pytest

from nas_harness.benchmarks.fronts import Front, exact_front, pareto_mask, pareto_order
from nas_harness.benchmarks.space import SearchSpace
from nas_harness.benchmarks.table import DatasetTable

SPACE = SearchSpace(options=((1, 2), (3, 4)))


def tiny_table() -> DatasetTable:
    """A SYNTHETIC 4-architecture table (invented numbers, for tests only); integer columns."""
    valid = np.array([50.0, 60.0, 55.0, 70.0])
    test = np.array([51.0, 61.0, 66.0, 71.0])
    params = np.array([10, 20, 30, 40], dtype=np.int64)
    flops = np.array([1.5, 2.5, 2.0, 4.0])
    return DatasetTable("cifar100", valid, test, params, flops, np.ones(4, dtype=bool))


def test_front_fields_and_rows_by_value() -> None:
    front = exact_front(tiny_table(), split="test", cost="params")
    assert (front.dataset, front.split, front.cost_name) == ("cifar100", "test", "params")
    assert front.index.dtype == np.int64 and front.index.tolist() == [0, 1, 2, 3]
    assert front.cost.dtype == np.float64 and front.cost.tolist() == [10.0, 20.0, 30.0, 40.0]
    assert front.accuracy.tolist() == [51.0, 61.0, 66.0, 71.0]
    rows = front.rows(SPACE)
    assert rows == [("1:3", 10.0, 51.0), ("1:4", 20.0, 61.0), ("2:3", 30.0, 66.0),
                    ("2:4", 40.0, 71.0)]
    assert all(type(r[1]) is float and type(r[2]) is float for r in rows)
    assert len(front) == 4


def test_valid_split_and_flops_cost() -> None:
    front = exact_front(tiny_table(), split="valid", cost="flops")
    assert (front.split, front.cost_name) == ("valid", "flops")
    # flops 1.5 (50), 2.0 (55), 2.5 (60), 4.0 (70): every one on the front, cost ascending
    assert front.index.tolist() == [0, 2, 1, 3]
    assert front.rows(SPACE)[1] == ("2:3", 2.0, 55.0)


def test_default_split_and_cost_are_test_and_flops() -> None:
    front = exact_front(tiny_table())
    assert (front.split, front.cost_name) == ("test", "flops")
    # test accuracy: 2.0 -> 66 dominates 2.5 -> 61
    assert front.index.tolist() == [0, 2, 3]


def test_rows_with_the_default_space() -> None:
    front = Front("cifar10", "test", "flops", np.array([0, 32767]), np.array([1.0, 2.0]),
                  np.array([3.0, 4.0]))
    assert front.rows() == [("8:8:8:8:8", 1.0, 3.0), ("64:64:64:64:64", 2.0, 4.0)]


def test_integer_inputs_give_the_float_front() -> None:
    cost = np.array([3, 1, 2, 1, 5], dtype=np.int64)
    acc = np.array([9, 4, 7, 4, 8], dtype=np.uint8)   # unsigned: negating it would wrap
    expected = pareto_mask(cost.astype(float), acc.astype(float))
    assert expected.tolist() == [True, True, True, False, False]
    assert pareto_mask(cost, acc).tolist() == expected.tolist()
    assert pareto_order(cost, acc).tolist() == [1, 2, 0]


def test_list_inputs_with_none_are_missing() -> None:
    # None in a Python list is a missing value, read as NaN
    assert pareto_mask([1.0, None, 2.0], [5.0, 9.0, None]).tolist() == [True, False, False]
    assert pareto_order([2.0, None, 1.0], [5.0, 9.0, 4.0]).tolist() == [2, 0]


def test_costs_given_as_numeric_strings_sort_as_numbers() -> None:
    # a column read from text: "10" is more than "9" by value, not by spelling
    assert pareto_order(["10", "9"], [2.0, 1.0]).tolist() == [1, 0]
    assert pareto_mask(["10", "9"], ["2", "1"]).tolist() == [True, True]


def test_equal_points_keep_the_first_and_equal_costs_the_most_accurate() -> None:
    cost = np.array([2.0, 1.0, 1.0, 1.0, 2.0])
    acc = np.array([8.0, 5.0, 6.0, 6.0, 8.0])
    assert np.flatnonzero(pareto_mask(cost, acc)).tolist() == [0, 2]
    assert pareto_order(cost, acc).tolist() == [2, 0]


@pytest.mark.parametrize("cost, acc", [
    (np.zeros(3), np.zeros(4)),
    (np.zeros((2, 2)), np.zeros((2, 2))),
    (np.zeros(()), np.zeros(())),
])
def test_bad_shapes_are_one_clear_line(cost: np.ndarray, acc: np.ndarray) -> None:
    with pytest.raises(ValueError, match="must be 1-D of equal length"):
        pareto_mask(cost, acc)


def test_bad_shape_message_names_both_shapes() -> None:
    with pytest.raises(ValueError) as err:
        pareto_mask(np.zeros(3), np.zeros(4))
    assert str(err.value) == "cost and accuracy must be 1-D of equal length, got (3,), (4,)"


def test_empty_input_has_an_empty_front() -> None:
    assert pareto_mask(np.zeros(0), np.zeros(0)).tolist() == []
    assert pareto_order(np.zeros(0), np.zeros(0)).tolist() == []


def test_the_mask_is_boolean() -> None:
    mask = pareto_mask(np.array([1.0, 2.0, 3.0]), np.array([2.0, 1.0, 3.0]))
    assert mask.dtype == np.bool_
    assert np.array([10, 20, 30])[mask].tolist() == [10, 30]


def test_rows_of_a_front_with_columns_of_different_length_is_an_error() -> None:
    front = Front("cifar10", "test", "flops", np.array([0, 1]), np.array([1.0]),
                  np.array([3.0, 4.0]))
    with pytest.raises(ValueError):
        front.rows(SPACE)


def test_rows_without_data_are_nan_in_the_float_accuracy() -> None:
    from nas_harness.benchmarks.fronts import accuracy_column

    table = tiny_table()
    table = DatasetTable(table.dataset, table.valid_acc, table.test_acc, table.params,
                         table.flops, np.array([True, False, True, True]))
    column = accuracy_column(table, "valid")
    assert column.dtype == np.float64
    assert np.isnan(column[1]) and column[[0, 2, 3]].tolist() == [50.0, 55.0, 70.0]
    front = exact_front(table, split="valid", cost="params")
    assert front.index.tolist() == [0, 2, 3] and front.accuracy.dtype == np.float64
