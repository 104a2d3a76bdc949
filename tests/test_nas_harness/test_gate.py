"""The regression gate: the comparison rule, the baseline file, and a weakened algorithm."""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nas_harness import gate
from nas_harness.algorithms.base import Algorithm
from nas_harness.analysis.testing import synthetic_table
from nas_harness.benchmarks.errors import DataIntegrityError, DataNotFoundError
from nas_harness.cli import analysis as analysis_cli
from nas_harness.cli import main
from nas_harness.sweep import SweepSpec

REPO = Path(__file__).resolve().parents[2]
COMMITTED_BASELINE = REPO / "results" / "baseline.json"


def _rows(values):
    return pd.DataFrame(values, columns=["algorithm", "dataset", "query", "mean", "sem"])


def _entries(per_entry):
    """Entries with per-run values: {(algorithm, query): values}."""
    rows = []
    for (alg, query), values in per_entry.items():
        v = np.asarray(values, dtype=float)
        rows.append({"algorithm": alg, "dataset": "cifar10", "query": query, "mean": v.mean(),
                     "sem": v.std(ddof=1) / np.sqrt(len(v)), "values": list(v)})
    return pd.DataFrame(rows)


# -- format 1 entries (means and standard errors only): the old rule -------------------------

def test_drop_allowed_is_max_of_three_standard_errors_and_tolerance():
    np.testing.assert_allclose(gate.allowed_drop([0.01, 0.1, np.nan], 0.2), [0.2, 0.3, 0.2])


def test_format1_entries_flag_regressions_beyond_the_allowed_drop_only():
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
    assert status[("new", 50)] == "NO BASELINE"
    assert not result.passed and len(result.failures) == 4
    text = result.format()
    assert "REGRESSED" in text and "gate FAILED: 4 of 6" in text
    assert "-0.210" in text


def test_format1_identical_summaries_are_identical():
    base = _rows([("a", "cifar10", 50, 90.0, 0.1)])
    result = gate.compare(base, base, tolerance=0.0)
    assert result.passed and result.table["delta"].tolist() == [0.0]
    assert result.table["status"].tolist() == ["identical"]
    assert "gate passed" in result.format() and "1 identical" in result.format()
    assert "format-1 baseline" in result.format()


# -- format 2 entries (every run's value): one-sided Mann-Whitney, Holm, tolerance ------------

RUNS = np.linspace(90.0, 91.0, 20)


def test_per_run_values_tell_identical_changed_improved_and_regressed_apart():
    base = _entries({("same", 50): RUNS, ("noise", 50): RUNS, ("worse", 50): RUNS,
                     ("better", 50): RUNS, ("tiny", 50): RUNS})
    cur = _entries({("same", 50): RUNS,
                    ("noise", 50): RUNS[::-1] + np.r_[0.01, np.zeros(19)],  # reshuffled
                    ("worse", 50): RUNS - 1.0,      # a known shift of 1 point down
                    ("better", 50): RUNS + 1.0,
                    ("tiny", 50): RUNS - 0.1})      # consistent but within the tolerance
    result = gate.compare(base, cur, tolerance=0.2)
    status = result.table.set_index("algorithm")["status"]
    assert status.to_dict() == {"better": "improved", "noise": "ok", "same": "identical",
                                "tiny": "ok", "worse": "REGRESSED"}
    worse = result.table.set_index("algorithm").loc["worse"]
    assert worse["p_worse"] < 0.05 and np.isclose(worse["delta"], -1.0)
    assert np.isnan(result.table.set_index("algorithm").loc["same", "p_worse"])
    assert "gate FAILED: 1 of 5" in result.format()


def test_a_drop_beyond_the_tolerance_that_is_not_significant_passes():
    rng = np.random.default_rng(0)
    base = _entries({("a", 50): rng.normal(90, 3, 5)})
    cur = _entries({("a", 50): base["values"][0][::-1] - np.r_[1.5, 0, 0, 0, 0]})
    result = gate.compare(base, cur, tolerance=0.2)
    assert result.table["delta"][0] < -0.2 and result.table["status"][0] == "ok"


