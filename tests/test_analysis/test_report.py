"""The report end to end: a small sweep on a synthetic table -> figures, tables, HTML, Markdown."""

import html
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
    assert "<h2 id='provenance'>Produced by (provenance)<" in page and "nas-harness 9.9" in page
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


def _headings(page: str) -> list[tuple[str, str]]:
    """(anchor, title) of every section heading of a report page, in order."""
    return [(key, html.unescape(title)) for key, title in
            re.findall(r"<h2 id='([^']+)'>([^<]+)<", page) if key != "contents"]


def test_html_opens_on_the_paper_figure_then_a_contents_list_naming_every_section(report):
    page = report.report.read_text(encoding="utf-8")
    headings = _headings(page)
    assert headings[0] == ("paper-figure", "The paper figure: Incumbent test accuracy over "
                                           "queries (mean, 25-75% band over runs)")
    assert [key for key, _ in headings] == [
        "paper-figure", "findings", "protocol", "figures", "criteria", "checkpoints",
        "reference-lines", "pairwise-tests", "rankings", "mean-ranks", "rank-figures",
        "anytime", "aocc", "ert", "anytime-figure", "final-architectures", "algorithms",
        "data-provenance", "source-files"]  # no stamp, no failed run
    first_image = re.search(r"<img alt='(\w+)'", page)
    assert first_image and first_image.group(1) == "curves"  # the paper figure comes first
    assert page.count("<img alt='curves'") == 1  # and only there
    nav = re.search(r"<nav id='contents'>(.*?)</nav>", page, re.S)
    assert nav and page.index("<img alt='curves'") < nav.start() < page.index("id='findings'")
    listed = [(key, html.unescape(title)) for key, title in
              re.findall(r"<li><a href='#([^']+)'>([^<]+)</a></li>", nav.group(1))]
    assert listed == headings  # every section, in page order, by its own title
    assert len({key for key, _ in headings}) == len(headings)  # anchors are unique


def test_findings_are_a_short_table_each_cell_with_its_test(report, algorithms):
    import pandas as pd

    page = report.report.read_text(encoding="utf-8")
    section = page[page.index("id='findings'"):page.index("id='protocol'")]
    rows = re.findall(r"<tr><td>(.*?)</td></tr>", section)
    assert len(rows) == 1  # two algorithms: one pair
    cells = rows[0].split("</td><td>")
    assert cells[0] == f"{algorithms[0]} vs {algorithms[1]}" and len(cells) == 4
    sig = pd.read_csv(report.out_dir / "tables" / "significance.csv")
    at_budget = sig[sig["query"] == BUDGET].set_index("dataset")
    for dataset, cell in zip(("cifar10", "cifar100", "ImageNet16-120"), cells[1:], strict=True):
        row = at_budget.loc[dataset]
        p = "&lt; 0.0001" if row["p_holm"] < 1e-4 else f"= {row['p_holm']:.4f}"
        assert f"p {p}, A12 = " in cell, cell
        if row["significant"]:
            assert cell.startswith(f"{row['better']} better: ")
        else:
            assert cell.startswith("no significant difference: ")
            assert f"A12 = {row['a12']:.2f}" in cell
    assert "What the numbers say" not in page  # the findings table replaces the 45 bullets
    assert "What the numbers say" in report.summary.read_text(encoding="utf-8")


def test_long_tables_are_folded_and_linked_to_their_csv(report, runs_dir, table, monkeypatch):
    from nas_harness.analysis.report import analyse, html_page
    from nas_harness.analysis.runs import load_results

    page = report.report.read_text(encoding="utf-8")
    assert "<details" not in page  # six pairwise rows: short enough to show
    assert "href='tables/significance.csv'" in page and "href='tables/criteria.csv'" in page
    monkeypatch.setattr(html_page, "COLLAPSE_ROWS", 5)
    a = analyse(load_results(runs_dir), table, checkpoints=(10, BUDGET))
    folded = html_page.render_html(a, table, report.out_dir / "figures")
    section = folded[folded.index("id='pairwise-tests'"):folded.index("id='rankings'")]
    assert section.count("<details class='long'><summary>Show all 6 rows</summary><table>") == 1
    findings = folded[folded.index("id='findings'"):folded.index("id='protocol'")]
    assert "<details" not in findings  # the one-row findings stay open


REPO = Path(__file__).resolve().parents[2]


def test_sections_link_to_their_documentation_page(report, runs_dir, table, tmp_path):
    from nas_harness.analysis.report import analyse, html_page
    from nas_harness.analysis.report.docs import DOCS_PAGES, doc_href, docs_prefix
    from nas_harness.analysis.runs import load_results

    # outside the repository (a temporary folder): each section names its page
    page = report.report.read_text(encoding="utf-8")
    named = re.findall(r"explained in the documentation page ([\w/.-]+)<", page)
    assert len(named) == len(_headings(page)) and set(named) <= set(DOCS_PAGES)
    assert "explained in the documentation page protocol.md" in page
    # inside it: a path relative to the page, results/ -> ../docs
    assert docs_prefix(REPO / "results") == "../docs"
    assert docs_prefix(REPO / "results" / "libraries") == "../../docs"
    fake = tmp_path / "clone"
    (fake / "deep" / "out").mkdir(parents=True)
    (fake / "pyproject.toml").write_text('[project]\nname = "nas-harness"\n')
    assert docs_prefix(fake / "deep" / "out") == "../../docs"
    (fake / "deep" / "pyproject.toml").write_text('[project]\nname = "other"\n')
    assert docs_prefix(fake / "deep" / "out") == "../../docs"  # another project's is skipped
    assert docs_prefix(tmp_path) is None
    a = analyse(load_results(runs_dir), table, checkpoints=(10, BUDGET))
    linked = html_page.render_html(a, table, report.out_dir / "figures", docs="../docs")
    hrefs = dict(re.findall(r"<h2 id='([^']+)'>[^<]+<span class='links'><a class='doc' "
                            r"href='([^']+)'>", linked))
    assert len(hrefs) == len(_headings(linked))
    assert hrefs["protocol"] == "../docs/protocol.md"
    assert hrefs["pairwise-tests"] == hrefs["findings"] == "../docs/statistics.md"
    assert hrefs["algorithms"] == "../docs/algorithms/index.md"
    assert {h.removeprefix("../docs/") for h in hrefs.values()} <= set(DOCS_PAGES)
    with pytest.raises(ValueError, match="not a documentation page"):
        doc_href("nope.md", "../docs")


def test_figures_are_shown_at_their_printed_size(report):
    from nas_harness.analysis.report.html_page import css_width

    page = report.report.read_text(encoding="utf-8")
    widths = dict(re.findall(r"<img alt='(\w+)' width='(\d+)'", page))
    for stem, width in widths.items():
        png = (report.out_dir / "figures" / f"{stem}.png").read_bytes()
        pixels = int.from_bytes(png[16:20], "big")
        assert int(width) == css_width(png) == round(pixels * 96 / 150), stem
    assert len(widths) == 6


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
