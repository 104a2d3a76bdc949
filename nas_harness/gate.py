"""The regression gate: re-run the baseline's sweeps and fail when an algorithm got worse.

``results/baseline.json`` records a sweep (algorithms with their parameter overrides,
datasets, runs, budget, protocol, master seed) and, per (algorithm, dataset, checkpoint), the
mean and standard error of the incumbent's test accuracy. ``check`` re-runs that sweep with
the current code and compares: an entry regressed when its current mean is below the baseline
mean by more than ``max(3 x baseline standard error, tolerance)``. ``bless`` rewrites the file
from the current code.

The parameter overrides are stored, not the full parameters, so a changed default is part of
"the current code" and is caught. Runs are seeded from the master seed and the run's identity,
so unchanged code reproduces the baseline exactly (every delta 0).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from algorithms.registry import available_algorithms, params_to_dict, resolve_params
from analysis.metrics.aggregate import VALUE_COLUMN, step_curves, summarize_curves
from analysis.runs import load_results
from analysis.tables import DEFAULT_CHECKPOINTS
from benchmarks.datasets import DATASET_NAMES
from benchmarks.errors import DataIntegrityError, DataNotFoundError, HarnessError
from benchmarks.table import BenchmarkTable
from nas_harness.sweep import AlgorithmSpec, SweepSpec, run_sweep

BASELINE_FORMAT = 1
DEFAULT_BASELINE = "results/baseline.json"
DEFAULT_TOLERANCE = 0.2
SE_MULTIPLIER = 3.0
ENTRY_KEYS: tuple[str, ...] = ("algorithm", "dataset", "query")
STATUS_OK = "ok"
STATUS_IMPROVED = "improved"
STATUS_REGRESSED = "REGRESSED"
STATUS_MISSING = "MISSING"
STATUS_NEW = "no baseline"
FAILING = frozenset({STATUS_REGRESSED, STATUS_MISSING})


class GateError(HarnessError, RuntimeError):
    """The gate could not compare (unreadable baseline, sweep with failed runs, ...)."""


@dataclass(frozen=True)
class GateResult:
    """Outcome of a comparison: one row per (algorithm, dataset, query), and the verdict.

    ``table`` columns: algorithm, dataset, query, baseline_mean, baseline_sem, current_mean,
    current_sem, delta, allowed_drop, status.
    """

    table: pd.DataFrame
    tolerance: float

    @property
    def passed(self) -> bool:
        """Whether no entry regressed or went missing."""
        return not self.table["status"].isin(FAILING).any()

    @property
    def failures(self) -> pd.DataFrame:
        """The rows that fail the gate."""
        return self.table[self.table["status"].isin(FAILING)].reset_index(drop=True)

    def format(self) -> str:
        """The table as aligned text, plus a one-line verdict."""
        view = self.table.copy()
        for column in ("baseline_mean", "baseline_sem", "current_mean", "current_sem",
                       "allowed_drop"):
            view[column] = [_num(v, 3) for v in view[column]]
        view["delta"] = [_num(v, 3, signed=True) for v in view["delta"]]
        text = view.to_string(index=False)
        n_fail = len(self.failures)
        verdict = (f"gate passed: {len(view)} entries, none dropped by more than "
                   f"max({SE_MULTIPLIER:g} s.e., {self.tolerance:g})" if not n_fail else
                   f"gate FAILED: {n_fail} of {len(view)} entries regressed or are missing "
                   f"(allowed drop: max({SE_MULTIPLIER:g} s.e., {self.tolerance:g}))")
        return text + "\n" + verdict


def _num(value: float, digits: int, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def allowed_drop(sem: np.ndarray | float, tolerance: float) -> np.ndarray:
    """``max(3 x sem, tolerance)``; a missing s.e. (one run) allows just the tolerance."""
    sem = np.asarray(sem, dtype=np.float64)
    return np.maximum(np.where(np.isnan(sem), 0.0, SE_MULTIPLIER * sem), tolerance)


def compare(baseline: pd.DataFrame, current: pd.DataFrame,
            tolerance: float = DEFAULT_TOLERANCE) -> GateResult:
    """Compare current checkpoint means with the baseline's (a pure function).

    Args:
        baseline: rows with ``algorithm``, ``dataset``, ``query``, ``mean``, ``sem``.
        current: the same columns from the current code (``sem`` is shown, not used).
        tolerance: absolute drop (accuracy points) always allowed.

    Returns:
        Every baseline entry with its status: ``ok``, ``improved`` (up by more than the allowed
        drop: consider ``bless``), ``REGRESSED`` (down by more), ``MISSING`` (no current value,
        e.g. no run had a feasible incumbent or the algorithm is gone); entries only in
        ``current`` are listed as ``no baseline`` and do not fail the gate.
    """
    if tolerance < 0:
        raise GateError(f"the tolerance must be >= 0, got {tolerance}")
    for name, frame in (("baseline", baseline), ("current", current)):
        missing = [c for c in (*ENTRY_KEYS, "mean", "sem") if c not in frame.columns]
        if missing:
            raise DataIntegrityError(f"{name} summary lacks column(s) {', '.join(missing)}")
    base = baseline[[*ENTRY_KEYS, "mean", "sem"]].rename(
        columns={"mean": "baseline_mean", "sem": "baseline_sem"})
    cur = current[[*ENTRY_KEYS, "mean", "sem"]].rename(
        columns={"mean": "current_mean", "sem": "current_sem"})
    merged = base.merge(cur, on=list(ENTRY_KEYS), how="outer", indicator=True)
    merged["query"] = merged["query"].astype(np.int64)
    merged["delta"] = merged["current_mean"] - merged["baseline_mean"]
    merged["allowed_drop"] = allowed_drop(merged["baseline_sem"].to_numpy(float), tolerance)
    status = np.full(len(merged), STATUS_OK, dtype=object)
    delta = merged["delta"].to_numpy(float)
    allowed = merged["allowed_drop"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        status[delta > allowed] = STATUS_IMPROVED
        status[delta < -allowed] = STATUS_REGRESSED
    status[merged["current_mean"].isna().to_numpy() & merged["baseline_mean"].notna()] = \
        STATUS_MISSING
    status[(merged["_merge"] == "right_only").to_numpy()] = STATUS_NEW
    merged["allowed_drop"] = np.where(merged["_merge"] == "right_only", np.nan,
                                      merged["allowed_drop"])
    merged["status"] = status
    table = merged.drop(columns="_merge").sort_values(list(ENTRY_KEYS), kind="stable")
    cols = [*ENTRY_KEYS, "baseline_mean", "baseline_sem", "current_mean", "current_sem",
            "delta", "allowed_drop", "status"]
    return GateResult(table[cols].reset_index(drop=True), float(tolerance))


# -- the baseline file ------------------------------------------------------------------------

@dataclass(frozen=True)
class Baseline:
    """A parsed ``baseline.json``: the sweep to re-run, checkpoints and entries."""

    spec: Any  # nas_harness.sweep.SweepSpec
    checkpoints: tuple[int, ...]
    entries: pd.DataFrame
    table_checksum: str
    record: dict[str, Any]

    @property
    def algorithm_names(self) -> dict[str, str]:
        """Label -> registry name of every algorithm in the baseline."""
        return {a.label: a.name for a in self.spec.algorithms}


def spec_record(spec: Any) -> dict[str, Any]:
    """The JSON record of a SweepSpec (parameter overrides only)."""
    return {
        "algorithms": [{"name": a.name, "label": a.label, "params": dict(a.params)}
                       for a in spec.algorithms],
        "datasets": list(spec.datasets), "runs": spec.runs, "budget": spec.budget,
        "fidelity": spec.fidelity, "max_flops_fraction": spec.max_flops_fraction,
        "master_seed": spec.master_seed,
    }


def spec_from_record(record: dict[str, Any]) -> Any:
    """A SweepSpec from :func:`spec_record`'s output."""
    algos = tuple(AlgorithmSpec(a["name"], tuple(sorted(dict(a.get("params", {})).items())),
                                a.get("label", "")) for a in record["algorithms"])
    return SweepSpec(algorithms=algos, datasets=tuple(record["datasets"]),
                     runs=int(record["runs"]), budget=int(record["budget"]),
                     fidelity=str(record.get("fidelity", "90")),
                     max_flops_fraction=record.get("max_flops_fraction"),
                     master_seed=int(record.get("master_seed", 0)))


