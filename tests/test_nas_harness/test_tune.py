"""The tuning protocol: validation-only scoring, its budget, its seeds, its record."""

import dataclasses
import json

import numpy as np
import pytest
from sweep_fixtures import synthetic_table

from nas_harness.benchmarks.table import BenchmarkTable, TableProvenance
from nas_harness.cli.main import main
from nas_harness.tune import (
    TUNING_MASTER_SEED,
    TuningBudget,
    TuningError,
    candidate_configurations,
    tunable_params,
    tune,
)

GRID = {"population_size": ["4", "12"], "tournament_size": ["2", "4"]}
BUDGET = TuningBudget(configurations=4, runs=3, queries=60, datasets=("cifar10", "cifar100"))


def _with_test_column(table: BenchmarkTable, make, tag: str) -> BenchmarkTable:
    """The same table with every dataset's test accuracy replaced by ``make(n, k)``."""
    datasets = {name: dataclasses.replace(table[name], test_acc=make(table[name].num_archs, k))
                for k, name in enumerate(table.names)}
    return BenchmarkTable(datasets, TableProvenance("synthetic", {}, checksum=tag))


def test_choice_cannot_depend_on_test_accuracy():
    grid = {"population_size": ["4", "12"]}
    budget = TuningBudget(configurations=2, runs=2, queries=30, datasets=("cifar10", "cifar100"))
    real = synthetic_table("tune-real")
    nan = _with_test_column(real, lambda n, k: np.full(n, np.nan), "tune-nan")
    noise = _with_test_column(
        real, lambda n, k: np.random.default_rng(k).uniform(0, 100, n), "tune-noise")
    results = [tune("evolution", budget=budget, grid=grid, table=t, workers=1)
               for t in (real, nan, noise)]
    scores = [[c.score for c in r.configurations] for r in results]
    assert scores[0] == scores[1] == scores[2]
    assert len(set(scores[0])) > 1, "the settings should differ, or the test proves nothing"
    assert results[0].chosen == results[1].chosen == results[2].chosen
    assert results[0].best.score == max(scores[0])
    # and the score does follow validation accuracy: shifting it moves every score
    shifted = BenchmarkTable({n: dataclasses.replace(real[n], valid_acc=real[n].valid_acc + 1)
                              for n in real.names}, TableProvenance("synthetic", {}, "shift"))
    moved = tune("evolution", budget=budget, grid=grid, table=shifted, workers=1)
    np.testing.assert_allclose([c.score for c in moved.configurations],
                               np.array(scores[0]) + 1)


def test_record_states_budget_seeds_and_every_setting(tmp_path):
    result = tune("evolution", budget=BUDGET, grid=GRID, table=synthetic_table("tune-rec"),
                  workers=1)
    record = json.loads(json.dumps(result.to_dict()))
    assert record["budget"] == {"configurations": 4, "runs": 3, "queries": 60,
                                "datasets": ["cifar10", "cifar100"], "max_queries": 1440}
    assert record["master_seed"] == TUNING_MASTER_SEED != 0
    assert [c["params"] for c in record["configurations"]] == [
        {"population_size": p, "tournament_size": t} for p in (4, 12) for t in (2, 4)]
    assert record["chosen"]["index"] == result.chosen
    assert record["chosen"]["full_params"]["mutation"] == "different"
    assert "test accuracy is never read" in record["score"]
    assert "1,440 queries" in result.describe()


