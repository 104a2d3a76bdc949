"""The report's Pareto-fronts and training-free-proxies sections.

From small synthetic results
folders beside the report (made up here, not results).
"""

import html
import re
from pathlib import Path

import pandas as pd
import pytest

from nas_harness.analysis.report import build_report
from nas_harness.analysis.report.tracks import (
    budgets_display,
    correlation_display,
    guided_display,
    hv_display,
    track_sections,
)
from nas_harness.analysis.testing import synthetic_table
from nas_harness.sweep import SweepSpec, run_sweep

BUDGET = 20


@pytest.fixture(scope="module")
def table():
    return synthetic_table(0)


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory, table):
    out = tmp_path_factory.mktemp("runs")
    result = run_sweep(SweepSpec(algorithms=("random",), runs=2, budget=BUDGET), out,
                       workers=1, progress=False, table=table)
    assert result.ok, result.describe()
    return out


def _png(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    fig.savefig(path, dpi=150)
    plt.close(fig)


HV = pd.DataFrame({  # synthetic
    "algorithm": ["random", "random", "evolution", "evolution", "random"],
    "dataset": ["cifar10"] * 4 + ["cifar100"],
    "queries": [10, 500, 10, 500, 250],
    "mean": [0.5, 0.91234, 0.6, 0.95, 0.8],
    "q25": [0.4, 0.9, 0.5, 0.94, 0.7], "q75": [0.6, 0.93, 0.7, 0.96, 0.85],
})
BUDGETS = pd.DataFrame({  # synthetic
    "algorithm": ["random", "random"], "dataset": ["cifar10", "cifar10"],
    "flops_fraction": [0.5, 0.25], "mode": ["one", "split"], "queries": [500, 498],
    "n": [100, 100], "mean_test": [93.1, 92.456], "q25": [93.0, 92.3], "q75": [93.2, 92.6],
    "perfect": [93.5, 93.0], "regret": [0.4, 0.544],
})
CORR = pd.DataFrame({  # synthetic
    "proxy": ["ntk", "params", "ntk"], "dataset": ["cifar10"] * 3,
    "target": ["valid", "valid", "test"], "subset": ["all"] * 3, "n": [32768] * 3,
    "kendall": [0.6944, 0.5, 0.7], "kendall_lo": [0.691, 0.49, 0.69],
    "kendall_hi": [0.698, 0.51, 0.71], "spearman": [0.8777, 0.7, 0.88],
    "spearman_lo": [0.875, 0.69, 0.87], "spearman_hi": [0.88, 0.71, 0.89],
    "top1pct_precision": [0.3293, 0.1, 0.3], "top5pct_precision": [0.529, 0.2, 0.5],
})
GUIDED = pd.DataFrame({  # synthetic
    "dataset": ["cifar10", "cifar10"], "algorithm_a": ["random", "random"],
    "algorithm_b": ["guided-random-ntk", "guided-random-params"], "query": [50, 50],
    "mean_a": [92.45, 92.45], "mean_b": [92.91, 92.46], "p_holm": [4.2e-19, 0.61],
    "a12": [0.1273, 0.48], "better": ["guided-random-ntk", "random"],
    "significant": [True, False], "family": ["random", "random"],
})


def _tracks(out: Path) -> None:
    (out / "fronts").mkdir(parents=True)
    (out / "proxies").mkdir()
    HV.to_csv(out / "fronts" / "hv.csv", index=False)
    BUDGETS.to_csv(out / "fronts" / "budgets.csv", index=False)
    CORR.to_csv(out / "proxies" / "correlations.csv", index=False)
    GUIDED.to_csv(out / "proxies" / "guided.csv", index=False)
    _png(out / "fronts" / "figures" / "hv_over_queries.png")
    _png(out / "proxies" / "figures" / "cifar10.png")


def test_display_tables_hold_the_values():
    hv = hv_display(HV)
    assert list(hv["queries"]) == [500, 500, 250]  # each dataset's largest query count
    cells = dict(zip(zip(hv["dataset"], hv["algorithm"], strict=True),
                     hv["normalised test HV, mean [q25, q75]"], strict=True))
    assert cells[("CIFAR-10", "random")] == "0.912 [0.900, 0.930]"
    assert cells[("CIFAR-100", "random")] == "0.800 [0.700, 0.850]"
    b = budgets_display(BUDGETS)
    assert list(b["FLOPs fraction"]) == ["0.25", "0.5"]  # sorted by fraction
    assert b.iloc[0]["test acc (%), mean [q25, q75]"] == "92.46 [92.30, 92.60]"
    assert b.iloc[0]["regret"] == "0.54"
    c = correlation_display(CORR)
    assert list(c["proxy"]) == ["ntk", "params"]  # validation target only
    assert c.iloc[0]["Kendall tau-b [95% CI]"] == "0.694 [0.691, 0.698]"
    assert c.iloc[0]["top-1% precision"] == "0.329"
    g = guided_display(GUIDED)
    assert list(g["better"]) == ["guided-random-ntk", "not significant"]
    assert list(g["p (Holm)"]) == ["4.2e-19", "0.61"]


def test_no_results_folders_no_sections(tmp_path):
    assert track_sections(tmp_path) == {}


def test_html_gains_the_sections_and_summary_md_does_not_change(runs_dir, table, tmp_path):
    plain = build_report(runs_dir, tmp_path / "plain", table=table, checkpoints=(10, BUDGET))
    _tracks(tmp_path / "with")
    report = build_report(runs_dir, tmp_path / "with", table=table, checkpoints=(10, BUDGET))
    assert report.summary.read_bytes() == plain.summary.read_bytes()
    before = plain.report.read_text(encoding="utf-8")
    assert "fronts" not in before and "proxies.md" not in before
    page = report.report.read_text(encoding="utf-8")
    keys = re.findall(r"<h2 id='([^']+)'>", page)
    tracks = [k for k in keys if k.startswith(("fronts", "proxies"))]
    assert tracks == ["fronts-hv", "fronts-figures", "fronts-budgets", "proxies-correlations",
                      "proxies-figures", "proxies-guided"]
    assert keys.index("final-architectures") < keys.index("fronts-hv")
    assert keys.index("proxies-guided") < keys.index("algorithms")
    assert "0.912 [0.900, 0.930]" in page and "0.694 [0.691, 0.698]" in page
    assert "href='fronts/hv.csv'" in page and "href='proxies/correlations.csv'" in page
    assert "explained in the documentation page fronts.md" in page
    assert "explained in the documentation page proxies.md" in page
    for stem in ("fronts/figures/hv_over_queries", "proxies/figures/cifar10"):
        assert f"<img alt='{html.escape(stem)}'" in page
    assert "CIFAR-10: each proxy against validation accuracy" in page
    assert "attainment_50" not in page  # a missing figure is left out, not an error
    nav = re.search(r"<nav id='contents'>(.*?)</nav>", page, re.S)
    assert nav and "#fronts-hv" in nav.group(1) and "#proxies-guided" in nav.group(1)


def test_sections_link_to_fronts_and_proxies_docs_inside_the_repository(runs_dir, table,
                                                                        tmp_path):
    from nas_harness.analysis.report import analyse, html_page
    from nas_harness.analysis.runs import load_results

    _tracks(tmp_path)
    (tmp_path / "figures").mkdir()
    build_report(runs_dir, tmp_path, table=table, checkpoints=(10, BUDGET))
    a = analyse(load_results(runs_dir), table, checkpoints=(10, BUDGET))
    page = html_page.render_html(a, table, tmp_path / "figures", docs="../docs")
    hrefs = dict(re.findall(r"<h2 id='([^']+)'>[^<]+<span class='links'><a class='doc' "
                            r"href='([^']+)'>", page))
    assert hrefs["fronts-hv"] == hrefs["fronts-budgets"] == "../docs/fronts.md"
    assert hrefs["proxies-correlations"] == hrefs["proxies-guided"] == "../docs/proxies.md"
    repo = Path(__file__).resolve().parents[2]
    assert (repo / "docs" / "fronts.md").is_file() and (repo / "docs" / "proxies.md").is_file()
