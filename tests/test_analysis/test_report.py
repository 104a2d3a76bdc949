"""The report end to end: a small sweep on a synthetic table -> figures, tables, HTML, Markdown."""

import re
from pathlib import Path

import pytest

from nas_harness.analysis.report import build_report
from nas_harness.analysis.runs import load_results
from nas_harness.analysis.testing import synthetic_table
from nas_harness.benchmarks.errors import DataIntegrityError, DataNotFoundError
from nas_harness.sweep import SweepSpec, run_sweep

BUDGET = 30
RUNS = 3


@pytest.fixture(scope="module")
def table():
    return synthetic_table(0)


@pytest.fixture(scope="module")
def algorithms():
    from nas_harness.algorithms.registry import available_algorithms

    names = [n for n, cls in available_algorithms().items()
             if cls.__module__.startswith("nas_harness.algorithms.")]
    if len(names) < 2:
        pytest.skip("needs two built-in algorithms")
    return tuple(names[:2])


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory, table, algorithms):
    out = tmp_path_factory.mktemp("runs")
    spec = SweepSpec(algorithms=algorithms, runs=RUNS, budget=BUDGET)
    result = run_sweep(spec, out, workers=1, progress=False, table=table)
    assert result.ok, result.describe()
    return out


@pytest.fixture(scope="module")
def report(runs_dir, table, tmp_path_factory):
    return build_report(runs_dir, tmp_path_factory.mktemp("report"), table=table,
                        checkpoints=(10, BUDGET))


def test_report_writes_every_file(report, algorithms):
    import pandas as pd

    from nas_harness.analysis.metrics.aggregate import SUMMARY_COLUMNS
    from nas_harness.analysis.metrics.criteria import CRITERIA_COLUMNS

    expected = {report.out_dir / "figures" / f"{stem}.{ext}"
                for stem in ("curves", "final_distribution", "flops_scatter",
                             "critical_difference", "ranks", "ecdf")
                for ext in ("png", "pdf")}
    assert set(report.figures) == expected
    for path in expected:  # real images, not empty or placeholder files
        magic = b"\x89PNG\r\n\x1a\n" if path.suffix == ".png" else b"%PDF-"
        data = path.read_bytes()
        assert data.startswith(magic) and len(data) > 1000, path.name
    names = {p.name for p in report.tables}
    assert names == {"summary.csv", "references.csv", "criteria.csv", "criteria.md",
                     "checkpoints.csv", "checkpoints.md", "significance.csv", "significance.md",
                     "ranks.csv", "ranks.md", "anytime.csv", "aocc.csv", "aocc.md",
                     "final_architectures.csv", "final_architectures.md"}
    assert report.summary_table.name == "summary.csv"
    tables = {p.name: p for p in report.tables}
    groups = len(algorithms) * 3  # every algorithm on the three datasets
    summary = pd.read_csv(tables["summary.csv"])
    assert sorted(summary.columns) == sorted(SUMMARY_COLUMNS) and len(summary) == groups * BUDGET
    assert set(summary["n_runs"]) == {RUNS} and set(summary["algorithm"]) == set(algorithms)
    criteria = pd.read_csv(tables["criteria.csv"])
    assert sorted(criteria.columns) == sorted(CRITERIA_COLUMNS) and len(criteria) == groups
    assert set(criteria["n_runs"]) == {RUNS}
    checkpoints = pd.read_csv(tables["checkpoints.csv"])
    assert sorted(set(checkpoints["query"])) == [10, BUDGET] and len(checkpoints) == 2 * groups
    assert len(pd.read_csv(tables["references.csv"])) == 3
    # three routes to the mean at the budget agree: summary, criteria and checkpoints
    key = ["dataset", "algorithm"]
    at_budget = summary[summary["query"] == BUDGET].set_index(key)["mean"].sort_index()
    for other in (criteria.set_index(key)["final_mean"],
                  checkpoints[checkpoints["query"] == BUDGET].set_index(key)["mean"]):
        assert list(other.sort_index()) == pytest.approx(list(at_budget), rel=1e-5)
    for md in ("criteria.md", "checkpoints.md"):  # header, rule and one row per group
        lines = tables[md].read_text(encoding="utf-8").strip().splitlines()
        assert len([line for line in lines if line.startswith("| ")]) == groups + 1, md


def test_html_is_self_contained_with_protocol_provenance_tables_and_params(report, table,
                                                                           algorithms):
    page = report.report.read_text(encoding="utf-8")
    assert page.count("src='data:image/png;base64,") == 6
    assert not re.search(r"src=['\"](?!data:)", page)  # nothing loaded from elsewhere
    for text in ("Protocol", f"{BUDGET} queries per run", f"{RUNS} per (algorithm, dataset)",
                 "hp=90", "FLOPs &lt;= 0.5", "master seed 0", table.provenance.checksum,
                 "synthetic/seed", "Quality, stability, efficiency", "mean, 25-75% band",
                 "CIFAR-10", "CIFAR-100", "ImageNet16-120", "Algorithms and parameters",
                 "Pairwise tests", "Mann-Whitney", "A12", "fewer than three algorithms",
                 "AOCC", "Most frequent final architecture", *algorithms):
        assert text in page, text


def test_markdown_summary_links_the_figures_and_holds_the_tables(report, algorithms):
    md = report.summary.read_text(encoding="utf-8")
    assert "![" in md and "(figures/curves.png)" in md
    assert "| dataset | algorithm | runs | quality: mean ± std (%)" in md
    assert "| dataset | algorithm | 10 queries | 30 queries |" in md
    for name in algorithms:
        assert f"| {name} |" in md


