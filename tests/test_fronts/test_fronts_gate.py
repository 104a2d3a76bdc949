"""The normalised-HV gate: verdicts by the accuracy gate's rule, the baseline file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nas_harness import fronts_gate
from nas_harness.benchmarks.errors import DataIntegrityError, ProtocolError

rng = np.random.default_rng(0)
BASE = {("random", "cifar10"): list(0.95 + 0.01 * rng.random(30)),
        ("evolution", "cifar10"): list(0.96 + 0.01 * rng.random(30)),
        ("layernas", "cifar10"): [0.92] * 30}


def _baseline(tmp_path: Path) -> dict:
    path = fronts_gate.bless(BASE, tmp_path / "hv_baseline.json", budget=500, cost="flops")
    return fronts_gate.read_baseline(path)


def test_unchanged_runs_are_identical(tmp_path: Path) -> None:
    verdicts = fronts_gate.check(BASE, _baseline(tmp_path))
    assert set(verdicts["verdict"]) == {"identical"}


def test_a_real_drop_regresses_a_small_one_does_not(tmp_path: Path) -> None:
    current = dict(BASE)
    current[("random", "cifar10")] = [v - 0.02 for v in BASE[("random", "cifar10")]]
    current[("evolution", "cifar10")] = [v - 0.003 for v in BASE[("evolution", "cifar10")]]
    current[("layernas", "cifar10")] = [0.93] * 30
    verdicts = fronts_gate.check(current, _baseline(tmp_path)).set_index("algorithm")
    assert verdicts.loc["random", "verdict"] == "REGRESSED"
    assert verdicts.loc["evolution", "verdict"] == "ok"       # significant, below tolerance
    assert verdicts.loc["layernas", "verdict"] == "improved"


def test_missing_runs_and_bad_input(tmp_path: Path) -> None:
    current = {k: v for k, v in BASE.items() if k[0] != "random"}
    verdicts = fronts_gate.check(current, _baseline(tmp_path)).set_index("algorithm")
    assert verdicts.loc["random", "verdict"] == "MISSING"
    with pytest.raises(ProtocolError, match="--bless"):
        fronts_gate.read_baseline(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"entries": [{"algorithm": "a", "dataset": "b", "hv": []}]}))
    with pytest.raises(DataIntegrityError, match="not an HV baseline"):
        fronts_gate.read_baseline(bad)
    with pytest.raises(ProtocolError, match="tolerance"):
        fronts_gate.check(BASE, _baseline(tmp_path), tolerance=float("nan"))
