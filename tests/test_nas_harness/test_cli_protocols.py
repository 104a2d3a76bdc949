"""``--protocol`` presets, ``--budget-seconds`` and the synthetic-table guard, end to end.

The hp=12 table here is the SYNTHETIC one (generated from the public hp=90 table by
``nas_harness.benchmarks.data.synthetic_archive``), saved in a throwaway cache as ``data build``
would.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import nas_harness.sweep
from nas_harness.benchmarks.data import synthetic_archive as sa
from nas_harness.benchmarks.data.store import clear_memo, save_table
from nas_harness.benchmarks.run_files import load_runs
from nas_harness.cli import main
from nas_harness.experiment_file import paper_experiment


@pytest.fixture(scope="module")
def synthetic(table):
    return sa.synthetic_table(sa.synthetic_values(table, seed=1))


@pytest.fixture
def synthetic_cache(synthetic, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("NAS_HARNESS_CACHE", str(cache))
    clear_memo()
    saved = save_table(synthetic, cache)
    yield saved
    clear_memo()


def _reproduce(tmp_path, *extra: str) -> list[str]:
    return ["reproduce", "--out", str(tmp_path / "runs"), "--report-dir", str(tmp_path / "rep"),
            "--no-progress", "--workers", "1", *extra]


def test_reproduce_refuses_a_synthetic_table(synthetic_cache, tmp_path, capsys) -> None:
    assert main(_reproduce(tmp_path, "--protocol", "layernas", "--runs", "1")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "SYNTHETIC" in err[0] and "--allow-synthetic" in err[0]
    assert not (tmp_path / "runs").exists()


def test_layernas_protocol_end_to_end_on_a_synthetic_table(synthetic_cache, tmp_path,
                                                           capsys) -> None:
    args = _reproduce(tmp_path, "--protocol", "layernas", "--allow-synthetic", "--runs", "2",
                      "--budget", "20")
    assert main(args) == 0
    paper = {a.label for a in paper_experiment().spec.algorithms}
    assert f"{6 * len(paper)} runs computed" in capsys.readouterr().out
    runs = load_runs(tmp_path / "runs")
    assert set(runs["algorithm"]) == paper
    assert len(runs) == 6 * len(paper) * 20 and runs["elapsed_s"].isna().all()
    sidecar = json.loads(next((tmp_path / "runs").rglob("run-000.json")).read_text())
    assert sidecar["protocol"] == {"budget": 20, "fidelity": "12", "max_flops_fraction": 0.5}
    # every reward is the hp=12 accuracy of a seed present for that architecture
    for name, rows in runs.groupby("dataset"):
        hp12 = synthetic_cache[name].hp12_valid_acc[rows["arch_index"].to_numpy()]
        assert (hp12 == rows["valid_acc"].to_numpy()[:, None]).any(axis=1).all()
    summary = (tmp_path / "rep" / "summary.md").read_text()
    assert "SYNTHETIC" in summary


def test_layernas_protocol_on_a_table_without_hp12_says_what_is_missing(
        table, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(nas_harness.sweep, "default_table", lambda: table)
    assert main(_reproduce(tmp_path, "--protocol", "layernas")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "hp=12" in err[0] and "NATS-sss-v1_0-50262-simple.tar" in err[0]


def test_natsbench_time_budget_run(synthetic_cache, tmp_path) -> None:
    out = tmp_path / "runs"
    assert main(["run", "-a", "random", "-d", "cifar10", "-d", "c100", "--protocol",
                 "natsbench", "--runs", "2", "--budget-seconds", "cifar10=1500,cifar100=2500",
                 "--out", str(out), "--no-progress", "--workers", "1"]) == 0
    runs = load_runs(out)
    for (dataset, _run), rows in runs.groupby(["dataset", "run"]):
        clock = rows.sort_values("query")["elapsed_s"].to_numpy()
        limit = 1500 if dataset == "cifar10" else 2500
        assert len(clock) > 5 and not np.isnan(clock).any()
        assert (np.diff(clock) > 0).all() and clock[-1] <= limit
    sidecar = json.loads(next((out / "cifar100").rglob("run-000.json")).read_text())
    assert sidecar["protocol"] == {"budget": 2000, "fidelity": "12",
                                   "max_flops_fraction": None, "budget_seconds": 2500.0}


def test_time_budget_needs_hp12(synthetic_cache, tmp_path, capsys) -> None:
    assert main(["run", "-a", "random", "-d", "cifar10", "--budget-seconds", "100",
                 "--out", str(tmp_path / "r"), "--no-progress", "--workers", "1"]) == 2
    assert "--fidelity 12" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["run", "reproduce"])
def test_help_lists_the_presets(command, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "natsbench" in out and "layernas" in out and "--budget-seconds" in out


def test_a_query_cap_that_could_end_a_timed_run_is_refused(synthetic_cache, tmp_path,
                                                           capsys) -> None:
    assert main(["run", "-a", "random", "-d", "cifar10", "--protocol", "natsbench",
                 "--budget", "10", "--out", str(tmp_path / "r"), "--no-progress",
                 "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "query cap of 10 could end a 20000-second run" in err and "--budget" in err