def test_holm_runs_over_all_entries():
    # 5 runs each: the exact one-sided p of a full separation is 1/252; Holm over 20 entries
    # multiplies the smallest by 20 (0.079 > 0.05), so none regresses
    low = np.arange(5.0)
    entries = {("a", q): low + 10 for q in range(1, 21)}
    result = gate.compare(_entries(entries), _entries({k: low for k in entries}), 0.2)
    assert result.passed and (result.table["p_worse"] > 0.05).all()
    one = gate.compare(_entries({("a", 1): low + 10}), _entries({("a", 1): low}), 0.2)
    assert not one.passed and one.table["p_worse"][0] == pytest.approx(1 / 252)


@pytest.mark.parametrize("tolerance", [float("nan"), float("inf"), -0.1, "x"])
def test_a_non_finite_or_negative_tolerance_is_an_error(tolerance):
    base = _entries({("a", 50): RUNS})
    with pytest.raises(gate.GateError, match=r"finite number >= 0|must be a number"):
        gate.compare(base, base, tolerance=tolerance)


@pytest.mark.parametrize("text", ["nan", "inf", "-1"])
def test_cli_refuses_a_non_finite_tolerance_in_one_line(text, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["check", "--tolerance", text])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "finite number >= 0" in err and "Traceback" not in err


def _spec():
    return SweepSpec(algorithms=(("random", {"replace": True}, "rand"),), datasets=("c10",),
                     runs=3, budget=20, master_seed=7)


def _curves_entries():
    from nas_harness.analysis.metrics.aggregate import VALUE_COLUMN, StepCurves

    values = np.array([[np.nan] * 9 + [90.0] * 21, [89.0] * 30, [91.0] * 30])
    runs = pd.DataFrame({"algorithm": "rand", "dataset": "cifar10",
                         "run_id": ["r0", "r1", "r2"], "run": [0, 1, 2]})
    return gate.checkpoint_entries(StepCurves(30, runs, {VALUE_COLUMN: values}), [5, 10, 20])


def test_checkpoint_entries_keep_checkpoints_1_to_the_budget_in_run_order():
    from nas_harness.analysis.metrics.aggregate import VALUE_COLUMN, StepCurves

    values = np.array([[np.nan, 80.0, 80.0], [70.0, 70.0, 75.0]])
    runs = pd.DataFrame({"algorithm": "a", "dataset": "cifar10", "run_id": ["r0", "r1"],
                         "run": [0, 1]})
    out = gate.checkpoint_entries(StepCurves(3, runs, {VALUE_COLUMN: values}), [0, 1, 3, 4, 3])
    assert list(out.columns) == ["algorithm", "dataset", "query", "mean", "sem", "n", "n_runs",
                                 "values"]
    assert list(out.index) == [0, 1]
    assert out["query"].tolist() == [1, 3] and out["values"].tolist() == [[70.0],
                                                                          [80.0, 75.0]]
    assert out["n"].tolist() == [1, 2] and out["n_runs"].tolist() == [2, 2]
    assert out["mean"].tolist() == [70.0, 77.5]


