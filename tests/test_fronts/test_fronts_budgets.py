"""Budget modes: chosen model per fraction, perfect line, experiment file, a tiny run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nas_harness.analysis.metrics import budgets as bm
from nas_harness.benchmarks.errors import ProtocolError
from nas_harness.fronts import load_fronts, parse_fronts


@pytest.mark.parametrize("bad", [0, 1.5, -0.25, "half", True, float("nan")])
def test_a_fraction_outside_the_interval_is_one_line(bad) -> None:
    with pytest.raises(ProtocolError, match=r"must be in \(0, 1\]") as info:
        bm.check_fractions([0.5, bad])
    assert "\n" not in str(info.value)


def test_fractions_are_sorted_and_the_budget_split() -> None:
    assert bm.check_fractions([0.75, 0.25, 0.5, 0.5]) == (0.25, 0.5, 0.75)
    assert bm.split_budget(500, (0.25, 0.5, 0.75)) == 166
    with pytest.raises(ProtocolError, match="cannot be split"):
        bm.split_budget(2, (0.25, 0.5, 0.75))


def test_perfect_and_best_under_against_brute_force(table) -> None:
    t = table["cifar100"]
    for f in (0.25, 0.5, 1.0):
        limit = f * float(np.max(t.flops))
        best = max((i for i in range(t.num_archs) if t.flops[i] <= limit),
                   key=lambda i: (t.valid_acc[i], -i))
        assert bm.perfect_test(t, f) == t.test_acc[best]
    rng = np.random.default_rng(0)
    rows = []
    for run in range(4):
        index = rng.integers(0, 32768, size=30)
        valid = np.round(t.valid_acc[index])              # ties on validation are common
        rows.append(pd.DataFrame({"algorithm": "a", "dataset": "cifar100", "run": run,
                                  "query": np.arange(1, 31), "arch_index": index,
                                  "valid_acc": valid, "flops": t.flops[index]}))
    traj = pd.concat(rows, ignore_index=True)
    got = bm.best_under(traj, table, 0.25)
    limit = 0.25 * float(np.max(t.flops))
    for run in range(4):
        part = traj[(traj.run == run) & (traj.flops <= limit)]
        if part.empty:
            assert np.isnan(got.loc[run, "test"])
            continue
        first = part.sort_values(["valid_acc", "query"], ascending=[False, True]).iloc[0]
        assert got.loc[run, "test"] == t.test_acc[int(first.arch_index)]


TOML = """
output = "runs"
report = "out"
datasets = ["cifar10"]
runs = 2
[protocol]
budget = 30
[fronts]
fractions = [0.5, 0.25]
hv_pairs = [["multi-distribution", "random"]]
[[algorithms]]
name = "random"
[[algorithms]]
name = "multi-distribution"
modes = ["one"]
"""


def _parse(text: str, tmp_path: Path):
    import tomllib

    return parse_fronts(tomllib.loads(text), tmp_path, "fronts.toml")


def test_the_sweeps_of_an_experiment(tmp_path: Path) -> None:
    exp = _parse(TOML, tmp_path)
    plan = [(name, spec.budget, spec.max_flops_fraction, [a.label for a in spec.algorithms])
            for name, spec, _ in exp.sweeps()]
    assert plan == [("one", 30, 0.5, ["random", "multi-distribution"]),
                    ("split-0.25", 15, 0.25, ["random"]), ("split-0.5", 15, 0.5, ["random"]),
                    ("separate-0.25", 30, 0.25, ["random"])]
    assert exp.mode_runs().separate[0.5] == tmp_path / "runs" / "one"


@pytest.mark.parametrize("change, message", [
    (("[protocol]\n", "[protocol]\nmax_flops_fraction = 0.5\n"), "the modes set the FLOPs"),
    (("fractions = [0.5, 0.25]", "fractions = [0.5, 2.0]"), r"must be in \(0, 1\]"),
    (("fractions = [0.5, 0.25]", "fraction = [0.5]"), "unknown key"),
    (('modes = ["one"]', 'modes = ["all"]'), "modes must be a non-empty list"),
    (('["multi-distribution", "random"]', '["x", "random"]'), "hv_pairs"),
    (("[fronts]\n", '[fronts]\ncost = "latency"\n'), "unknown cost"),
])
def test_bad_experiment_files_are_one_line(tmp_path: Path, change, message) -> None:
    with pytest.raises(Exception, match=message) as info:
        _parse(TOML.replace(*change), tmp_path)
    assert "\n" not in str(info.value)


def test_a_tiny_experiment_end_to_end(tmp_path: Path, table) -> None:
    from nas_harness.fronts import run_fronts

    (tmp_path / "fronts.toml").write_text(TOML)
    exp = load_fronts(tmp_path / "fronts.toml")
    written = run_fronts(exp, workers=1, progress=False)
    names = {p.relative_to(tmp_path / "out").as_posix() for p in written}
    assert {"hv.csv", "budgets.csv", "hv_tests.csv", "budget_tests.csv", "summary.md",
            "figures/hv_over_queries.png", "figures/attainment_50.png"} <= names
    igd = pd.read_csv(tmp_path / "out" / "igd.csv")
    assert set(igd["queries"]) == {30} and (igd["mean"] > 0).all()
    hv = pd.read_csv(tmp_path / "out" / "hv.csv")
    assert list(hv.columns) == ["algorithm", "dataset", "queries", "mean", "q25", "q75"]
    assert hv["queries"].max() == 30 and ((hv["mean"] > 0) & (hv["mean"] <= 1)).all()
    budgets = pd.read_csv(tmp_path / "out" / "budgets.csv")
    md = budgets[budgets.algorithm == "multi-distribution"]
    assert set(md["mode"]) == {"one"}                     # its only mode
    assert set(budgets[budgets.algorithm == "random"]["mode"]) == {"one", "split", "separate"}
    perfect = budgets.drop_duplicates("flops_fraction").set_index("flops_fraction")["perfect"]
    assert perfect[0.25] == bm.perfect_test(table["cifar10"], 0.25)
    np.testing.assert_allclose(budgets["regret"], budgets["perfect"] - budgets["mean_test"],
                               atol=1e-3)  # the CSV keeps 6 significant digits
    tests = pd.read_csv(tmp_path / "out" / "budget_tests.csv")
    assert not ((tests.mode_b == "separate") & (tests.flops_fraction == 0.5)).any()  # = one
    assert len(tests) == 3 and tests["p_holm"].between(0, 1).all()
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "Holm p =" in summary and "one vs split" in summary
    # the HV gate: bless, then check the same runs: every entry identical
    from nas_harness.cli.main import main

    toml = str(tmp_path / "fronts.toml")
    assert main(["fronts", toml, "--analyse-only", "--no-progress", "--bless"]) == 0
    assert main(["fronts", toml, "--analyse-only", "--no-progress", "--check"]) == 0
    baseline = (tmp_path / "out" / "hv_baseline.json").read_text()
    assert '"algorithm": "multi-distribution"' in baseline
    # a second call with nothing to run rewrites the same bytes
    before = (tmp_path / "out" / "budgets.csv").read_bytes()
    run_fronts(exp, workers=1, progress=False, analyse_only=True)
    assert (tmp_path / "out" / "budgets.csv").read_bytes() == before


RESULTS = Path(__file__).resolve().parents[2] / "results" / "fronts"


@pytest.mark.skipif(not (RESULTS / "summary.md").is_file(), reason="no committed results")
def test_every_claim_of_the_committed_summary_is_its_test() -> None:
    import re

    tests = pd.read_csv(RESULTS / "hv_tests.csv")
    claims = [line for line in (RESULTS / "summary.md").read_text().splitlines()
              if "normalised HV (" in line]
    assert len(claims) == len(tests) > 0
    for line, (_, row) in zip(claims, tests.iterrows(), strict=True):
        assert f"{row['dataset']}, {row['queries']} queries" in line
        p = float(re.search(r"Holm p = ([0-9.e+-]+)", line).group(1))
        assert p == pytest.approx(row["p_holm"], rel=0.05)
        assert ("**" in line) == (row["p_holm"] < 0.05)
        if "**" in line:
            assert (" above " in line) == (row["a12"] > 0.5)


def test_report_section(tmp_path: Path) -> None:
    from nas_harness.analysis.fronts_results import report_section

    assert report_section(tmp_path) == ""
    (tmp_path / "fronts" / "figures").mkdir(parents=True)
    (tmp_path / "fronts" / "summary.md").write_text("# Title\n\nBody line.\n")
    (tmp_path / "fronts" / "figures" / "hv_over_queries.png").write_bytes(b"")
    text = report_section(tmp_path / "fronts")
    assert text.startswith("## Pareto fronts\n\nBody line.")
    assert "![hv_over_queries](fronts/figures/hv_over_queries.png)" in text
