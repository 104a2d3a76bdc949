"""The regression gate: the comparison rule, the baseline file, and a weakened algorithm."""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from algorithms.base import Algorithm
from analysis.testing import synthetic_table
from benchmarks.errors import DataNotFoundError
from nas_harness import gate
from nas_harness.cli import analysis as analysis_cli
from nas_harness.cli import main
from nas_harness.sweep import SweepSpec

REPO = Path(__file__).resolve().parents[2]
COMMITTED_BASELINE = REPO / "results" / "baseline.json"


def _rows(values):
    return pd.DataFrame(values, columns=["algorithm", "dataset", "query", "mean", "sem"])


def test_drop_allowed_is_max_of_three_standard_errors_and_tolerance():
    np.testing.assert_allclose(gate.allowed_drop([0.01, 0.1, np.nan], 0.2), [0.2, 0.3, 0.2])


def test_compare_flags_regressions_beyond_the_allowed_drop_only():
    base = _rows([("a", "cifar10", 50, 90.0, 0.1),   # allowed 0.3
                  ("a", "cifar10", 100, 91.0, 0.01),  # allowed 0.2 (tolerance)
                  ("b", "cifar10", 50, 80.0, 0.1),
                  ("b", "cifar10", 100, 81.0, 0.1),
                  ("gone", "cifar10", 50, 70.0, 0.1)])
    cur = _rows([("a", "cifar10", 50, 89.71, 0.1),   # -0.29: ok
                 ("a", "cifar10", 100, 90.79, 0.1),  # -0.21: regressed
                 ("b", "cifar10", 50, 80.5, 0.1),    # +0.5: improved
                 ("b", "cifar10", 100, np.nan, np.nan),  # no value: missing
                 ("new", "cifar10", 50, 1.0, 0.1)])
    result = gate.compare(base, cur, tolerance=0.2)
    status = result.table.set_index(["algorithm", "query"])["status"]
    assert status[("a", 50)] == "ok"
    assert status[("a", 100)] == "REGRESSED"
    assert status[("b", 50)] == "improved"
    assert status[("b", 100)] == "MISSING"
    assert status[("gone", 50)] == "MISSING"
    assert status[("new", 50)] == "no baseline"
    assert not result.passed and len(result.failures) == 3
    text = result.format()
    assert "REGRESSED" in text and "gate FAILED: 3 of 6" in text
    assert "-0.210" in text


def test_compare_passes_identical_summaries():
    base = _rows([("a", "cifar10", 50, 90.0, 0.1)])
    result = gate.compare(base, base, tolerance=0.0)
    assert result.passed and result.table["delta"].tolist() == [0.0]
    assert "gate passed" in result.format()


def test_baseline_file_round_trip(tmp_path):
    spec = SweepSpec(algorithms=(("random", {"replace": True}, "rand"),), datasets=("c10",),
                     runs=3, budget=20, master_seed=7)
    summary = pd.DataFrame({"algorithm": "rand", "dataset": "cifar10", "query": [10, 20, 30],
                            "mean": [90.0, 91.0, 92.0], "sem": [0.1, np.nan, 0.1],
                            "n": 3, "n_runs": 3})
    record = gate.baseline_record(spec, summary, [10, 20, 500], "abc")
    assert record["checkpoints"] == [10, 20]  # 500 is beyond the budget
    path = gate.write_baseline(record, tmp_path / "b.json")
    back = gate.read_baseline(path)
    assert back.spec == spec and back.checkpoints == (10, 20)
    assert back.entries["mean"].tolist() == [90.0, 91.0] and np.isnan(back.entries["sem"][1])
    assert back.algorithm_names == {"rand": "random"}
    with pytest.raises(DataNotFoundError, match="nas-harness bless"):
        gate.read_baseline(tmp_path / "missing.json")


# -- end to end: bless with a good algorithm, weaken it, check must fail ----------------------

@dataclass(frozen=True)
class _NoParams:
    """No parameters."""