def test_baseline_file_round_trip_keeps_every_runs_value(tmp_path):
    entries = _curves_entries()
    assert entries["values"].tolist() == [[89.0, 91.0], [90.0, 89.0, 91.0], [90.0, 89.0, 91.0]]
    record = gate.baseline_record(_spec(), entries, [5, 10, 500], "abc")
    assert record["checkpoints"] == [5, 10] and record["format"] == 2  # 500 > budget
    path = gate.write_baseline(record, tmp_path / "b.json")
    back = gate.read_baseline(path)
    assert back.spec == _spec() and back.checkpoints == (5, 10) and back.format == 2
    assert back.entries["mean"].tolist() == [90.0, 90.0]
    assert back.entries["values"].tolist() == [[89.0, 91.0], [90.0, 89.0, 91.0]]
    assert back.algorithm_names == {"rand": "random"}
    assert len(path.read_text().splitlines()) < 40  # one line per entry
    with pytest.raises(DataNotFoundError, match="nas-harness bless"):
        gate.read_baseline(tmp_path / "missing.json")
    result = gate.compare(back.entries, entries, 0.2)
    assert set(result.table["status"]) == {"identical", "NO BASELINE"} and not result.passed
    (label,) = set(entries["algorithm"])
    allowed = gate.compare(back.entries, entries, 0.2, allow_missing=[label])
    assert set(allowed.table["status"]) == {"identical", "no baseline, allowed"}
    assert allowed.passed


def _write(tmp_path, record):
    path = tmp_path / "bad.json"
    path.write_text(record if isinstance(record, str) else json.dumps(record))
    return path


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r["entries"][0].update(mean=float("nan")), "mean nan, not a finite number"),
    (lambda r: r["entries"][0].update(mean=None), "mean None"),
    (lambda r: r["entries"][0].pop("mean"), "lacks mean"),
    (lambda r: r["entries"][0].pop("values"), "lacks values"),
    (lambda r: r["entries"][0]["values"].append(float("nan")), "finite numbers"),
    (lambda r: r["entries"][0].update(mean=50.0), "not the mean of its values"),
    (lambda r: r["entries"].append(dict(r["entries"][0])), "is duplicated"),
    (lambda r: r.update(format=99), "format 99"),
    (lambda r: r.update(entries=[]), "non-empty list"),
    (lambda r: r.pop("sweep"), "malformed sweep"),
])
def test_a_broken_baseline_is_one_clear_error(tmp_path, mutate, message):
    record = gate.baseline_record(_spec(), _curves_entries(), [5, 10], "abc")
    mutate(record)
    path = _write(tmp_path, json.dumps(record))  # json writes NaN as the token NaN
    with pytest.raises(gate.GateError, match=message) as exc:
        gate.read_baseline(path)
    assert "nas-harness bless" in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("text, message", [("[1, 2]", "found a JSON list"),
                                           ("{not json", "not valid JSON")])
