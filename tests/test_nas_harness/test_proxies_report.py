"""``nas-harness proxies report`` on the real table: rows, baselines, scipy values, files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nas_harness.cli.main import main
from nas_harness.cli.proxies_report import correlation_table, row_rng


def test_rows_cover_proxies_targets_subsets_with_baselines(table):
    frame = correlation_table(table, ["cifar10"], ["ntk"], n_resamples=0)
    assert frame["proxy"].unique().tolist() == ["ntk", "params", "flops"]  # baselines added
    assert set(zip(frame["target"], frame["subset"], strict=True)) == {
        ("valid", "all"), ("test", "all"), ("valid", "feasible"), ("test", "feasible")}
    t = table["cifar10"]
    row = frame[(frame.proxy == "params") & (frame.target == "test")
                & (frame.subset == "feasible")].iloc[0]
    feasible = t.flops <= 0.5 * t.flops.max()
    assert row["n"] == feasible.sum() < 32768
    assert row["kendall"] == pytest.approx(stats.kendalltau(
        t.params[feasible], t.test_acc[feasible], variant="b").statistic)


def test_row_generators_depend_on_the_row_only():
    a = row_rng(1, "ntk", "cifar10", "valid", "all").integers(0, 1 << 30, 4)
    b = row_rng(1, "ntk", "cifar10", "valid", "all").integers(0, 1 << 30, 4)
    c = row_rng(1, "ntk", "cifar10", "test", "all").integers(0, 1 << 30, 4)
    assert a.tolist() == b.tolist() != c.tolist()


def test_cli_report_writes_csv_table_and_figure(table, tmp_path, capsys):
    out = tmp_path / "rep"
    code = main(["proxies", "report", "-d", "cifar100", "-p", "naswot", "--resamples", "2",
                 "-o", str(out), "--no-progress"])
    assert code == 0
    frame = pd.read_csv(out / "correlations.csv")
    assert len(frame) == 12 and (frame["kendall_lo"] <= frame["kendall_hi"]).all()
    assert (out / "figures" / "cifar100.png").stat().st_size > 1000
    assert "| cifar100 | naswot | all |" in (out / "correlations.md").read_text()


def test_cli_report_absent_proxy_is_one_line(table, tmp_path, capsys):
    code = main(["proxies", "report", "-d", "ImageNet16-120", "-p", "nasi", "-o",
                 str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "nasi' is absent on ImageNet16-120" in err
    assert not np.any([p.suffix == ".csv" for p in tmp_path.iterdir()])


def test_on_restricts_every_row_to_the_proxys_architectures(table, tmp_path):
    from nas_harness.benchmarks.proxies.store import save_scores
    from nas_harness.benchmarks.proxies.user_scores import validate_scores

    idx = np.arange(0, 32768, 64)  # synthetic subset scores: 512 architectures
    path = tmp_path / "part.csv"
    pd.DataFrame({"index": idx, "score": idx * 1.0}).to_csv(path, index=False)
    save_scores(validate_scores("part", path, "cifar10", subset=True), path, tmp_path)
    frame = correlation_table(table, ["cifar10"], ["part"], n_resamples=0, cache=tmp_path,
                              on="part")
    assert (frame[frame.subset == "all"]["n"] == 512).all()
    t = table["cifar10"]
    row = frame[(frame.proxy == "params") & (frame.target == "valid")
                & (frame.subset == "all")].iloc[0]
    assert row["kendall"] == pytest.approx(stats.kendalltau(
        t.params[idx], t.valid_acc[idx], variant="b").statistic)
