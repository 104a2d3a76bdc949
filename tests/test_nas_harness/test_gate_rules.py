"""The regression gate's rule at its boundaries, its printed table and its baseline file.

Every expectation is worked out by hand: exact one-sided Mann-Whitney p-values of fully
separated samples (1 / C(n + m, n)), means of small integer samples, literal JSON text.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest

from nas_harness import gate
from nas_harness.benchmarks.datasets import DATASET_NAMES
from nas_harness.benchmarks.errors import DataIntegrityError
from nas_harness.sweep import SweepSpec


def _entry(alg, values, query=50, dataset="cifar10"):
    v = np.asarray(values, dtype=float)
    sem = v.std(ddof=1) / math.sqrt(len(v)) if len(v) > 1 else np.nan
    return {"algorithm": alg, "dataset": dataset, "query": query, "mean": v.mean(), "sem": sem,
            "values": list(v)}


def _frame(*entries):
    return pd.DataFrame(list(entries))


def _status(result):
    return result.table.set_index("algorithm")["status"].to_dict()


# -- the rule at its boundaries ---------------------------------------------------------------

def test_a_p_value_equal_to_alpha_is_not_significant():
    # 3 runs against 3, fully separated: the exact one-sided p is 1 / C(6, 3) = 1/20 = alpha
    base = _frame(_entry("a", [10, 11, 12]))
    up = gate.compare(base, _frame(_entry("a", [20, 21, 22])), tolerance=0.2)
    down = gate.compare(base, _frame(_entry("a", [0, 1, 2])), tolerance=0.2)
    assert _status(up) == {"a": "ok"} and _status(down) == {"a": "ok"}
    assert down.table["p_worse"][0] == pytest.approx(0.05)
    # with one more run each side the p-value is 1/70 and both directions are flagged
    base4 = _frame(_entry("a", [10, 11, 12, 13]))
    assert _status(gate.compare(base4, _frame(_entry("a", [20, 21, 22, 23])), 0.2)) == \
        {"a": "improved"}
    assert _status(gate.compare(base4, _frame(_entry("a", [0, 1, 2, 3])), 0.2)) == \
        {"a": "REGRESSED"}


def test_a_change_of_exactly_the_tolerance_is_allowed():
    # 5 against 5 fully separated (p = 1/252), means 2 and 12: a change of exactly 10 points
    low, high = _frame(_entry("a", [0, 1, 2, 3, 4])), _frame(_entry("a", [10, 11, 12, 13, 14]))
    assert _status(gate.compare(low, high, tolerance=10.0)) == {"a": "ok"}
    assert _status(gate.compare(high, low, tolerance=10.0)) == {"a": "ok"}
    assert _status(gate.compare(low, high, tolerance=9.99)) == {"a": "improved"}
    assert _status(gate.compare(high, low, tolerance=9.99)) == {"a": "REGRESSED"}


def test_a_significant_change_within_the_tolerance_is_ok_both_ways():
    base = [10.0, 10.01, 10.02, 10.03, 10.04]
    down = gate.compare(_frame(_entry("a", base)), _frame(_entry("a", np.subtract(base, 0.1))),
                        tolerance=0.2)
    up = gate.compare(_frame(_entry("a", base)), _frame(_entry("a", np.add(base, 0.1))),
                      tolerance=0.2)
    assert down.table["p_worse"][0] == pytest.approx(1 / 252)
    assert _status(down) == {"a": "ok"} and _status(up) == {"a": "ok"}


def test_a_rise_beyond_the_tolerance_that_is_not_significant_is_ok():
    base = [88.0, 93.0, 90.0, 85.0, 91.0]
    cur = [89.5, 93.0, 90.0, 85.0, 91.0]     # mean +0.3, one run of five moved
    result = gate.compare(_frame(_entry("a", base)), _frame(_entry("a", cur)), tolerance=0.2)
    assert result.table["delta"][0] == pytest.approx(0.3)
    assert _status(result) == {"a": "ok"}


def test_one_current_run_is_tested_one_sided():
    # one value below (above) all 20 baseline values: exact one-sided p = 1/21 < 0.05, while
    # the two-sided p, 2/21, is not
    base = _frame(_entry("a", np.arange(81.0, 101.0)))
    down = gate.compare(base, _frame(_entry("a", [60.0])), tolerance=0.2)
    assert _status(down) == {"a": "REGRESSED"}
    assert down.table["p_worse"][0] == pytest.approx(1 / 21)
    assert down.table["delta"][0] == pytest.approx(60.0 - 90.5)
    assert _status(gate.compare(base, _frame(_entry("a", [120.0])), 0.2)) == {"a": "improved"}


def test_entries_after_a_missing_one_or_one_without_runs_are_still_judged():
    strong = [10.0, 11.0, 12.0, 13.0, 14.0]
    base = _frame(_entry("a-gone", strong), _entry("b-no-runs", strong), _entry("c-worse", strong))
    no_runs = {**_entry("b-no-runs", strong), "values": None}   # a mean, but no per-run values
    cur = _frame(no_runs, _entry("c-worse", np.subtract(strong, 10)))
    result = gate.compare(base, cur, tolerance=0.2)
    assert _status(result) == {"a-gone": "MISSING", "b-no-runs": "ok", "c-worse": "REGRESSED"}
    p = result.table.set_index("algorithm")["p_worse"]
    assert math.isnan(p["a-gone"]) and math.isnan(p["b-no-runs"])
    assert p["c-worse"] == pytest.approx(1 / 252)


def test_a_new_entry_is_listed_without_an_allowed_drop_and_is_not_format1():
    base = _frame(_entry("a", [1.0, 2.0]))
    result = gate.compare(base, _frame(_entry("a", [1.0, 2.0]), _entry("new", [5.0, 6.0])), 0.2)
    assert _status(result) == {"a": "identical", "new": "NO BASELINE"}
    assert result.legacy_entries == 0 and not result.passed
    assert list(result.table.columns) == list(gate.RESULT_COLUMNS)
    assert list(result.table.index) == [0, 1]
    assert result.table["allowed_drop"].dtype == np.float64
    assert result.table["allowed_drop"][0] == 0.2 and np.isnan(result.table["allowed_drop"][1])
    assert "format-1" not in result.format() and "Mann-Whitney" in result.format()


def test_queries_come_back_as_integers_and_rows_sorted():
    base = pd.DataFrame({"algorithm": ["b", "a"], "dataset": "cifar10", "query": [100.0, 50.0],
                         "mean": [1.0, 2.0], "sem": [0.1, 0.1]})
    table = gate.compare(base, base, 0.2).table
    assert table["query"].dtype == np.int64
    assert table[["algorithm", "query"]].values.tolist() == [["a", 50], ["b", 100]]


@pytest.mark.parametrize("which, drop, message", [
    ("baseline", ["sem"], "baseline summary lacks column(s) sem"),
    ("current", ["query", "mean"], "current summary lacks column(s) query, mean"),
])
def test_a_summary_without_a_column_is_refused_naming_it(which, drop, message):
    frames = {"baseline": _frame(_entry("a", [1.0, 2.0])),
              "current": _frame(_entry("a", [1.0, 2.0]))}
    frames[which] = frames[which].drop(columns=drop)
    with pytest.raises(DataIntegrityError) as exc:
        gate.compare(frames["baseline"], frames["current"], 0.2)
    assert str(exc.value) == message


# -- format 1 (means and standard errors only) at its boundaries ------------------------------

def _legacy(mean, sem, alg="a"):
    return pd.DataFrame([{"algorithm": alg, "dataset": "cifar10", "query": 50, "mean": mean,
                          "sem": sem}])


def test_format1_standard_errors_must_match_for_identical():
    one_run = _legacy(90.0, np.nan)
    assert _status(gate.compare(one_run, one_run, 0.2)) == {"a": "identical"}
    assert _status(gate.compare(one_run, _legacy(90.0, 0.1), 0.2)) == {"a": "ok"}
    assert _status(gate.compare(_legacy(90.0, 0.1), one_run, 0.2)) == {"a": "ok"}


def test_format1_change_of_exactly_the_allowed_drop_passes():
    base = _legacy(90.0, 0.01)     # 3 s.e. = 0.03 < tolerance 0.5
    assert _status(gate.compare(base, _legacy(90.5, 0.01), 0.5)) == {"a": "ok"}
    assert _status(gate.compare(base, _legacy(89.5, 0.01), 0.5)) == {"a": "ok"}
    assert _status(gate.compare(base, _legacy(90.5, 0.01), 0.49)) == {"a": "improved"}
    assert _status(gate.compare(base, _legacy(89.5, 0.01), 0.49)) == {"a": "REGRESSED"}


def test_allowed_drop_reads_a_missing_standard_error_as_none_or_nan():
    np.testing.assert_allclose(gate.allowed_drop([None, 0.5, 1], 0.2), [0.2, 1.5, 3.0])
    assert float(gate.allowed_drop(None, 0.7)) == 0.7


# -- the printed table ------------------------------------------------------------------------

def test_format_prints_rounded_columns_signed_deltas_and_exact_counts():
    base = _frame(_entry("a", [10, 11, 12, 13, 14]), _entry("b", [1.0, 2.0]))
    cur = _frame(_entry("a", [20, 21, 22, 23, 24]), _entry("b", [1.0, 2.0]))
    result = gate.compare(base, cur, tolerance=0.2)
    lines = result.format().splitlines()
    assert lines[0].split() == list(gate.RESULT_COLUMNS)            # no index column
    # the exact text: without an index, pandas pads text columns by one space only (with
    # to_string(index=None) it pads them by two, and the header moves)
    assert lines[0] == ("algorithm dataset  query baseline_mean baseline_sem current_mean "
                        "current_sem   delta allowed_drop p_worse    status")
    assert lines[2] == ("        b cifar10     50         1.500        0.500        1.500 "
                        "      0.500  +0.000        0.200       - identical")
    # a: mean 12 -> 22, s.e. sqrt(2.5 / 5) = 0.7071, p(worse) = 1 - 1/252 rounded
    assert lines[1].split() == ["a", "cifar10", "50", "12.000", "0.707", "22.000", "0.707",
                                "+10.000", "0.200", "1.0000", "improved"]
    assert lines[2].split() == ["b", "cifar10", "50", "1.500", "0.500", "1.500", "0.500",
                                "+0.000", "0.200", "-", "identical"]
    assert lines[3] == ("gate passed: 2 entries, 1 identical to the baseline, 0 changed but "
                        "not worse, 1 improved (regressed = one-sided Mann-Whitney p (Holm "
                        "over entries) < 0.05 and a drop of more than 0.2 points)")
    assert len(lines) == 4
    worse = gate.compare(cur, base, tolerance=0.2).format().splitlines()
    assert worse[1].split()[7] == "-10.000"
    assert worse[-1] == ("gate FAILED: 1 of 2 entries regressed or are missing (regressed = "
                         "one-sided Mann-Whitney p (Holm over entries) < 0.05 and a drop of "
                         "more than 0.2 points)")


def test_format_counts_zero_identical_and_changed_entries():
    base = _frame(_entry("a", [10.0, 11.0, 12.0, 13.0, 14.0]))
    result = gate.compare(base, _frame(_entry("a", [10.0, 11.0, 12.0, 13.0, 14.5])), 0.2)
    assert result.format().splitlines()[-1].startswith(
        "gate passed: 1 entries, 0 identical to the baseline, 1 changed but not worse, "
        "0 improved (")


def test_num_prints_dashes_for_missing_values():
    assert gate._num(float("nan"), 3) == "-" and gate._num(None, 3) == "-"
    assert gate._num(1.23456, 3) == "1.235" and gate._num(1.23456, 4) == "1.2346"
    assert gate._num(0.5, 3, signed=True) == "+0.500" and gate._num(0.5, 3) == "0.500"
    assert gate._num(-0.5, 3) == "-0.500"


# -- the baseline file ------------------------------------------------------------------------

SPEC = SweepSpec(algorithms=(("random", {"replace": True}, "rand"),), datasets=("cifar10",),
                 runs=3, budget=20, fidelity="12", max_flops_fraction=0.25, master_seed=7)
SWEEP = {"algorithms": [{"name": "random", "label": "rand", "params": {"replace": True}}],
         "datasets": ["cifar10"], "runs": 3, "budget": 20, "fidelity": "12",
         "max_flops_fraction": 0.25, "master_seed": 7}
ABOUT = ("nas-harness regression baseline: mean, standard error and each run's value of the "
         "incumbent's test accuracy (%) at each checkpoint; `nas-harness check` re-runs the "
         "sweep and fails an entry whose values are lower by a one-sided Mann-Whitney U test "
         "(Holm over entries, alpha 0.05) and whose mean dropped by more than the tolerance; "
         "`nas-harness bless` rewrites this file")


def _summary():
    """Checkpoint entries as checkpoint_entries gives them: 1, 5 and 30 (beyond the budget)."""
    return pd.DataFrame([
        {"algorithm": "rand", "dataset": "cifar10", "query": 5, "mean": 90.0, "sem": 1.0,
         "n": 2, "n_runs": 3, "values": [89.0, 91.0]},
        {"algorithm": "rand", "dataset": "cifar10", "query": 1, "mean": 88.0, "sem": np.nan,
         "n": 1, "n_runs": 3, "values": [88.0]},
        {"algorithm": "rand", "dataset": "cifar10", "query": 30, "mean": 1.0, "sem": 0.0,
         "n": 1, "n_runs": 3, "values": [1.0]},
    ])


def test_spec_record_is_the_sweep_with_its_overrides():
    assert gate.spec_record(SPEC) == SWEEP
    assert gate.spec_from_record(SWEEP) == SPEC


def test_spec_from_a_minimal_record_takes_the_documented_defaults():
    spec = gate.spec_from_record({"algorithms": [{"name": "random"}], "datasets": ["cifar10"],
                                  "runs": 2, "budget": 10})
    assert spec == SweepSpec(algorithms=(("random", {}, "random"),), datasets=("cifar10",),
                             runs=2, budget=10, fidelity="90", max_flops_fraction=None,
                             master_seed=0)


def test_baseline_record_and_file_are_exactly_the_format():
    record = gate.baseline_record(SPEC, _summary(), [30, 5, 1, 0, 5], "abc",
                                  {"rand": {"replace": True}})
    entry1 = {"algorithm": "rand", "dataset": "cifar10", "query": 1, "mean": 88.0, "sem": None,
              "n": 1, "n_runs": 3, "values": [88.0]}
    entry5 = {"algorithm": "rand", "dataset": "cifar10", "query": 5, "mean": 90.0, "sem": 1.0,
              "n": 2, "n_runs": 3, "values": [89.0, 91.0]}
    assert record == {"format": 2, "about": ABOUT, "sweep": SWEEP, "checkpoints": [1, 5],
                      "table_checksum": "abc", "entries": [entry1, entry5],
                      "params_at_bless": {"rand": {"replace": True}}}
    assert list(record) == ["format", "about", "sweep", "checkpoints", "table_checksum",
                            "entries", "params_at_bless"]
    assert "params_at_bless" not in gate.baseline_record(SPEC, _summary(), [5], "abc")


def test_write_baseline_puts_one_entry_per_line(tmp_path):
    record = {"format": 2, "sweep": {"runs": 3, "datasets": ["cifar10"]},
              "entries": [{"query": 1, "values": [88.0]}, {"query": 5, "values": [89.0, 91.0]}],
              "after": {"x": 1}}
    path = gate.write_baseline(record, tmp_path / "deep" / "er" / "baseline.json")
    assert path.read_text(encoding="utf-8") == (
        '{\n'
        ' "format": 2,\n'
        ' "sweep": {\n'
        '  "runs": 3,\n'
        '  "datasets": [\n'
        '   "cifar10"\n'
        '  ]\n'
        ' },\n'
        ' "entries": [\n'
        '  {"query": 1, "values": [88.0]},\n'
        '  {"query": 5, "values": [89.0, 91.0]}\n'
        ' ],\n'
        ' "after": {\n'
        '  "x": 1\n'
        ' }\n'
        '}\n')
    assert json.loads(path.read_text()) == record


def test_write_baseline_without_entries_is_plain_indented_json(tmp_path):
    path = gate.write_baseline({"format": 2, "entries": []}, tmp_path / "b.json")
    assert path.read_text() == '{\n "format": 2,\n "entries": []\n}\n'


def test_write_baseline_survives_strings_that_look_like_its_layout(tmp_path):
    # a parameter value or label spelling a placeholder or the entries key must not be taken
    # for the entries' position
    record = {"format": 2,
              "sweep": {"params": {"a": '"@@0@@"', "b": "@@1@@", "c": ' "entries": []'}},
              "entries": [{"algorithm": "@@1@@", "values": [1.0]},
                          {"algorithm": "x", "values": [2.0]}]}
    path = gate.write_baseline(record, tmp_path / "b.json")
    assert json.loads(path.read_text()) == record
    assert len(path.read_text().splitlines()) == 14


@pytest.mark.parametrize("record", [
    {"format": 2, "entries": [], "sweep": {"max_flops_fraction": float("nan")}},
    {"format": 2, "entries": [{"mean": float("nan")}]},
    {"format": 2, "entries": [{"mean": 1.0}], "sweep": {"max_flops_fraction": float("inf")}},
])
def test_write_baseline_never_writes_nan_or_infinity(record, tmp_path):
    with pytest.raises(ValueError, match="not JSON compliant"):
        gate.write_baseline(record, tmp_path / "b.json")
    assert not (tmp_path / "b.json").exists()


def _record():
    """A valid format-2 baseline, written out by hand."""
    return {"format": 2, "sweep": json.loads(json.dumps(SWEEP)), "checkpoints": [1, 5],
            "table_checksum": "abc",
            "entries": [{"algorithm": "rand", "dataset": "cifar10", "query": 1, "mean": 88.0,
                         "sem": None, "values": [88.0]},
                        {"algorithm": "rand", "dataset": "cifar10", "query": 5, "mean": 90,
                         "sem": 1.0, "values": [89, 91]}]}


def _file(tmp_path, record):
    path = tmp_path / "baseline.json"
    path.write_text(record if isinstance(record, str) else json.dumps(record), encoding="utf-8")
    return path


def test_read_baseline_gives_float_columns_and_the_checksum(tmp_path):
    back = gate.read_baseline(_file(tmp_path, _record()))
    assert back.spec == SPEC and back.checkpoints == (1, 5) and back.table_checksum == "abc"
    assert back.entries["mean"].dtype == np.float64 and back.entries["sem"].dtype == np.float64
    assert back.entries["mean"].tolist() == [88.0, 90.0]
    assert np.isnan(back.entries["sem"][0]) and back.entries["sem"][1] == 1.0
    assert back.entries["query"].tolist() == [1, 5]
    record = _record()
    del record["table_checksum"]
    assert gate.read_baseline(_file(tmp_path, record)).table_checksum == ""
    # JSON integers and nulls only: the columns are still floats
    record["entries"][0].update(mean=88, values=[88])
    record["entries"][1].update(sem=None)
    entries = gate.read_baseline(_file(tmp_path, record)).entries
    assert entries["mean"].dtype == np.float64 and entries["sem"].dtype == np.float64
    assert entries["mean"].tolist() == [88.0, 90.0] and entries["sem"].isna().all()


def test_read_baseline_accepts_entries_that_share_a_query_across_algorithms_and_datasets(
        tmp_path):
    record = _record()
    record["sweep"]["algorithms"].append({"name": "random", "label": "other", "params": {}})
    record["sweep"]["datasets"].append("cifar100")
    record["entries"] = [{"algorithm": a, "dataset": d, "query": 5, "mean": 1.0, "sem": None,
                          "values": [1.0]}
                         for a in ("rand", "other") for d in ("cifar10", "cifar100")]
    back = gate.read_baseline(_file(tmp_path, record))
    assert len(back.entries) == 4 and back.algorithm_names == {"rand": "random",
                                                               "other": "random"}


def test_read_baseline_checks_the_mean_to_1e9(tmp_path):
    record = _record()
    record["entries"][1].update(values=[1e-12, 0.0], mean=0.0)    # 5e-13 off: rounding
    gate.read_baseline(_file(tmp_path, record))
    record["entries"][1].update(values=[89.0, 91.0], mean=90.01)  # 0.01 off: another mean
    with pytest.raises(gate.GateError, match="not the mean of its values"):
        gate.read_baseline(_file(tmp_path, record))


def _set(index, **changes):
    return lambda r: r["entries"][index].update(changes)


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r["entries"].__setitem__(0, 5), "entry 0 is not an object"),
    (lambda r: r.update(entries={}), "'entries' must be a non-empty list"),
    (_set(1, query=0), "entry 1 (rand, cifar10, query 0) has a query that is not a positive"),
    (_set(1, query=True), "entry 1 (rand, cifar10, query True) has a query that is not"),
    (_set(1, query="5"), "entry 1 (rand, cifar10, query 5) has a query that is not"),
    (_set(1, query=2.5), "entry 1 (rand, cifar10, query 2.5) has a query that is not"),
    (_set(1, sem="x"), "entry 1 (rand, cifar10, query 5) has sem 'x', not a finite number"),
    (_set(1, sem=float("inf")), "has sem inf, not a finite number"),
    (_set(0, mean=float("-inf")), "entry 0 (rand, cifar10, query 1) has mean -inf, not a"),
    (_set(1, values=[]), "entry 1 (rand, cifar10, query 5) has 'values' that are not a "
                         "non-empty list of finite numbers"),
    (_set(1, values="89"), "has 'values' that are not a non-empty list"),
    (_set(1, values=[89.0, True]), "has 'values' that are not a non-empty list"),
    (lambda r: r["entries"][1].pop("sem"), "entry 1 (rand, cifar10, query 5) lacks sem"),
    (lambda r: r["entries"][0].pop("algorithm"), "entry 0 (None, cifar10, query 1) lacks "
                                                 "algorithm"),
    (_set(1, query=1), "entry 1 (rand, cifar10, query 1) is duplicated"),
    (_set(1, mean=90.5), "entry 1 (rand, cifar10, query 5) has a mean that is not the mean"),
    (lambda r: r.update(format=99), "baseline format 99, this version reads formats 1, 2"),
    (lambda r: r.pop("sweep"), "malformed sweep or checkpoints (KeyError: 'sweep')"),
    (lambda r: r.update(checkpoints=["x"]), "malformed sweep or checkpoints (ValueError"),
    (lambda r: r["sweep"].update(runs=0), "its sweep is invalid (runs must be an integer"),
    (lambda r: r["sweep"].update(datasets=["nope"]),
     "its sweep is invalid (unknown dataset 'nope'"),
])
def test_a_broken_baseline_names_the_file_the_entry_and_the_problem(tmp_path, mutate, message):
    record = _record()
    mutate(record)
    path = _file(tmp_path, record)
    with pytest.raises(gate.GateError) as exc:
        gate.read_baseline(path)
    text = str(exc.value)
    assert text.startswith(f"baseline {path}: ") and message in text
    assert text.endswith("; re-create it with `nas-harness bless`") and "\n" not in text


@pytest.mark.parametrize("text, message", [("[1, 2]", "found a JSON list"),
                                           ("{not json", "not valid JSON (")])
def test_a_file_that_is_not_a_baseline_names_the_file(tmp_path, text, message):
    path = _file(tmp_path, text)
    with pytest.raises(gate.GateError) as exc:
        gate.read_baseline(path)
    assert str(exc.value).startswith(f"baseline {path}: ") and message in str(exc.value)


def test_a_baseline_needs_a_checkpoint_in_the_budget_and_per_run_values():
    with pytest.raises(gate.GateError) as exc:
        gate.baseline_record(SPEC, _summary(), [0, 21, 500], "abc")
    assert str(exc.value) == "no checkpoint within the budget of 20: [0, 21, 500]"
    with pytest.raises(gate.GateError) as exc:
        gate.baseline_record(SPEC, _summary().drop(columns="values"), [5], "abc")
    assert "checkpoint_entries(curves, checkpoints)" in str(exc.value)


# -- what the baseline sweep is ---------------------------------------------------------------

def test_builtin_algorithms_are_the_shipped_ones_without_adapters_or_plugins():
    from nas_harness.algorithms.registry import available_algorithms

    names = set(available_algorithms())
    assert {"optuna:tpe", "pyglove:random"} <= names      # adapters are registered ...
    assert set(gate.builtin_algorithms()) == {"evolution", "layernas", "multi-distribution",
                                              "ppo", "random", "reinforce"}


def test_default_spec_is_every_builtin_on_every_dataset():
    spec = gate.default_spec()
    assert [a.name for a in spec.algorithms] == gate.builtin_algorithms()
    assert spec.datasets == DATASET_NAMES == ("cifar10", "cifar100", "ImageNet16-120")
    assert (spec.runs, spec.budget, spec.master_seed, spec.fidelity, spec.max_flops_fraction) \
        == (100, 500, 0, "90", 0.5)
    small = gate.default_spec(runs=3, budget=7, master_seed=2, algorithms=["random", "ppo"])
    assert [a.name for a in small.algorithms] == ["random", "ppo"]
    assert (small.runs, small.budget, small.master_seed) == (3, 7, 2)


def test_full_params_fill_in_the_defaults_around_the_overrides():
    spec = SweepSpec(algorithms=(("random", {"replace": True}, "rand"), "evolution"),
                     datasets=("cifar10",), runs=1, budget=5)
    params = gate.full_params(spec)
    assert params["rand"] == {"replace": True}
    assert params["evolution"]["population_size"] == 87   # the tuned default (README)