def test_statistics_tables_and_claims(report, algorithms):
    import pandas as pd

    tables = report.out_dir / "tables"
    sig = pd.read_csv(tables / "significance.csv")
    assert list(sig.columns[:4]) == ["dataset", "algorithm_a", "algorithm_b", "query"]
    # two algorithms: one pair per dataset and checkpoint (10 and the budget)
    assert len(sig) == 3 * 2 and set(sig["query"]) == {10, BUDGET}
    assert sig["p_holm"].between(0, 1).all() and sig["a12"].between(0, 1).all()
    assert (sig["ci_low_a"] <= sig["mean_a"]).all() and (sig["mean_a"] <= sig["ci_high_a"]).all()
    anytime = pd.read_csv(tables / "anytime.csv")
    assert len(anytime) == 3 * 2 * 51 and anytime["success_rate"].between(0, 1).all()
    aocc = pd.read_csv(tables / "aocc.csv")
    assert aocc["aocc"].between(0, 1).all()
    for name in ("summary.csv", "criteria.csv", "checkpoints.csv", "anytime.csv", "aocc.csv",
                 "final_architectures.csv"):
        cols = list(pd.read_csv(tables / name).columns)
        assert cols[:2] == ["dataset", "algorithm"], name
    archs = pd.read_csv(tables / "final_architectures.csv")
    assert archs["arch"].str.fullmatch(r"\d+(:\d+){4}").all()
    md = report.summary.read_text(encoding="utf-8")
    assert "What the numbers say" in md and "Mann-Whitney U, Holm-corrected p" in md
    assert "(figures/critical_difference.png)" in md and "(figures/ecdf.png)" in md
    refs = report.report.read_text(encoding="utf-8")
    assert re.search(r"\d+ \(\d+:\d+:\d+:\d+:\d+\)", refs)  # index (channels)


def test_provenance_stamp_goes_to_the_html_only(runs_dir, table, tmp_path, report):
    stamp = {"package": "nas-harness 9.9", "command": "nas-harness report --x"}
    out = build_report(runs_dir, tmp_path, table=table, checkpoints=(10, BUDGET), stamp=stamp)
    page = out.report.read_text(encoding="utf-8")
    assert "<h2>Produced by (provenance)</h2>" in page and "nas-harness 9.9" in page
    assert out.summary.read_bytes() == report.summary.read_bytes()
    assert "Produced by" not in report.report.read_text(encoding="utf-8")


def test_summary_table_is_the_step_aggregation_of_the_runs(report, runs_dir):
    import pandas as pd

    summary = pd.read_csv(report.summary_table)
    results = load_results(runs_dir)
    traj = results.trajectories
    alg, ds = summary.iloc[0]["algorithm"], summary.iloc[0]["dataset"]
    last = traj[(traj["algorithm"] == alg) & (traj["dataset"] == ds) & (traj["query"] == BUDGET)]
    row = summary[(summary["algorithm"] == alg) & (summary["dataset"] == ds)
                  & (summary["query"] == BUDGET)].iloc[0]
    assert row["n_runs"] == RUNS
    assert row["mean"] == pytest.approx(last["incumbent_test_acc"].mean(), abs=1e-4)


def test_report_is_reproducible(report, runs_dir, table, tmp_path):
    again = build_report(runs_dir, tmp_path, table=table, checkpoints=(10, BUDGET))
    for name in ("summary.md", "report.html"):
        assert (tmp_path / name).read_bytes() == (report.out_dir / name).read_bytes()
    for path in report.tables:
        assert (tmp_path / "tables" / path.name).read_bytes() == path.read_bytes()
    assert again.report.exists()


def test_report_refuses_runs_of_another_table_and_empty_directories(runs_dir, tmp_path):
    with pytest.raises(DataIntegrityError, match="re-run the sweep"):
        build_report(runs_dir, tmp_path / "r", table=synthetic_table(1))
    with pytest.raises(DataNotFoundError, match="no run found"):
        build_report(tmp_path / "empty", tmp_path / "r", table=synthetic_table(0))


REPO_RESULTS = Path(__file__).resolve().parents[2] / "results"
REQUIRED = ("summary.md", "tables/criteria.csv", "tables/checkpoints.csv")
OPTIONAL = ("tables/references.csv", "tables/summary.csv", "tables/criteria.md",
            "tables/checkpoints.md", "tables/significance.csv", "tables/significance.md",
            "tables/ranks.csv", "tables/ranks.md", "tables/anytime.csv", "tables/aocc.csv",
            "tables/aocc.md", "tables/final_architectures.csv", "tables/final_architectures.md")


@pytest.mark.slow
def test_committed_results_match_a_fresh_reproduction(tmp_path):
    """`nas-harness reproduce` on the real table gives the committed tables, byte for byte."""
    if not (REPO_RESULTS / "summary.md").is_file():
        pytest.skip("results/summary.md not generated yet: run `nas-harness reproduce`")
    from nas_harness.benchmarks.data.store import load_table
    from nas_harness.sweep import reproduce_spec

    try:
        table = load_table()
    except DataNotFoundError as exc:
        pytest.skip(f"the benchmark data is not available here: {exc}")
    runs = tmp_path / "runs"
    result = run_sweep(reproduce_spec(), runs, progress=False, table=table)
    assert result.ok, result.describe()
    build_report(runs, tmp_path / "report", table=table)
    for name in REQUIRED + OPTIONAL:
        committed = REPO_RESULTS / name
        if name in OPTIONAL and not committed.is_file():
            continue
        assert committed.is_file(), f"results/{name} is not committed"
        assert (tmp_path / "report" / name).read_bytes() == committed.read_bytes(), \
            f"results/{name} differs from a fresh reproduction: re-run `nas-harness reproduce`"