def test_candidates_presets_first_then_distinct_draws_in_range():
    first = candidate_configurations("evolution", 12)
    assert first == candidate_configurations("evolution", 12)          # seeded
    assert first[0] == ("preset evolution:natsbench",
                        {"population_size": 10, "tournament_size": 3, "mutation": "resample"})
    assert first[1][0] == "preset evolution:pyglove"
    assert len({tuple(c.values()) for _, c in first}) == 12
    for _, config in first[2:]:
        assert 4 <= config["population_size"] <= 100 and 2 <= config["tournament_size"] <= 25
    assert candidate_configurations("evolution", 12, seed=5)[2:] != first[2:]
    ppo = candidate_configurations("ppo", 6)
    for _, config in ppo:
        assert 0.005 <= config["learning_rate"] <= 0.5
        assert float(f"{config['learning_rate']:.2g}") == config["learning_rate"]
    # a space smaller than the budget is enumerated whole
    assert candidate_configurations("random", 16) == [
        ("enumerated", {"replace": False}), ("enumerated", {"replace": True})]
    # a preset setting a parameter outside the tuned ones does not compete (layernas:stand-in)
    assert not [o for o, _ in candidate_configurations("layernas", 8) if "stand-in" in o]
    from nas_harness.algorithms.layernas import LayerNAS
    assert {s.name for s in tunable_params(LayerNAS)} == {"num_buckets", "top_k", "bucketing"}


def test_bad_requests_are_refused_in_one_line(capsys):
    with pytest.raises(TuningError, match="more than the tuning budget's 3"):
        candidate_configurations("evolution", 3, GRID)
    with pytest.raises(TuningError, match="reporting runs' seed"):
        tune("evolution", budget=BUDGET, grid=GRID, master_seed=0,
             table=synthetic_table("x"))
    assert main(["tune", "-a", "evolution", "--grid", "population_size"]) == 2
    assert main(["tune", "-a", "evolution", "--grid", "nonsense=1,2"]) == 2
    assert main(["tune", "-a", "evolution:nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("nas-harness: error:") for line in err)
    assert "no parameter 'nonsense'" in err[1] and "evolution:natsbench" in err[2]


def test_cli_tune_writes_the_record_and_states_the_budget(tmp_path, capsys, monkeypatch):
    from nas_harness.benchmarks.data import store

    table = synthetic_table("tune-cli")
    monkeypatch.setattr(store, "load_table", lambda: table)   # the table NAS_HARNESS_DATA names
    out = tmp_path / "random.json"
    assert main(["tune", "-a", "random", "--runs", "2", "--budget", "20", "-d", "cifar10",
                 "--workers", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 of at most 16 configurations x 2 runs x 1 datasets x 20 queries = 80 queries" \
        in text
    record = json.loads(out.read_text())
    assert [c["params"] for c in record["configurations"]] == [{"replace": False},
                                                               {"replace": True}]
    assert record["chosen"]["params"] in ({"replace": False}, {"replace": True})
    assert record["table_checksum"] == "tune-cli"


def test_progress_is_shown_when_asked_and_only_then(capsys):
    budget = TuningBudget(configurations=2, runs=2, queries=20, datasets=("cifar10",))
    grid = {"population_size": ["4", "12"]}
    table = synthetic_table("tune-progress")
    quiet = tune("evolution", budget=budget, grid=grid, table=table, workers=1)
    assert capsys.readouterr().err == ""
    shown = tune("evolution", budget=budget, grid=grid, table=table, workers=1, progress=True)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == ("nas-harness: tuning evolution: budget: 2 of at most 2 configurations x "
                      "2 runs x 1 datasets x 20 queries = 80 queries")
    assert "nas-harness: 4 runs to compute (0 already complete) -> " in err[1]
    assert err[-1].startswith("runs: 4/4 (100%), ")   # the sweep's progress, as plain lines
    assert quiet.to_dict()["configurations"] == shown.to_dict()["configurations"]


def test_the_command_shows_progress_unless_told_not_to(tmp_path, capsys, monkeypatch):
    import nas_harness.benchmarks.data.store as store

    monkeypatch.setattr(store, "load_table", lambda *a, **k: synthetic_table("tune-cli"))
    args = ["tune", "-a", "evolution", "--grid", "population_size=4,12", "--configs", "2",
            "--runs", "2", "--budget", "20", "-d", "cifar10", "--workers", "1"]
    assert main([*args, "--out", str(tmp_path / "a.json")]) == 0
    assert "runs: 4/4 (100%)" in capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path / "b.json"), "--no-progress"]) == 0
    assert capsys.readouterr().err == ""