def test_a_file_that_is_not_a_baseline_is_one_clear_error(tmp_path, text, message, capsys):
    path = _write(tmp_path, text)
    with pytest.raises(gate.GateError, match=message):
        gate.read_baseline(path)
    assert main(["check", "--baseline", str(path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_format1_baseline_is_read_and_judged_by_the_old_rule(tmp_path):
    record = gate.baseline_record(_spec(), _curves_entries(), [5, 10], "abc")
    record["format"] = 1
    for entry in record["entries"]:
        del entry["values"]
    back = gate.read_baseline(_write(tmp_path, record))
    assert back.format == 1 and "values" not in back.entries
    cur = _curves_entries()
    cur.loc[1, "mean"] -= 5.0
    status = gate.compare(back.entries, cur, 0.2).table["status"].tolist()
    assert status[:2] == ["identical", "REGRESSED"]


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
    from nas_harness.algorithms import registry

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
    assert set(same.table["status"]) == {"identical"}
    assert all(len(e["values"]) == 6 for e in record["entries"])

    monkeypatch.setattr(analysis_cli, "_table", lambda: table)
    GateToy.WEAK = True
    weak = gate.check(baseline, tmp_path / "weak", table=table, workers=1)
    assert not weak.passed
    assert record["table_checksum"] == table.provenance.checksum
    assert record["params_at_bless"] == {"gate-toy": {}}
    assert set(weak.failures["status"]) == {"REGRESSED"}
    assert (weak.failures["delta"] < -weak.failures["allowed_drop"]).all()
    assert (weak.failures["p_worse"] < gate.ALPHA).all()

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
    from nas_harness.algorithms.registry import available_algorithms

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


# -- what check counts, and what it is told ---------------------------------------------------

def _quiet(capsys):
    """Nothing on stderr: the library's bless/check/sweep_summary show no progress by default."""
    assert capsys.readouterr().err == ""


def test_check_honours_the_tolerance_and_alpha(toy_algorithm, table, tmp_path, monkeypatch,
                                               capsys):
    spec = SweepSpec(algorithms=(toy_algorithm,), datasets=("cifar10",), runs=6, budget=20)
    baseline = tmp_path / "baseline.json"
    gate.bless(baseline, spec, tmp_path / "runs", table=table, checkpoints=(20,), workers=1)
    GateToy.WEAK = True
    strict = gate.check(baseline, tmp_path / "runs", table=table, workers=1, tolerance=0.0)
    assert strict.table["status"].tolist() == ["REGRESSED"]
    drop = -float(strict.table["delta"][0])
    assert drop > 0.5 and strict.table["allowed_drop"].tolist() == [0.0]
    # the same runs with a tolerance larger than the drop pass: the drop is allowed
    loose = gate.check(baseline, tmp_path / "runs", table=table, workers=1,
                       tolerance=drop + 0.01)
    assert loose.passed and loose.table["status"].tolist() == ["ok"]
    assert loose.table["allowed_drop"][0] == pytest.approx(drop + 0.01)
    # ... and so do they at a level no six runs can reach (the exact p is at least 1/924)
    _quiet(capsys)
    unsure = gate.check(baseline, tmp_path / "runs", table=table, workers=1, tolerance=0.0,
                        alpha=1e-4, progress=True)
    assert unsure.passed and unsure.table["status"].tolist() == ["ok"]
    assert "6 runs to compute" in capsys.readouterr().err      # progress when asked
    monkeypatch.setattr(analysis_cli, "_table", lambda: table)
    args = ["check", "--baseline", str(baseline), "--workers", "1", "--no-progress"]
    assert main([*args, "--tolerance", f"{drop + 0.01}"]) == 0
    assert main([*args, "--tolerance", f"{drop - 0.01}"]) == 1


def test_check_ignores_leftover_runs_of_another_table_algorithm_or_dataset(
        toy_algorithm, table, tmp_path, capsys):
    from nas_harness.sweep import run_sweep

    other_table = synthetic_table(1)
    assert other_table.provenance.checksum != table.provenance.checksum
    spec = SweepSpec(algorithms=(toy_algorithm,), datasets=("cifar10",), runs=3, budget=10)
    runs = tmp_path / "runs"
    gate.bless(tmp_path / "b.json", spec, runs, table=table, checkpoints=(5, 10), workers=1)
    # leftovers in the same directory, none of them part of the baseline's sweep: another
    # label made with another table, another dataset, and two more runs of the same
    for leftover, with_table in [
            (SweepSpec(algorithms=((toy_algorithm, {}, "other"),), datasets=("cifar10",),
                       runs=3, budget=10), other_table),
            (SweepSpec(algorithms=(toy_algorithm,), datasets=("cifar100",), runs=3,
                       budget=10), table),
            (SweepSpec(algorithms=(toy_algorithm,), datasets=("cifar10",), runs=5, budget=10),
             table)]:
        assert run_sweep(leftover, runs, workers=1, progress=False, table=with_table).ok
    assert len(list(runs.rglob("*.parquet"))) == 3 + 3 + 3 + 2
    result = gate.check(tmp_path / "b.json", runs, table=table, workers=1)
    assert len(list(runs.rglob("*.parquet"))) == 3 + 3 + 3 + 2     # the leftovers are still there
    assert result.table[["algorithm", "dataset", "query", "status"]].values.tolist() == [
        ["gate-toy", "cifar10", 5, "identical"], ["gate-toy", "cifar10", 10, "identical"]]
    _quiet(capsys)


def test_sweep_curves_refuses_runs_of_another_table_the_sweep_left(toy_algorithm, table,
                                                                   tmp_path, monkeypatch):
    from nas_harness.sweep import run_sweep

    spec = SweepSpec(algorithms=(toy_algorithm,), datasets=("cifar10",), runs=2, budget=5)
    assert run_sweep(spec, tmp_path, workers=1, progress=False, table=synthetic_table(1)).ok

    class _Done:
        ok = True

    # a sweep that (wrongly) left the other table's runs in place must not be compared
    calls = []
    monkeypatch.setattr(gate, "run_sweep", lambda *args, **kwargs: calls.append(kwargs) or
                        _Done())
    with pytest.raises(DataIntegrityError, match="made with benchmark table"):
        gate.sweep_curves(spec, tmp_path, table=table)
    # by default it reuses complete runs and shows no progress
    assert calls[0]["force"] is False and calls[0]["progress"] is False


def test_sweep_summary_passes_its_options_to_the_sweep(monkeypatch, table, tmp_path):
    from nas_harness.analysis.metrics.aggregate import VALUE_COLUMN, StepCurves

    seen = {}
    runs = pd.DataFrame({"algorithm": "a", "dataset": "cifar10", "run_id": ["r0"], "run": [0]})

    def fake(spec, runs_dir, **kwargs):
        seen.update(kwargs, spec=spec, runs_dir=runs_dir)
        return StepCurves(2, runs, {VALUE_COLUMN: np.array([[np.nan, 70.0]])})

    monkeypatch.setattr(gate, "sweep_curves", fake)
    summary = gate.sweep_summary("spec", tmp_path, table=table, workers=3, progress=True,
                                 plugins=["p.py"], force=True)
    assert seen == {"spec": "spec", "runs_dir": tmp_path, "table": table, "workers": 3,
                    "progress": True, "plugins": ["p.py"], "force": True}
    assert summary["mean"].tolist()[1] == 70.0 and np.isnan(summary["mean"].tolist()[0])


def test_bless_reuses_complete_runs(toy_algorithm, table, tmp_path):
    spec = SweepSpec(algorithms=(toy_algorithm,), datasets=("cifar10",), runs=2, budget=5)
    gate.bless(tmp_path / "b.json", spec, tmp_path / "runs", table=table, workers=1,
               checkpoints=(5,))
    files = sorted((tmp_path / "runs").rglob("*.parquet"))
    stamps = [f.stat().st_mtime_ns for f in files]
    text = (tmp_path / "b.json").read_text()
    gate.bless(tmp_path / "b.json", spec, tmp_path / "runs", table=table, workers=1,
               checkpoints=(5,))
    assert [f.stat().st_mtime_ns for f in files] == stamps
    assert (tmp_path / "b.json").read_text() == text


def _plugin(path, name):
    path.write_text(f'''
import numpy as np
from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.registry import register


@register("{name}")
class Toy(Algorithm):
    """Feasible architectures in a random order."""

    def __init__(self, context, rng, params=None):
        super().__init__(context, rng, params)
        self._order, self._next = rng.permutation(context.feasible_indices()), 0

    def ask(self, max_batch):
        self._next += 1
        return self._order[self._next - 1:self._next].astype(np.int64)

    def tell(self, indices, valid_acc):
        pass
''')
    return path


def test_bless_and_check_load_the_plugins_they_are_given(table, tmp_path, capsys):
    from nas_harness.algorithms import registry

    name = "gate-plugin-toy"
    spec = SweepSpec(algorithms=(name,), datasets=("cifar10",), runs=2, budget=5)
    try:
        gate.bless(tmp_path / "b.json", spec, tmp_path / "runs", table=table, checkpoints=(5,),
                   workers=1, plugins=[_plugin(tmp_path / "first.py", name)], progress=True)
        assert "2 runs to compute" in capsys.readouterr().err     # progress when asked
        registry._forget(name)    # check must load it again, from the file it is given
        result = gate.check(tmp_path / "b.json", tmp_path / "runs", table=table, workers=1,
                            plugins=[_plugin(tmp_path / "second.py", name)])
        assert result.table["status"].tolist() == ["identical"]
    finally:
        registry._forget(name)
    _quiet(capsys)


class GateBroken(GateToy):
    """Fails on its first proposal."""

    def ask(self, max_batch):
        raise RuntimeError("broken on purpose")


class GateQuitter(GateToy):
    """Stops after one proposal in about half the runs, else after three."""

    def __init__(self, context, rng, params=None):
        super().__init__(context, rng, params)
        self._stop = 1 if rng.random() < 0.5 else 3

    def ask(self, max_batch):
        return super().ask(max_batch) if self._next < self._stop else np.empty(0, np.int64)


@pytest.fixture
def registered():
    from nas_harness.algorithms import registry

    names = []

    def register(name, cls):
        registry.register(name)(cls)
        names.append(name)
        return name

    yield register
    for name in names:
        registry._forget(name)


def test_a_sweep_with_a_failed_run_is_not_compared(registered, table, tmp_path):
    spec = SweepSpec(algorithms=(registered("gate-broken", GateBroken),),
                     datasets=("cifar10",), runs=1, budget=5)
    with pytest.raises(gate.GateError) as exc:
        gate.bless(tmp_path / "b.json", spec, tmp_path / "runs", table=table, workers=1,
                   checkpoints=(5,))
    text = str(exc.value)
    assert text.startswith("the sweep had failed runs, so it cannot be compared:\n")
    assert "broken on purpose" in text and "1 failed" in text
    assert not (tmp_path / "b.json").exists()


def test_runs_that_stop_early_still_count_and_the_budget_is_the_sweeps(registered, table,
                                                                       tmp_path):
    spec = SweepSpec(algorithms=(registered("gate-quitter", GateQuitter),),
                     datasets=("cifar10",), runs=6, budget=20)
    gate.bless(tmp_path / "b.json", spec, tmp_path / "runs", table=table, checkpoints=(3, 20),
               workers=1)
    entries = json.loads((tmp_path / "b.json").read_text())["entries"]
    # every run counts, the ones that stopped after one query included; 20 is a checkpoint although
    # no run went past query 3
    assert [(e["query"], e["n_runs"]) for e in entries] == [(3, 6), (20, 6)]
    assert entries[0]["n"] == 6 and entries[1]["values"] == entries[0]["values"]


def test_sweep_summary_agrees_with_the_run_files_and_reuses_them(toy_algorithm, table,
                                                                 tmp_path, capsys):
    spec = SweepSpec(algorithms=(toy_algorithm,), datasets=("cifar10",), runs=3, budget=10)
    runs = tmp_path / "runs"
    summary = gate.sweep_summary(spec, runs, table=table, workers=1)
    files = sorted(runs.rglob("*.parquet"))
    finals = [pd.read_parquet(f)["incumbent_test_acc"].iloc[-1] for f in files]
    last = summary[summary["query"] == 10].iloc[0]
    assert summary["query"].tolist() == list(range(1, 11)) and last["n_runs"] == 3
    assert last["mean"] == pytest.approx(np.mean(finals))
    stamps = [f.stat().st_mtime_ns for f in files]
    gate.sweep_summary(spec, runs, table=table, workers=1)
    assert [f.stat().st_mtime_ns for f in files] == stamps          # reused, not recomputed
    _quiet(capsys)
    gate.sweep_summary(spec, runs, table=table, workers=1, force=True, progress=True)
    assert all(f.stat().st_mtime_ns != s for f, s in zip(files, stamps, strict=True))
    assert "3 runs to compute" in capsys.readouterr().err      # progress when asked
