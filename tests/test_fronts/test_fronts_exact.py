"""Exact fronts: against brute force on small synthetic tables, the CLI, and bad input."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nas_harness.benchmarks.errors import UnknownNameError
from nas_harness.benchmarks.fronts import exact_front, pareto_mask, pareto_order
from nas_harness.benchmarks.space import SearchSpace
from nas_harness.benchmarks.table import DatasetTable
from nas_harness.cli.fronts import front_csv
from nas_harness.cli.main import main


def brute_force(cost: np.ndarray, acc: np.ndarray) -> set[int]:
    """Non-dominated positions by the definition; identical pairs keep the lowest position."""
    keep = set()
    for i in range(len(cost)):
        dominated = False
        for j in range(len(cost)):
            if j == i:
                continue
            better_or_equal = cost[j] <= cost[i] and acc[j] >= acc[i]
            strictly = cost[j] < cost[i] or acc[j] > acc[i]
            identical_earlier = cost[j] == cost[i] and acc[j] == acc[i] and j < i
            if (better_or_equal and strictly) or identical_earlier:
                dominated = True
                break
        if not dominated:
            keep.add(i)
    return keep


# few distinct values so that ties in cost, in accuracy and in both are common
small_values = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=0, max_size=40)


@given(small_values)
def test_pareto_mask_is_the_brute_force_set(points: list[tuple[int, int]]) -> None:
    cost = np.array([p[0] for p in points], dtype=float)
    acc = np.array([p[1] for p in points], dtype=float)
    assert set(np.flatnonzero(pareto_mask(cost, acc)).tolist()) == brute_force(cost, acc)
    order = pareto_order(cost, acc)
    assert np.all(np.diff(cost[order]) > 0)       # sorted by cost, one point per cost
    assert np.all(np.diff(acc[order]) > 0)        # and so strictly more accurate


def test_nan_rows_are_never_on_the_front() -> None:
    cost = np.array([1.0, 0.5, 2.0])
    acc = np.array([50.0, np.nan, 60.0])
    assert pareto_order(cost, acc).tolist() == [0, 2]


def synthetic_table(seed: int, space: SearchSpace) -> DatasetTable:
    """A SYNTHETIC table over a small space (invented numbers, for tests only)."""
    rng = np.random.default_rng(seed)
    n = space.size
    flops = rng.integers(1, 12, size=n).astype(float)        # many equal costs
    params = rng.integers(100, 110, size=n)
    valid = rng.integers(50, 60, size=n).astype(float)       # many equal accuracies
    test = valid + rng.integers(-2, 3, size=n)
    available = np.ones(n, dtype=bool)
    available[rng.integers(0, n)] = False
    return DatasetTable("cifar10", valid, test, params, flops, available)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("split", ["valid", "test"])
@pytest.mark.parametrize("cost", ["flops", "params"])
def test_exact_front_of_a_synthetic_table(seed: int, split: str, cost: str) -> None:
    space = SearchSpace(options=((1, 2, 3), (1, 2, 3, 4), (5, 6)))
    table = synthetic_table(seed, space)
    front = exact_front(table, split=split, cost=cost)
    c = getattr(table, cost).astype(float)
    a = np.where(table.available, table.valid_acc if split == "valid" else table.test_acc,
                 np.nan)
    usable = np.flatnonzero(table.available)
    expected = {int(usable[i]) for i in brute_force(c[usable], a[usable])}
    assert set(front.index.tolist()) == expected
    assert np.array_equal(front.cost, c[front.index])
    assert np.array_equal(front.accuracy, a[front.index])
    rows = front.rows(space)
    assert [space.parse(r[0]) for r in rows] == front.index.tolist()


def test_csv_columns_and_number_format() -> None:
    text = front_csv([("8:8:8:8:8", 1.5, 80.25), ("8:8:8:8:16", 2.0, 81.0)], "flops")
    assert text == "arch,flops,accuracy\n8:8:8:8:8,1.5,80.25\n8:8:8:8:16,2.0,81.0\n"
    text = front_csv([("8:8:8:8:8", 1234.0, 80.25)], "params")
    assert text.splitlines()[1] == "8:8:8:8:8,1234,80.25"


@pytest.mark.parametrize("argv, message", [
    (["front", "-d", "cifar10", "--cost", "latency"], "unknown cost 'latency'"),
    (["front", "-d", "cifar10", "--split", "train"], "unknown split 'train'"),
])
def test_bad_names_are_one_line(argv: list[str], message: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_check_names_raise_unknown_name() -> None:
    from nas_harness.benchmarks.fronts import check_cost, check_split

    with pytest.raises(UnknownNameError):
        check_cost("FLOPS")
    with pytest.raises(UnknownNameError):
        check_split("")


def test_cli_front_matches_the_api(table, tmp_path, monkeypatch) -> None:
    from nas_harness.benchmarks.data import store

    monkeypatch.setattr(store, "load_table", lambda *a, **k: table)
    out = tmp_path / "front.csv"
    out.write_text("old\n")
    assert main(["front", "-d", "cifar100", "--split", "valid", "--cost", "params",
                 "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    front = exact_front(table["cifar100"], split="valid", cost="params")
    assert [r["arch"] for r in rows] == [r[0] for r in front.rows()]
    assert [int(r["params"]) for r in rows] == front.cost.astype(int).tolist()
    assert [float(r["accuracy"]) for r in rows] == front.accuracy.tolist()
    # the cheapest architecture is on every front, the most accurate one ends it
    full = table["cifar100"]
    assert front.index[0] == int(np.argmin(full.params))
    assert front.accuracy[-1] == np.nanmax(full.valid_acc)


def test_cli_out_in_a_missing_folder_is_one_line(tmp_path, capsys) -> None:
    assert main(["front", "-d", "cifar10", "--out", str(tmp_path / "no" / "f.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "does not exist" in err
