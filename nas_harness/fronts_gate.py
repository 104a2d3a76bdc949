"""The gate on normalised hypervolume: the fronts experiment's one-search runs, re-scored.

``results/fronts/hv_baseline.json`` holds, per (algorithm, dataset), every run's normalised HV
after the full budget (aggregates of runs: no per-architecture accuracy). ``check`` scores the
current runs the same way and judges each entry by the accuracy gate's rule
(:mod:`nas_harness.gate`): ``REGRESSED`` when a one-sided Mann-Whitney U test (current <
baseline), Holm-corrected over all entries, is significant at 0.05 *and* the mean dropped by
more than ``tolerance`` (default 0.005 of the exact front's HV); ``improved`` the other way;
``identical`` when the values are equal run by run; ``ok`` otherwise; ``MISSING`` when a
baseline entry has no current runs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nas_harness.analysis.metrics.front_runs import front_curves
from nas_harness.analysis.metrics.significance import holm, mann_whitney
from nas_harness.benchmarks.errors import DataIntegrityError, ProtocolError
from nas_harness.benchmarks.run_files import load_runs
from nas_harness.benchmarks.table import BenchmarkTable

HV_BASELINE = "hv_baseline.json"
DEFAULT_HV_TOLERANCE = 0.005
ALPHA = 0.05
_COLUMNS = ("run_id", "algorithm", "dataset", "run", "query", "arch_index", "valid_acc")


def final_hv(runs_dir: Path | str, table: BenchmarkTable, budget: int, cost: str = "flops"
             ) -> dict[tuple[str, str], list[float]]:
    """Every run's normalised HV after ``budget`` queries, per (algorithm, dataset)."""
    traj = load_runs(runs_dir, columns=list(_COLUMNS))
    curves = front_curves(traj, table, budget, cost=cost)
    out: dict[tuple[str, str], list[float]] = {}
    for (alg, ds), part in curves.runs.assign(hv=curves.hv[:, -1]).groupby(
            ["algorithm", "dataset"], sort=True):
        out[(str(alg), str(ds))] = [float(v) for v in part.sort_values("run")["hv"]]
    return out


def bless(values: dict[tuple[str, str], list[float]], path: Path | str, *, budget: int,
          cost: str) -> Path:
    """Write the baseline: per (algorithm, dataset) every run's final normalised HV."""
    entries = [{"algorithm": a, "dataset": d, "hv": [float(v) for v in vals]}
               for (a, d), vals in sorted(values.items())]
    data = {"format": 1, "budget": budget, "cost": cost, "entries": entries}
    target = Path(path)
    target.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return target


def read_baseline(path: Path | str) -> dict[str, Any]:
    """The baseline file; one clear line when it is missing or malformed."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProtocolError(f"no HV baseline at {path}; write one with `nas-harness fronts "
                            "FILE.toml --bless`") from None
    except (OSError, ValueError) as exc:
        raise DataIntegrityError(f"cannot read the HV baseline {path}: {exc}") from None
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("hv"), list) and e["hv"]
            and all(isinstance(v, (int, float)) and math.isfinite(v) for v in e["hv"])
            for e in entries):
        raise DataIntegrityError(f"{path} is not an HV baseline (entries with finite hv "
                                 "lists); re-bless it")
    return data


def check(values: dict[tuple[str, str], list[float]], baseline: dict[str, Any],
          tolerance: float = DEFAULT_HV_TOLERANCE) -> pd.DataFrame:
    """One row per baseline entry: means, p-values (Holm), and the verdict."""
    if not math.isfinite(tolerance) or tolerance < 0:
        raise ProtocolError(f"the HV tolerance must be a finite number >= 0, got {tolerance}")
    rows = []
    for entry in baseline["entries"]:
        key = (str(entry["algorithm"]), str(entry["dataset"]))
        base = np.asarray(entry["hv"], dtype=float)
        cur = np.asarray(values.get(key, []), dtype=float)
        if not len(cur):
            rows.append((*key, float(base.mean()), math.nan, math.nan, math.nan, "MISSING"))
            continue
        worse = mann_whitney(cur, base, alternative="less").p_value
        better = mann_whitney(base, cur, alternative="less").p_value
        same = len(cur) == len(base) and bool(np.array_equal(cur, base))
        rows.append((*key, float(base.mean()), float(cur.mean()), worse, better,
                     "identical" if same else ""))
    frame = pd.DataFrame(rows, columns=["algorithm", "dataset", "baseline", "current",
                                        "p_worse", "p_better", "verdict"])
    frame["p_worse"] = holm(frame["p_worse"].to_numpy())
    frame["p_better"] = holm(frame["p_better"].to_numpy())
    drop = frame["baseline"] - frame["current"]
    open_ = frame["verdict"] == ""
    frame.loc[open_ & (frame["p_worse"] < ALPHA) & (drop > tolerance), "verdict"] = "REGRESSED"
    frame.loc[open_ & (frame["p_better"] < ALPHA) & (-drop > tolerance), "verdict"] = "improved"
    frame.loc[frame["verdict"] == "", "verdict"] = "ok"
    return frame