def baseline_record(spec: Any, summary: pd.DataFrame, checkpoints: Sequence[int],
                    table_checksum: str, full_params: dict[str, Any] | None = None
                    ) -> dict[str, Any]:
    """The baseline JSON record of a sweep's summary at ``checkpoints``."""
    points = sorted({int(c) for c in checkpoints if 1 <= int(c) <= spec.budget})
    if not points:
        raise GateError(f"no checkpoint within the budget of {spec.budget}: {list(checkpoints)}")
    rows = summary[summary["query"].isin(points)].sort_values(list(ENTRY_KEYS))
    entries = [{"algorithm": r.algorithm, "dataset": r.dataset, "query": int(r.query),
                "mean": _json_float(r.mean), "sem": _json_float(r.sem), "n": int(r.n),
                "n_runs": int(r.n_runs)} for r in rows.itertuples(index=False)]
    record = {
        "format": BASELINE_FORMAT,
        "about": "nas-harness regression baseline: mean and standard error of the incumbent's "
                 "test accuracy (%) at each checkpoint; `nas-harness check` re-runs the sweep "
                 "and fails when a mean drops by more than max(3 s.e., tolerance); "
                 "`nas-harness bless` rewrites this file",
        "sweep": spec_record(spec),
        "checkpoints": points,
        "table_checksum": table_checksum,
        "entries": entries,
    }
    if full_params is not None:
        record["params_at_bless"] = full_params
    return record


