"""The hypervolume tuning score: normalised validation HV at the budget, test never read."""

import dataclasses
import json

import numpy as np
import pytest
from sweep_fixtures import synthetic_table

from nas_harness.benchmarks.table import BenchmarkTable, TableProvenance
from nas_harness.tune import HV_SCORE, SCORE, TuningBudget, TuningError, tune

GRID = {"num_distributions": ["2", "6"]}
BUDGET = TuningBudget(configurations=2, runs=2, queries=40, datasets=("cifar10", "cifar100"))


def _hv_by_hand(points: np.ndarray, ref: tuple[float, float]) -> float:
    """2-D area dominated by ``points`` (both minimised) up to ``ref``, by sweeping."""
    pts = points[(points[:, 0] < ref[0]) & (points[:, 1] < ref[1])]
    pts = pts[np.lexsort((pts[:, 1], pts[:, 0]))]
    # the staircase: integrate over x the lowest y reached so far
    xs = np.r_[pts[:, 0], ref[0]]
    area, low = 0.0, ref[1]
    for k in range(len(pts)):
        low = min(low, pts[k, 1])
        area += (xs[k + 1] - xs[k]) * (ref[1] - low)
    return area


def test_score_is_the_normalised_validation_hv_of_each_run(tmp_path):
    from nas_harness.analysis.metrics.fronts import reference_for
    from nas_harness.benchmarks.fronts import cost_column
    from nas_harness.benchmarks.run_files import load_runs

    table = synthetic_table("tune-hv")
    result = tune("multi-distribution", budget=BUDGET, grid=GRID, table=table, workers=1,
                  max_flops_fraction=0.75, score="hypervolume", runs_dir=tmp_path)
    runs = load_runs(tmp_path)
    for config in result.configurations:
        for dataset, stats in config.per_dataset.items():
            t = table[dataset]
            ref = reference_for(dataset, "flops")
            flops = np.asarray(cost_column(t, "flops"), dtype=float)
            both = np.column_stack([flops / ref.largest_cost, 1 - t.valid_acc / 100])
            exact = _hv_by_hand(both, tuple(ref.point))
            label = f"tune-c{config.index:02d}"
            vals = []
            for _, log in runs[(runs["algorithm"] == label)
                               & (runs["dataset"] == dataset)].groupby("run"):
                idx = log["arch_index"].to_numpy()
                vals.append(_hv_by_hand(both[idx], tuple(ref.point)) / exact)
            assert stats["mean"] == pytest.approx(np.mean(vals), rel=1e-9)
            assert 0 < stats["mean"] <= 1
    record = json.loads(json.dumps(result.to_dict()))
    assert record["score"] == HV_SCORE != SCORE
    assert record["chosen"]["index"] == max(
        range(2), key=lambda i: (result.configurations[i].score, -i))


def test_hv_choice_cannot_depend_on_test_accuracy():
    real = synthetic_table("tune-hv-real")
    nan = BenchmarkTable({n: dataclasses.replace(real[n], test_acc=np.full(real[n].num_archs,
                                                                            np.nan))
                          for n in real.names}, TableProvenance("synthetic", {}, "tune-hv-nan"))
    a, b = (tune("multi-distribution", budget=BUDGET, grid=GRID, table=t, workers=1,
                 max_flops_fraction=0.75, score="hypervolume") for t in (real, nan))
    assert [c.score for c in a.configurations] == [c.score for c in b.configurations]
    assert a.chosen == b.chosen


def test_unknown_score_is_refused_in_one_line():
    with pytest.raises(TuningError, match="unknown tuning score 'area'; use one of accuracy, "
                                          "hypervolume"):
        tune("multi-distribution", budget=BUDGET, grid=GRID, table=synthetic_table("x"),
             score="area")


def test_cli_score_hypervolume_writes_a_hv_record(tmp_path, capsys, monkeypatch):
    from nas_harness.benchmarks.data import store
    from nas_harness.cli.main import main

    table = synthetic_table("tune-hv-cli")
    monkeypatch.setattr(store, "load_table", lambda: table)
    out = tmp_path / "md.json"
    assert main(["tune", "-a", "multi-distribution", "--score", "hypervolume", "--configs", "2",
                 "--runs", "2", "--budget", "30", "-d", "cifar10", "--max-flops-fraction",
                 "0.75", "--workers", "1", "--no-progress", "--out", str(out)]) == 0
    assert "normalised validation hypervolume" in capsys.readouterr().out
    record = json.loads(out.read_text())
    assert record["score"] == HV_SCORE and record["protocol"]["max_flops_fraction"] == 0.75
    assert all(0 < c["score"] <= 1 for c in record["configurations"])
