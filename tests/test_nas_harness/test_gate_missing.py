"""The gate fails when an entry is missing on either side, names it, and allows it only when told.

The scenarios run on a copy of the committed ``results/baseline.json``; the re-run's entries are
the committed ones (what unchanged code gives), so no sweep is needed.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from nas_harness import gate
from nas_harness.analysis.testing import synthetic_table
from nas_harness.cli import analysis as analysis_cli
from nas_harness.cli import main

COMMITTED = Path(__file__).resolve().parents[2] / "results" / "baseline.json"
pytestmark = pytest.mark.skipif(not COMMITTED.is_file(), reason="no committed baseline")


def _copy(tmp_path, drop):
    """A copy of the committed baseline without the entries ``drop(entry)`` picks."""
    record = json.loads(COMMITTED.read_text())
    kept = [e for e in record["entries"] if not drop(e)]
    assert 0 < len(kept) < len(record["entries"])
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({**record, "entries": kept}))
    return path


def _rerun_gives(monkeypatch, entries):
    """``nas-harness check`` re-runs nothing and finds ``entries``."""
    monkeypatch.setattr(gate, "sweep_curves", lambda *args, **kwargs: None)
    monkeypatch.setattr(gate, "checkpoint_entries", lambda curves, checkpoints: entries)
    monkeypatch.setattr(analysis_cli, "_table", lambda: synthetic_table(0))


def _one(e):
    return (e["algorithm"], e["dataset"], e["query"]) == ("random", "cifar100", 200)


def test_one_entry_deleted_from_the_baseline_fails_and_is_named(tmp_path, monkeypatch, capsys):
    current = gate.read_baseline(COMMITTED).entries
    _rerun_gives(monkeypatch, current)
    path = _copy(tmp_path, _one)
    assert main(["check", "--baseline", str(path), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "entry the sweep runs but the baseline lacks: random on cifar100 at query 200" in out
    assert "--allow-missing random" in out
    assert f"gate FAILED: 1 of {len(current)} entries regressed or are missing" in out
    result = gate.compare(gate.read_baseline(path).entries, current)
    assert result.failures[["algorithm", "dataset", "query", "status"]].values.tolist() == [
        ["random", "cifar100", 200, "NO BASELINE"]]
    # explicitly allowed: passes, and says so
    assert main(["check", "--baseline", str(path), "--no-progress",
                 "--allow-missing", "random"]) == 0
    assert "1 missing but allowed (--allow-missing)" in capsys.readouterr().out


def test_a_worse_algorithm_with_its_entries_deleted_still_fails(tmp_path, monkeypatch, capsys):
    current = gate.read_baseline(COMMITTED).entries.copy()
    worse = current["algorithm"] == "evolution"
    current.loc[worse, "mean"] -= 5.0
    current.loc[worse, "values"] = current.loc[worse, "values"].map(
        lambda v: list(np.subtract(v, 5.0)))
    _rerun_gives(monkeypatch, current)
    path = _copy(tmp_path, lambda e: e["algorithm"] == "evolution")
    assert main(["check", "--baseline", str(path), "--no-progress"]) == 1
    out = capsys.readouterr().out
    n = int(worse.sum())
    assert n == 12 and out.count("but the baseline lacks: evolution on ") == n
    assert f"gate FAILED: {n} of {len(current)} entries" in out


def test_an_entry_the_rerun_lacks_fails_and_is_named(tmp_path, monkeypatch, capsys):
    current = gate.read_baseline(COMMITTED).entries
    gone = current[~current.apply(lambda r: _one(dict(r)), axis=1)].reset_index(drop=True)
    _rerun_gives(monkeypatch, gone)
    assert main(["check", "--baseline", str(COMMITTED), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "baseline entry with no current value: random on cifar100 at query 200" in out


def test_allow_missing_names_only_algorithms_of_the_baseline(monkeypatch, capsys):
    _rerun_gives(monkeypatch, gate.read_baseline(COMMITTED).entries)
    assert main(["check", "--no-progress", "--baseline", str(COMMITTED),
                 "--allow-missing", "random,evolutoin"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nas-harness: error: --allow-missing names evolutoin, not an "
                          "algorithm of the baseline (it has: evolution, layernas")
    assert len(err.splitlines()) == 1
