"""The fronts experiment gives the same bytes whatever the worker count (real table, tiny run)."""

from __future__ import annotations

from pathlib import Path

from test_fronts_budgets import TOML

from nas_harness.fronts import load_fronts, run_fronts

FILES = ("hv.csv", "hv_valid.csv", "igd.csv", "budgets.csv", "hv_tests.csv", "budget_tests.csv")


def _results(root: Path, workers: int) -> dict[str, bytes]:
    root.mkdir()
    (root / "fronts.toml").write_text(TOML)
    run_fronts(load_fronts(root / "fronts.toml"), workers=workers, progress=False)
    return {name: (root / "out" / name).read_bytes() for name in FILES}


def test_one_worker_and_two_workers_write_the_same_bytes(tmp_path: Path, table) -> None:
    one = _results(tmp_path / "one", workers=1)
    two = _results(tmp_path / "two", workers=2)
    assert one == two
    assert all(len(data) > 40 for data in one.values())  # header and rows, not empty files
