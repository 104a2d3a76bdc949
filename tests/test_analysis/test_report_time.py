"""A sweep under a budget in simulated seconds is reported on the simulated clock.

Every table here is SYNTHETIC: ``nas_harness.analysis.testing.synthetic_table`` (builder
``synthetic-test``) plus made-up hp=12 accuracies and times, so the report can be checked
against independent expectations without the benchmark data (the last test, end to end
through ``reproduce``, uses the synthetic official-format table and so the public data).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nas_harness.analysis.metrics.aggregate import SUMMARY_COLUMNS, TIME_SUMMARY_COLUMNS
from nas_harness.analysis.metrics.criteria import CRITERIA_COLUMNS, TIME_CRITERIA_COLUMNS
from nas_harness.analysis.metrics.references import references
from nas_harness.analysis.metrics.time_axis import TimeAxis, budget_curves
from nas_harness.analysis.plots.curves import TIME_LABEL, plot_curves
from nas_harness.analysis.report import analyse, build_report
from nas_harness.analysis.runs import load_results
from nas_harness.analysis.testing import hand_trajectory, synthetic_table
from nas_harness.benchmarks.errors import DataNotFoundError, ProtocolError
from nas_harness.benchmarks.table import BenchmarkTable
from nas_harness.sweep import SweepSpec, run_sweep

BUDGETS = {"cifar10": 600.0, "cifar100": 900.0}
CAP = 100  # query cap: 100 x the fastest query (20 s) >= either time budget
RUNS = 3
ALGORITHMS = ("random", "evolution")


def hp12_synthetic(seed: int = 0) -> BenchmarkTable:
    """SYNTHETIC: the analysis test table plus hp=12 accuracies (3 seeds) and 20-60 s times."""
    base = synthetic_table(seed)
    rng = np.random.default_rng(seed + 100)
    tables = {}
    for name in base.names:
        t = base[name]
        n = len(t.valid_acc)
        tables[name] = dataclasses.replace(
            t, hp12_valid_acc=t.valid_acc[:, None] - 9.0 + rng.normal(0, 0.5, (n, 3)),
            hp12_time=np.round(rng.uniform(20.0, 60.0, (n, 1)) + np.arange(3) * 2.0, 3))
    return BenchmarkTable(tables, base.provenance)


def _spec(budgets: dict[str, float], runs: int = RUNS) -> SweepSpec:
    return SweepSpec(algorithms=ALGORITHMS, datasets=tuple(budgets), runs=runs, budget=CAP,
                     fidelity="12", max_flops_fraction=None,
                     protocol_options={"budget_seconds": budgets})


@pytest.fixture(scope="module")
def table() -> BenchmarkTable:
    return hp12_synthetic()


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory, table) -> Path:
    out = tmp_path_factory.mktemp("timed")
    result = run_sweep(_spec(BUDGETS), out, workers=1, progress=False, table=table)
    assert result.ok, result.describe()
    return out


@pytest.fixture(scope="module")
def results(runs_dir, table):
    return load_results(runs_dir, table_checksum=table.provenance.checksum)


@pytest.fixture(scope="module")
def analysis(results, table):
    return analyse(results, table)


@pytest.fixture(scope="module")
def report(runs_dir, table, tmp_path_factory):
    return build_report(runs_dir, tmp_path_factory.mktemp("timed-report"), table=table)


def _value_at(rows: pd.DataFrame, t: float) -> float:
    """The incumbent of the last query that ended by ``t`` (a plain loop: the rule itself)."""
    value = np.nan
    for row in rows.sort_values("query").itertuples(index=False):
        if row.elapsed_s <= t:
            value = row.incumbent_test_acc
    return float(value)


def test_results_carry_the_time_budget_per_dataset(results) -> None:
    assert results.budget_seconds == BUDGETS
    for dataset, seconds in BUDGETS.items():
        protocol = results.protocol(dataset)
        assert protocol.budget_seconds == seconds and protocol.budget == CAP


def test_hand_checked_step_rule_on_two_dataset_grids() -> None:
    """Grids 25..100 s (cifar10) and 50..200 s (cifar100); values checked by hand."""
    c10 = hand_trajectory("c10", [np.nan, 91.0, 93.0, 94.0], run=0)
    c10["elapsed_s"] = [10.0, 30.0, 50.0, 99.0]
    c100 = hand_trajectory("c100", [70.0, 72.0], dataset="cifar100", run=0)
    c100["elapsed_s"] = [60.0, 160.0]
    axis = TimeAxis({"cifar10": 100.0, "cifar100": 200.0}, points=4)
    curves = budget_curves(pd.concat([c10, c100], ignore_index=True), axis)
    assert curves.runs["dataset"].tolist() == ["cifar10", "cifar100"]
    np.testing.assert_array_equal(curves["incumbent_test_acc"], [
        [np.nan, 93.0, 93.0, 94.0],  # t=25: only the infeasible query; t=50 sees 50's query
        [np.nan, 70.0, 70.0, 72.0],  # t=50: nothing ended yet; 72 arrives at 160 <= 200
    ])
    np.testing.assert_array_equal(axis.seconds("cifar100"), [50.0, 100.0, 150.0, 200.0])


def test_curves_are_on_each_datasets_clock_by_the_step_rule(results, analysis) -> None:
    traj = results.trajectories
    assert analysis.time_axis is not None
    for i, run in enumerate(analysis.axis.curves.runs.itertuples(index=False)):
        grid = analysis.time_axis.seconds(run.dataset)
        rows = traj[traj["run_id"] == run.run_id]
        assert rows["elapsed_s"].max() <= BUDGETS[run.dataset]
        for j in (0, 7, 39, 99, 150, 250, 399):  # grid point j is (j + 1) / 400 of the budget
            assert grid[j] == pytest.approx(BUDGETS[run.dataset] * (j + 1) / 400)
            expected = _value_at(rows, grid[j])
            got = analysis.axis.curves["incumbent_test_acc"][i, j]
            assert (np.isnan(expected) and np.isnan(got)) or got == expected
        # final = at the time budget = the run's last query
        assert analysis.final.iloc[i]["final_incumbent_test_acc"] == \
            rows.sort_values("query")["incumbent_test_acc"].iloc[-1]


def test_summary_table_is_on_the_time_grid(report, results) -> None:
    summary = pd.read_csv(report.summary_table)
    assert list(summary.columns[:3]) == ["dataset", "algorithm", "elapsed_s"]
    assert sorted(summary.columns) == sorted(TIME_SUMMARY_COLUMNS) and "query" not in summary
    traj = results.trajectories
    for (dataset, algorithm), part in summary.groupby(["dataset", "algorithm"]):
        times = part["elapsed_s"].to_numpy()
        assert len(times) == 400 and times.min() > 0 and times.max() == BUDGETS[dataset]
        assert (np.diff(times) > 0).all()
        runs = traj[(traj["dataset"] == dataset) & (traj["algorithm"] == algorithm)]
        t = float(times[199])  # half the budget, read independently from the trajectories
        values = [_value_at(rows, t) for _, rows in runs.groupby("run_id")]
        assert part["mean"].iloc[199] == pytest.approx(np.nanmean(values), rel=1e-6)  # %.6g
        assert part["n"].iloc[199] == int(np.sum(~np.isnan(values)))


def test_checkpoints_tests_and_ranks_are_at_fractions_of_the_time_budget(report,
                                                                          analysis) -> None:
    tables = {p.name: p for p in report.tables}
    checkpoints = pd.read_csv(tables["checkpoints.csv"])
    assert sorted(set(checkpoints["budget_fraction"])) == [0.1, 0.25, 0.5, 1.0]
    for row in checkpoints.itertuples(index=False):
        assert row.elapsed_s == pytest.approx(row.budget_fraction * BUDGETS[row.dataset])
    assert "10% of the time budget" in tables["checkpoints.md"].read_text()
    sig = pd.read_csv(tables["significance.csv"])
    assert list(sig.columns[:5]) == ["dataset", "algorithm_a", "algorithm_b", "elapsed_s",
                                     "budget_fraction"] and "query" not in sig
    at_budget = sig[sig["budget_fraction"] == 1.0]
    final = analysis.final
    for row in at_budget.itertuples(index=False):
        mine = final[(final["dataset"] == row.dataset) & (final["algorithm"] == row.algorithm_a)]
        assert row.elapsed_s == BUDGETS[row.dataset]
        assert row.mean_a == pytest.approx(mine["final_incumbent_test_acc"].mean())
    assert analysis.axis.stat_checkpoints == (40, 100, 200, 400)
    assert set(analysis.stats.ranks.columns) >= {"elapsed_s", "budget_fraction", "mean_rank"}


def test_criteria_efficiency_is_in_simulated_seconds(analysis, results, table) -> None:
    crit = analysis.criteria
    assert list(crit.columns) == list(TIME_CRITERIA_COLUMNS)
    traj = results.trajectories
    for row in crit.itertuples(index=False):
        optimal = references(table[row.dataset], results.protocol(row.dataset)).optimal_indices
        runs = traj[(traj["dataset"] == row.dataset) & (traj["algorithm"] == row.algorithm)]
        hits = []
        for _, rows in runs.groupby("run_id"):
            found = rows[rows["incumbent_index"].isin(optimal)].sort_values("query")
            hits.append(found["elapsed_s"].iloc[0] if len(found) else np.inf)
        assert row.seconds_to_optimum == np.median(hits)


def test_report_text_and_figure_say_seconds(report, analysis) -> None:
    text = report.summary.read_text()
    assert ("- **budget**: 600 simulated seconds per run on CIFAR-10, 900 on CIFAR-100 (" in text
            and f"at most {CAP} queries" in text)
    assert "- **checkpoints**: 10%, 25%, 50%, 100% of each dataset's time budget" in text
    assert "CIFAR-10 60, 150, 300, 600 s; CIFAR-100 90, 225, 450, 900 s" in text
    assert "efficiency: simulated seconds to optimum (median)" in text
    assert "- **axis**: queries, not seconds" in text  # the anytime section says its axis
    assert "over simulated training time" in text
    fig, _ = plot_curves(analysis.axis.summary, analysis.refs)
    for ax, dataset in zip(fig.axes, BUDGETS, strict=False):
        assert ax.get_xlabel() == TIME_LABEL and ax.get_xlim() == (0.0, BUDGETS[dataset])
        for line in ax.get_lines():
            xs = np.asarray(line.get_xdata(), dtype=float)
            if len(xs) > 2:  # an algorithm's mean line, not a reference line
                assert xs.min() > 0 and xs.max() == BUDGETS[dataset]


def _copy_with(runs_dir: Path, tmp_path: Path, where: str, seconds: float | None) -> Path:
    """A copy of the sweep with the time budget of every run under ``where`` edited."""
    out = tmp_path / "copy"
    shutil.copytree(runs_dir, out)
    for path in sorted((out / where).rglob("run-*.json")):
        record = json.loads(path.read_text())
        if seconds is None:
            record["protocol"].pop("budget_seconds")
        else:
            record["protocol"]["budget_seconds"] = seconds
        path.write_text(json.dumps(record))
    return out


def test_runs_with_mixed_time_budgets_are_refused(runs_dir, tmp_path, table) -> None:
    # random's runs on CIFAR-100 under 1200 s, evolution's under 900 s: one label each
    mixed = _copy_with(runs_dir, tmp_path, "cifar100/random", 1200.0)
    with pytest.raises(ProtocolError, match=r"cifar100 mix time budgets \(900 s, 1200 s\); a "
                                            "report puts one time budget per dataset"):
        load_results(mixed, table_checksum=table.provenance.checksum)


def test_a_time_budget_on_some_datasets_only_is_refused(runs_dir, tmp_path, table) -> None:
    part = _copy_with(runs_dir, tmp_path, "cifar100", None)
    with pytest.raises(ProtocolError, match="query budget on cifar100; a report uses one x-axis"):
        load_results(part, table_checksum=table.provenance.checksum)


def test_a_time_and_a_query_budget_on_one_dataset_are_refused(runs_dir, tmp_path,
                                                               table) -> None:
    mixed = _copy_with(runs_dir, tmp_path, "cifar10/evolution", None)
    with pytest.raises(ProtocolError, match=r"mix time budgets \(none \(a query budget\), "
                                            r"600 s\)"):
        load_results(mixed, table_checksum=table.provenance.checksum)


def test_a_query_budget_report_stays_on_queries(tmp_path, table) -> None:
    spec = SweepSpec(algorithms=ALGORITHMS, datasets=("cifar10",), runs=2, budget=20)
    assert run_sweep(spec, tmp_path / "runs", workers=1, progress=False, table=table).ok
    results = load_results(tmp_path / "runs", table_checksum=table.provenance.checksum)
    assert results.budget_seconds is None and results.protocol("cifar10").budget_seconds is None
    a = analyse(results, table, checkpoints=(10, 20))
    assert a.time_axis is None and list(a.axis.summary.columns) == list(SUMMARY_COLUMNS)
    assert list(a.criteria.columns) == list(CRITERIA_COLUMNS)
    report = build_report(tmp_path / "runs", tmp_path / "rep", table=table, checkpoints=(10, 20))
    text = report.summary.read_text()
    assert "- **budget**: 20 queries per run (each accuracy query costs 1; cost is free)" in text
    assert "simulated" not in text and "- **checkpoints**" not in text
    assert "| 10 queries | 20 queries |" in text
    assert list(pd.read_csv(report.summary_table).columns[:3]) == ["dataset", "algorithm",
                                                                   "query"]


def test_reproduce_natsbench_writes_a_time_axis_report(tmp_path, monkeypatch, capsys) -> None:
    """End to end on the SYNTHETIC official-format table (needs the public hp=90 data)."""
    from nas_harness.benchmarks.data import synthetic_archive as sa
    from nas_harness.benchmarks.data.store import clear_memo, load_table, save_table
    from nas_harness.cli import main

    try:
        public = load_table()
    except DataNotFoundError as exc:  # no public data: say why and skip
        pytest.skip(f"needs the public NATS-Bench table: {exc}")
    monkeypatch.setenv("NAS_HARNESS_CACHE", str(tmp_path / "cache"))
    clear_memo()
    try:
        save_table(sa.synthetic_table(sa.synthetic_values(public, seed=1)), tmp_path / "cache")
        code = main(["reproduce", "--out", str(tmp_path / "runs"), "--report-dir",
                     str(tmp_path / "rep"), "--no-progress", "--workers", "1", "--protocol",
                     "natsbench", "--allow-synthetic", "--runs", "2", "--budget-seconds",
                     "cifar10=1000,cifar100=1500,ImageNet16-120=2500"])
        assert code == 0, capsys.readouterr().err
        again = main(["report", "--runs-dir", str(tmp_path / "runs"), "--out",
                      str(tmp_path / "rep2"), "--no-progress", "--time-checkpoints", "0.5,1"])
    finally:
        clear_memo()
    assert again == 0, capsys.readouterr().err
    chosen = pd.read_csv(tmp_path / "rep2" / "tables" / "checkpoints.csv")
    assert sorted(set(chosen["budget_fraction"])) == [0.5, 1.0]
    summary = pd.read_csv(tmp_path / "rep" / "tables" / "summary.csv")
    assert "elapsed_s" in summary.columns and "query" not in summary.columns
    limits = summary.groupby("dataset")["elapsed_s"].max().to_dict()
    assert limits == {"cifar10": 1000.0, "cifar100": 1500.0, "ImageNet16-120": 2500.0}
    text = (tmp_path / "rep" / "summary.md").read_text()
    assert "1000 simulated seconds per run on CIFAR-10, 1500 on CIFAR-100, 2500 on " \
           "ImageNet16-120" in text and "SYNTHETIC" in text


@pytest.mark.parametrize("text", ["0,1", "1.5", "half", ""])
def test_report_refuses_time_checkpoints_outside_the_budget(text, capsys) -> None:
    from nas_harness.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["report", "--time-checkpoints", text])
    assert stop.value.code == 2
    assert "--time-checkpoints" in capsys.readouterr().err