def _json_float(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def write_baseline(record: dict[str, Any], path: Path | str) -> Path:
    """Write a baseline record as stable, diff-friendly JSON."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1, sort_keys=False, allow_nan=False) + "\n",
                   encoding="utf-8")
    return out


def read_baseline(path: Path | str) -> Baseline:
    """Parse a baseline file; a clear error says how to make one."""
    file = Path(path)
    if not file.is_file():
        raise DataNotFoundError(f"no baseline at {file}; create it with `nas-harness bless`")
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
        if record.get("format") != BASELINE_FORMAT:
            raise GateError(f"{file} has baseline format {record.get('format')!r}, this "
                            f"version reads {BASELINE_FORMAT}; re-create it with "
                            "`nas-harness bless`")
        spec = spec_from_record(record["sweep"])
        entries = pd.DataFrame(record["entries"]).astype({"mean": float, "sem": float})
        checkpoints = tuple(int(c) for c in record["checkpoints"])
    except (ValueError, KeyError, TypeError) as exc:
        raise GateError(f"cannot read baseline {file}: {exc!r}; re-create it with "
                        "`nas-harness bless`") from exc
    return Baseline(spec, checkpoints, entries, str(record.get("table_checksum", "")), record)


# -- running the sweeps -----------------------------------------------------------------------

def sweep_summary(spec: Any, runs_dir: Path | str, *, table: BenchmarkTable,
                  workers: int | None = None, progress: bool = False,
                  plugins: Sequence[str | Path] = (), force: bool = False) -> pd.DataFrame:
    """Run ``spec`` into ``runs_dir`` and summarise it.

    Complete runs in ``runs_dir`` are reused unless ``force``: a stored run's fingerprint
    covers its parameters, protocol, seeds and table, not the code, so ``check`` forces.
    Raises GateError when a run failed: a gate must not compare a partial sweep.
    """
    result = run_sweep(spec, runs_dir, workers=workers, progress=progress, plugins=plugins,
                       table=table, force=force)
    if not result.ok:
        raise GateError("the sweep had failed runs, so it cannot be compared:\n"
                        + result.describe())
    results = load_results(runs_dir, table_checksum=table.provenance.checksum,
                           algorithms=[a.label for a in spec.algorithms],
                           datasets=spec.datasets, runs=spec.runs)
    runs = results.complete[["algorithm", "dataset", "run_id", "run"]]
    curves = step_curves(results.trajectories, spec.budget, (VALUE_COLUMN,), runs=runs)
    return summarize_curves(curves)


def default_spec(runs: int = 100, budget: int = 500, master_seed: int = 0,
                 algorithms: Sequence[str] | None = None) -> Any:
    """The baseline sweep: every built-in algorithm (defaults), three datasets, 50% FLOPs."""
    names = list(algorithms) if algorithms else builtin_algorithms()
    return SweepSpec(algorithms=tuple(names), datasets=DATASET_NAMES, runs=runs, budget=budget,
                     master_seed=master_seed)


def builtin_algorithms() -> list[str]:
    """Registered algorithms shipped with the harness (plugins loaded at run time excluded)."""
    return [name for name, cls in available_algorithms().items()
            if cls.__module__.split(".")[0] == "algorithms"]


def full_params(spec: Any) -> dict[str, Any]:
    """Each algorithm's full parameters (defaults filled in), for the record."""
    return {a.label: params_to_dict(resolve_params(a.name, dict(a.params)))   # presets too
            for a in spec.algorithms}


def bless(baseline_path: Path | str, spec: Any, runs_dir: Path | str, *,
          table: BenchmarkTable, checkpoints: Sequence[int] = DEFAULT_CHECKPOINTS,
          workers: int | None = None, progress: bool = False,
          plugins: Sequence[str | Path] = ()) -> Path:
    """Run (or reuse) ``spec``'s runs in ``runs_dir`` and write the baseline from them."""
    summary = sweep_summary(spec, runs_dir, table=table, workers=workers, progress=progress,
                            plugins=plugins)
    record = baseline_record(spec, summary, checkpoints, table.provenance.checksum,
                             full_params(spec))
    return write_baseline(record, baseline_path)


def check(baseline_path: Path | str, runs_dir: Path | str, *, table: BenchmarkTable,
          tolerance: float = DEFAULT_TOLERANCE, workers: int | None = None,
          progress: bool = False, plugins: Sequence[str | Path] = ()) -> GateResult:
    """Re-run the baseline's sweep with the current code into ``runs_dir`` and compare."""
    baseline = read_baseline(baseline_path)
    current = sweep_summary(baseline.spec, runs_dir, table=table, workers=workers,
                            progress=progress, plugins=plugins, force=True)
    current = current[current["query"].isin(baseline.checkpoints)]
    return compare(baseline.entries, current, tolerance)
