"""tools/mutation.py: which mutants it excludes, how entries match, what the record trusts."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from tools import mutation
from tools import mutation_run as run

REPO = Path(__file__).resolve().parents[2]

# every module that decides a published number is gated (the algorithms and their shared
# parts, the runner, records, protocol, cost model, oracle, tuning, gate, seeding, statistics)
GATED = {
    "nas_harness/algorithms/layernas.py", "nas_harness/algorithms/random_search.py",
    "nas_harness/algorithms/regularized_evolution.py", "nas_harness/algorithms/ppo.py",
    "nas_harness/algorithms/reinforce.py", "nas_harness/algorithms/_common.py",
    "nas_harness/algorithms/_policy.py", "nas_harness/algorithms/search_loop.py",
    "nas_harness/runner.py", "nas_harness/benchmarks/records.py",
    "nas_harness/benchmarks/run_files.py", "nas_harness/benchmarks/protocol.py",
    "nas_harness/benchmarks/cost_model.py", "nas_harness/benchmarks/oracle.py",
    "nas_harness/tune.py", "nas_harness/gate.py", "nas_harness/seeding.py",
    "nas_harness/analysis/metrics/aggregate.py", "nas_harness/analysis/metrics/criteria.py",
    "nas_harness/analysis/metrics/significance.py", "nas_harness/analysis/metrics/ranks.py",
    "nas_harness/analysis/metrics/anytime.py",
}


def _pair(orig: str, mutant: str) -> tuple[ast.AST, ast.AST]:
    return ast.parse(orig).body[0], ast.parse(mutant).body[0]


@pytest.mark.parametrize(("mutant", "excluded"), [
    # the wording of an error message only: excluded
    ("def f(x):\n    if x < 0:\n        raise ValueError('XXbadXX')\n    return 'ok'", True),
    ("def f(x):\n    if x < 0:\n        raise ValueError('BAD')\n    return 'ok'", True),
    # a string outside a raise, or any non-string change: counted
    ("def f(x):\n    if x < 0:\n        raise ValueError('bad')\n    return 'XXokXX'", False),
    ("def f(x):\n    if x <= 0:\n        raise ValueError('bad')\n    return 'ok'", False),
    ("def f(x):\n    if x < 0:\n        raise ValueError(None)\n    return 'ok'", False),
    ("def f(x):\n    if x < 0:\n        raise ValueError('bad')\n    return 'ok'", False),
])
def test_only_string_changes_inside_a_raise_are_excluded(mutant, excluded):
    orig = "def f(x):\n    if x < 0:\n        raise ValueError('bad')\n    return 'ok'"
    assert run._string_only_in_raise(*_pair(orig, mutant)) is excluded


@pytest.mark.parametrize(("name", "location"), [
    ("x_compare__mutmut_12", "compare"), ("x__scores__mutmut_3", "_scores"),
    ("xǁOracleǁquery__mutmut_7", "Oracle.query"),
    ("xǁOracleǁ__init____mutmut_1", "Oracle.__init__"),
])
def test_a_mutant_is_located_by_its_function_or_class_and_method(name, location):
    assert run._location(name) == location


def test_a_mutant_is_named_by_its_function_and_the_line_it_changes():
    orig, mutant = _pair("def x_f__mutmut_orig(x):\n    y = 2\n    return x + y",
                         "def x_f__mutmut_4(x):\n    y = 2\n    return x - y")
    got = run._mutant(orig, mutant, "x_f__mutmut_4")
    assert got == run.Mutant("f", "return x + y", "return x - y")
    assert got.entry() == '{ at = "f", was = "return x + y", now = "return x - y" }'
    assert mutation.tomllib.loads("m = " + got.entry())["m"] == {
        "at": "f", "was": "return x + y", "now": "return x - y"}


def _verdicts(undetected, detected=()):
    return run.Verdicts(detected=[run.Mutant(*m).digest() for m in detected],
                        undetected=[{"at": a, "was": w, "now": n, "status": "survived"}
                                    for a, w, n in undetected], excluded=2, seconds=3.0)


def test_an_entry_excuses_exactly_the_mutant_it_names():
    # the same mutated text in two functions: listing it for g leaves f's a survivor
    verdicts = _verdicts([("f", "return a", "return None"), ("g", "return a", "return None")],
                         detected=[("f", "x = 1", "x = 2")] * 7)
    result = mutation.score("m.py", verdicts, [{"at": "g", "was": "return a",
                                                "now": "return None"}])
    assert (result.detected, result.undetected, result.equivalent, result.excluded) == \
        (7, 1, 1, 2)
    assert result.score == pytest.approx(100 * 7 / 8)
    assert result.raw_score == pytest.approx(100 * 7 / 9)
    assert result.config_errors == []
    assert result.survivors == ['survived: { at = "f", was = "return a", now = "return None" }']


def test_the_original_line_is_part_of_the_key():
    verdicts = _verdicts([("f", "if n > 1:", "if n >= 1:"), ("f", "if n > 0:", "if n >= 1:")])
    result = mutation.score("m.py", verdicts, [{"at": "f", "was": "if n > 0:",
                                                "now": "if n >= 1:"}])
    assert (result.undetected, result.equivalent) == (1, 1)
    assert "if n > 1:" in result.survivors[0]


@pytest.mark.parametrize(("entry", "error"), [
    ({"at": "f", "was": "x = 1", "now": "x = 3"}, "no such mutant"),
    ({"at": "h", "was": "return a", "now": "return None"}, "no such mutant"),
    ({"at": "f", "was": "x = 1", "now": "x = 2"}, "detected by the tests"),
    ({"at": "f", "was": "y = a", "now": "y = None"}, "2 mutants match"),
])
def test_a_stale_or_ambiguous_entry_is_a_config_error_and_excuses_nothing(entry, error):
    verdicts = _verdicts([("f", "y = a", "y = None"), ("f", "y = a", "y = None")],
                         detected=[("f", "x = 1", "x = 2")])
    result = mutation.score("m.py", verdicts, [entry])
    assert len(result.config_errors) == 1 and error in result.config_errors[0]
    assert result.equivalent == 0 and result.undetected == 2


def test_the_test_files_of_a_module_include_their_conftest_and_helpers():
    files = mutation._test_files(["tests/test_nas_harness/test_gate.py"])
    assert "tests/conftest.py" in files and "tests/test_nas_harness/test_gate.py" in files
    adapters = mutation._test_files(["tests/test_algorithms/test_adapters_optuna.py"])
    assert "tests/test_algorithms/adapter_cases.py" in adapters
    runner = mutation._test_files(["tests/test_nas_harness/test_runner.py"])
    assert all(f.startswith("tests/") for f in runner)


def test_the_key_changes_with_the_module_its_tests_or_the_tool_and_nothing_else(monkeypatch):
    module = {"path": "nas_harness/seeding.py", "tests": ["tests/test_nas_harness/test_seeding.py"]}
    key = mutation.module_key(module)
    assert key == mutation.module_key(module) and set(key) == {"module", "tests", "tool", "key"}
    other = mutation.module_key({**module, "tests": [*module["tests"],
                                                     "tests/test_analysis/test_ranks.py"]})
    assert other["tests"] != key["tests"] and other["module"] == key["module"]
    assert other["key"] != key["key"]
    monkeypatch.setattr(mutation, "_version", lambda: "0.0.0")
    assert mutation.module_key(module)["tool"] != key["tool"]


def _config(tmp_path, entries=""):
    config = tmp_path / "mutation.toml"
    config.write_text('threshold = 90.0\n[[module]]\npath = "nas_harness/seeding.py"\n'
                      'tests = ["tests/test_nas_harness/test_seeding.py"]\n' + entries)
    return config


def _record(tmp_path, key, undetected=1, detected=19):
    record = tmp_path / "record.json"
    verdicts = _verdicts([("f", f"x = {i}", "x = None") for i in range(undetected)],
                         detected=[("f", f"y = {i}", "y = 0") for i in range(detected)])
    entry = {"key": key["key"], "parts": {p: key[p] for p in mutation.PARTS},
             **{**verdicts.__dict__, "detected": " ".join(verdicts.detected)}}
    record.write_text(json.dumps({"modules": {"nas_harness/seeding.py": entry}}))
    return record


def test_a_current_record_is_scored_without_running_mutmut(tmp_path, monkeypatch, capsys):
    def no_run(*args):
        raise AssertionError("a current record must not be re-run")

    monkeypatch.setattr(mutation, "run_module", no_run)
    config = _config(tmp_path)
    key = mutation.module_key(mutation.tomllib.loads(config.read_text())["module"][0])
    record = _record(tmp_path, key, undetected=1, detected=19)
    assert mutation.main(["--config", str(config), "--record", str(record)]) == 0
    out = capsys.readouterr().out
    assert "nas_harness/seeding.py: 95.0% (19/20" in out and "recorded" in out
    record = _record(tmp_path, key, undetected=3, detected=17)  # 85%: below the threshold
    assert mutation.main(["--config", str(config), "--record", str(record)]) == 1
    assert "failing: nas_harness/seeding.py (85.0%)" in capsys.readouterr().out


def test_a_stale_entry_fails_even_when_the_score_passes(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(mutation, "run_module", lambda *a: pytest.fail("must not run"))
    config = _config(tmp_path, '[[equivalent]]\npath = "nas_harness/seeding.py"\nwhy = "x"\n'
                               'mutants = [{ at = "f", was = "z = 1", now = "z = 2" }]\n')
    key = mutation.module_key(mutation.tomllib.loads(config.read_text())["module"][0])
    record = _record(tmp_path, key, undetected=0, detected=20)
    assert mutation.main(["--config", str(config), "--record", str(record)]) == 1
    out = capsys.readouterr().out
    assert "no such mutant (delete the entry)" in out and "stale [[equivalent]]" in out


def test_a_stale_record_is_re_run_and_written_only_when_asked(tmp_path, monkeypatch, capsys):
    ran = []

    def fake_run(path, tests, max_children, keep):
        ran.append(path)
        return _verdicts([], detected=[("f", "a", "b")])

    monkeypatch.setattr(mutation, "run_module", fake_run)
    config = _config(tmp_path)
    key = mutation.module_key(mutation.tomllib.loads(config.read_text())["module"][0])
    record = _record(tmp_path, {**key, "tests": "0" * 64, "key": "1" * 64})
    before = record.read_text()
    assert mutation.main(["--config", str(config), "--record", str(record)]) == 0
    assert ran == ["nas_harness/seeding.py"] and record.read_text() == before
    assert "running (changed: tests)" in capsys.readouterr().out
    assert mutation.main(["--config", str(config), "--record", str(record), "--update"]) == 0
    written = json.loads(record.read_text())["modules"]["nas_harness/seeding.py"]
    assert written["key"] == key["key"]
    assert written["detected"] == run.Mutant("f", "a", "b").digest()
    # now current: --all re-runs it anyway
    assert mutation.main(["--config", str(config), "--record", str(record)]) == 0
    assert len(ran) == 2
    assert mutation.main(["--config", str(config), "--record", str(record), "--all"]) == 0
    assert len(ran) == 3


def test_the_config_gates_every_module_that_decides_a_number():
    config = mutation.tomllib.loads(mutation.CONFIG.read_text())
    assert config["threshold"] >= 90
    paths = [m["path"] for m in config["module"]]
    assert GATED <= set(paths) and len(paths) == len(set(paths))
    for module in config["module"]:
        assert (REPO / module["path"]).is_file()
        assert module["tests"] and all((REPO / t).is_file() for t in module["tests"])
    for entry in config.get("equivalent", []):
        assert entry["path"] in paths and entry["why"].strip() and entry["mutants"]
        for m in entry["mutants"]:
            assert set(m) == {"at", "was", "now"} and m["was"] != m["now"]



def test_the_record_lists_only_configured_modules_with_their_key_parts():
    record = json.loads(mutation.RECORD.read_text())
    config = mutation.tomllib.loads(mutation.CONFIG.read_text())
    assert set(record["modules"]) <= {m["path"] for m in config["module"]}
    for entry in record["modules"].values():
        assert set(entry["parts"]) == set(mutation.PARTS) and len(entry["key"]) == 64


def test_a_survivor_reviewed_by_its_text_is_marked_but_still_counted(tmp_path, monkeypatch,
                                                                     capsys):
    monkeypatch.setattr(mutation, "run_module", lambda *a: pytest.fail("must not run"))
    config = _config(tmp_path, '[[pending]]\npath = "nas_harness/seeding.py"\nwhy = "x"\n'
                               'mutants = ["x = None"]\n')
    key = mutation.module_key(mutation.tomllib.loads(config.read_text())["module"][0])
    record = _record(tmp_path, key, undetected=1, detected=19)
    assert mutation.main(["--config", str(config), "--record", str(record),
                          "--survivors"]) == 0
    out = capsys.readouterr().out
    assert "95.0% (19/20" in out and "([[pending]]): check it" in out