class GateToy(Algorithm):
    """Samples feasible architectures; when WEAK, only from the smallest (worst) tenth."""

    Params = _NoParams
    WEAK = False

    def __init__(self, context, rng, params=None):
        super().__init__(context, rng, params)
        feasible = context.feasible_indices()
        if self.WEAK:
            feasible = feasible[np.argsort(context.flops[feasible])][: len(feasible) // 10]
        self._order = rng.permutation(feasible)
        self._next = 0

    def ask(self, max_batch):
        out = self._order[self._next:self._next + 1]
        self._next += 1
        return out.astype(np.int64)

    def tell(self, indices, valid_acc):
        pass


@pytest.fixture
def toy_algorithm():
    from algorithms import registry

    registry.register("gate-toy")(GateToy)
    yield "gate-toy"
    GateToy.WEAK = False
    registry._forget("gate-toy")


@pytest.fixture(scope="module")
def table():
    return synthetic_table(0)


def test_check_fails_on_a_deliberately_weakened_algorithm(toy_algorithm, table, tmp_path,
                                                          monkeypatch, capsys):
    spec = SweepSpec(algorithms=(toy_algorithm,), datasets=("cifar10",), runs=6, budget=20)
    baseline = tmp_path / "baseline.json"
    gate.bless(baseline, spec, tmp_path / "bless-runs", table=table, checkpoints=(5, 20),
               workers=1)
    record = json.loads(baseline.read_text())
    assert {(e["algorithm"], e["query"]) for e in record["entries"]} == \
        {("gate-toy", 5), ("gate-toy", 20)}

    same = gate.check(baseline, tmp_path / "same", table=table, workers=1)
    assert same.passed and (same.table["delta"] == 0).all()

    monkeypatch.setattr(analysis_cli, "_table", lambda: table)
    GateToy.WEAK = True
    weak = gate.check(baseline, tmp_path / "weak", table=table, workers=1)
    assert not weak.passed
    assert set(weak.failures["status"]) == {"REGRESSED"}
    assert (weak.failures["delta"] < -weak.failures["allowed_drop"]).all()

    # the command exits 1 and prints the table of what moved
    code = main(["check", "--baseline", str(baseline), "--workers", "1", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 1
    assert "REGRESSED" in out and "gate FAILED" in out and "baseline_mean" in out

    GateToy.WEAK = False
    assert main(["check", "--baseline", str(baseline), "--workers", "1", "--no-progress"]) == 0


def test_check_reruns_even_when_stale_runs_are_in_the_directory(toy_algorithm, table,
                                                                tmp_path):
    spec = SweepSpec(algorithms=(toy_algorithm,), datasets=("cifar10",), runs=4, budget=10)
    runs = tmp_path / "runs"
    gate.bless(tmp_path / "b.json", spec, runs, table=table, checkpoints=(10,), workers=1)
    GateToy.WEAK = True
    # the runs of the strong version are still in `runs`: check must not reuse them
    assert not gate.check(tmp_path / "b.json", runs, table=table, workers=1).passed


def test_cli_defaults_match_the_gate_module():
    assert analysis_cli.DEFAULT_TOLERANCE == gate.DEFAULT_TOLERANCE
    assert analysis_cli.DEFAULT_BASELINE == gate.DEFAULT_BASELINE


def test_every_builtin_algorithm_has_a_baseline_entry_and_every_entry_an_algorithm():
    if not COMMITTED_BASELINE.is_file():
        pytest.skip(f"{COMMITTED_BASELINE.relative_to(REPO)} not generated yet: run "
                    "`nas-harness bless` to create it")
    from algorithms.registry import available_algorithms

    baseline = gate.read_baseline(COMMITTED_BASELINE)
    names = set(baseline.algorithm_names.values())
    builtin = set(gate.builtin_algorithms())
    # an empty registry would pass the comparisons below: pin the algorithms that ship
    assert {"evolution", "layernas", "ppo", "random", "reinforce"} <= builtin
    assert builtin - names == set(), "registered algorithms without a baseline entry " \
        "(run `nas-harness bless`)"
    assert names - set(available_algorithms()) == set(), "baseline entries whose algorithm " \
        "is not registered (run `nas-harness bless`)"
    labels = set(baseline.entries["algorithm"])
    assert labels == set(baseline.algorithm_names), "every algorithm needs entries"
    for label in labels:
        datasets = set(baseline.entries.loc[baseline.entries["algorithm"] == label, "dataset"])
        assert datasets == set(baseline.spec.datasets)
