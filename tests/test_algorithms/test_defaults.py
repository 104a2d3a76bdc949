"""Every built-in default is published or tuned; a tuned one is its committed record's choice."""

import json
import re
from pathlib import Path

import pytest

from nas_harness.algorithms.params import describe_params
from nas_harness.algorithms.registry import available_algorithms

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = ("random", "evolution", "layernas", "ppo", "reinforce", "multi-distribution")
RECORD = re.compile(r"results/tuning/[\w:-]+\.json")


@pytest.mark.parametrize("name", BUILTIN)
def test_tuned_defaults_are_the_committed_choice(name):
    cls = available_algorithms()[name]
    specs = describe_params(cls.Params)
    tuned = [s for s in specs if RECORD.search(s.source)]
    assert tuned, f"{name}: no parameter names a tuning record"
    for spec in specs:
        assert spec.source, f"{name}.{spec.name} does not say where its default comes from"
        assert spec.tunable == bool(RECORD.search(spec.source)), (
            f"{name}.{spec.name}: a tuned parameter names its record, a published one does not")
    for spec in tuned:
        path = ROOT / RECORD.search(spec.source).group(0)
        record = json.loads(path.read_text())
        assert record["algorithm"] == name
        assert "test accuracy is never read" in record["score"]
        chosen = record["chosen"]["full_params"]
        assert chosen[spec.name] == spec.default, (
            f"{name}.{spec.name} default {spec.default!r} is not the choice of {path.name} "
            f"({chosen[spec.name]!r}); re-run `nas-harness tune -a {name}`")
        budget = record["budget"]
        assert (budget["configurations"], budget["runs"], budget["queries"],
                len(budget["datasets"])) == (16, 20, 500, 3), "the common tuning budget"


def test_no_default_is_justified_by_test_accuracy():
    for path in sorted((ROOT / "nas_harness" / "algorithms").glob("*.py")):
        text = path.read_text().lower()
        for phrase in ("test acc", "tuned on test", "chosen on test", "scored on test"):
            hits = [line for line in text.splitlines() if phrase in line
                    and "never" not in line and "never sees" not in line]
            assert not hits, f"{path.name} mentions {phrase!r}: {hits}"
