"""tools/mutation.py: which mutants it excludes as error text, and how it reads its config."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("mutation_tool", REPO / "tools" / "mutation.py")
assert _spec is not None and _spec.loader is not None
mutation = importlib.util.module_from_spec(_spec)
sys.modules["mutation_tool"] = mutation
_spec.loader.exec_module(mutation)


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
    assert mutation._string_only_in_raise(*_pair(orig, mutant)) is excluded


def test_diff_and_added_lines_name_the_change():
    orig, mutant = _pair("def x_f__mutmut_orig(x):\n    return x + 1",
                         "def x_f__mutmut_1(x):\n    return x - 1")
    diff = mutation._diff(orig, mutant, "x_f__mutmut_1")
    assert mutation._added(diff) == "return x - 1"


def test_the_config_lists_the_modules_with_existing_test_files():
    config = mutation.tomllib.loads(mutation.CONFIG.read_text())
    assert config["threshold"] >= 90
    paths = [m["path"] for m in config["module"]]
    assert {"nas_harness/benchmarks/oracle.py", "nas_harness/seeding.py",
            "nas_harness/analysis/metrics/aggregate.py",
            "nas_harness/analysis/metrics/criteria.py"} <= set(paths)
    for module in config["module"]:
        assert (REPO / module["path"]).is_file()
        assert all((REPO / t).is_file() for t in module["tests"])
    for entry in config.get("equivalent", []):
        assert entry["path"] in paths and entry["why"].strip() and entry["mutants"]
