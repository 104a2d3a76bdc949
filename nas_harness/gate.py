"""The regression gate: re-run the baseline's sweeps and fail when an algorithm got worse.

``results/baseline.json`` records a sweep (algorithms with their parameter overrides,
datasets, runs, budget, protocol, master seed) and, per (algorithm, dataset, checkpoint), the
mean and standard error of the incumbent's test accuracy and (format 2) every run's value.
``check`` re-runs that sweep with the current code and compares each entry:

* ``identical``: the current runs give the baseline's values exactly (same seeds, same bytes);
* ``REGRESSED``: the current values are significantly lower -- a one-sided Mann-Whitney U test
  (current < baseline), p-values Holm-corrected over all entries, at :data:`ALPHA` = 0.05 --
  *and* the mean dropped by more than the absolute ``tolerance`` (default 0.2 points), so a
  statistically detectable but negligible change does not fail the gate;
* ``improved``: the same test in the other direction, with a rise of more than the tolerance
  (consider ``bless``);
* ``ok``: changed, but neither worse nor better by that rule;
* ``MISSING``: no current value (e.g. the algorithm is gone); ``no baseline``: a new entry.

A format-1 baseline (means and standard errors only, no per-run values) is still read: its
entries are judged by the old rule, a drop of more than ``max(3 x baseline s.e., tolerance)``;
``nas-harness bless`` rewrites it in format 2.

The parameter overrides are stored, not the full parameters, so a changed default is part of
"the current code" and is caught. Runs are seeded from the master seed and the run's identity,
so unchanged code reproduces the baseline exactly (every entry ``identical``).

A baseline entry missing a value, holding NaN or infinity, or duplicated, a file that is not
a baseline (e.g. a JSON list) and a non-finite tolerance are errors with a one-line message.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nas_harness.algorithms.registry import available_algorithms, params_to_dict, resolve_params
from nas_harness.analysis.metrics.aggregate import (
    VALUE_COLUMN,
    StepCurves,
    step_curves,
    summarize_curves,
)
from nas_harness.analysis.metrics.significance import check_alpha, holm, mann_whitney
from nas_harness.analysis.runs import REPORT_COLUMNS, load_results
from nas_harness.analysis.tables import DEFAULT_CHECKPOINTS
from nas_harness.benchmarks.datasets import DATASET_NAMES
from nas_harness.benchmarks.errors import DataIntegrityError, DataNotFoundError, HarnessError
from nas_harness.benchmarks.table import BenchmarkTable
from nas_harness.sweep import AlgorithmSpec, SweepSpec, run_sweep

BASELINE_FORMAT = 2
READABLE_FORMATS = (1, 2)
DEFAULT_BASELINE = "results/baseline.json"
DEFAULT_TOLERANCE = 0.2
ALPHA = 0.05
SE_MULTIPLIER = 3.0
ENTRY_KEYS: tuple[str, ...] = ("algorithm", "dataset", "query")
STATUS_IDENTICAL = "identical"
STATUS_OK = "ok"
STATUS_IMPROVED = "improved"
STATUS_REGRESSED = "REGRESSED"
STATUS_MISSING = "MISSING"
STATUS_NEW = "no baseline"
FAILING = frozenset({STATUS_REGRESSED, STATUS_MISSING})
RESULT_COLUMNS: tuple[str, ...] = (
    *ENTRY_KEYS, "baseline_mean", "baseline_sem", "current_mean", "current_sem", "delta",
    "allowed_drop", "p_worse", "status",
)


class GateError(HarnessError, RuntimeError):
    """The gate could not compare (unreadable baseline, sweep with failed runs, ...)."""


@dataclass(frozen=True)
class GateResult:
    """Outcome of a comparison: one row per (algorithm, dataset, query), and the verdict.

    ``table`` columns: :data:`RESULT_COLUMNS`. ``p_worse`` is the Holm-corrected one-sided
    Mann-Whitney p-value of "current < baseline" (NaN where the entry was not tested: identical,
    missing, or a format-1 baseline without per-run values); ``allowed_drop`` is the
    tolerance, or ``max(3 s.e., tolerance)`` for a format-1 entry.
    """

    table: pd.DataFrame
    tolerance: float
    alpha: float = ALPHA
    legacy_entries: int = 0

    @property
    def passed(self) -> bool:
        """Whether no entry regressed or went missing."""
        return not self.table["status"].isin(FAILING).any()

    @property
    def failures(self) -> pd.DataFrame:
        """The rows that fail the gate."""
        return self.table[self.table["status"].isin(FAILING)].reset_index(drop=True)

    def counts(self) -> dict[str, int]:
        """How many entries have each status."""
        return {str(k): int(v) for k, v in self.table["status"].value_counts().items()}

    def format(self) -> str:
        """The table as aligned text, plus a one-line verdict."""
        view = self.table.copy()
        for column in ("baseline_mean", "baseline_sem", "current_mean", "current_sem",
                       "allowed_drop"):
            view[column] = [_num(v, 3) for v in view[column]]
        view["delta"] = [_num(v, 3, signed=True) for v in view["delta"]]
        view["p_worse"] = [_num(v, 4) for v in view["p_worse"]]
        text = view.to_string(index=False)
        counts = self.counts()
        n_fail = len(self.failures)
        rule = (f"regressed = one-sided Mann-Whitney p (Holm over entries) < {self.alpha:g} "
                f"and a drop of more than {self.tolerance:g} points")
        if self.legacy_entries:
            rule = (f"{self.legacy_entries} entries of a format-1 baseline without per-run "
                    f"values: regressed = a drop of more than max({SE_MULTIPLIER:g} s.e., "
                    f"{self.tolerance:g}); `nas-harness bless` writes format 2")
        if not n_fail:
            parts = [f"{counts.get(STATUS_IDENTICAL, 0)} identical to the baseline",
                     f"{counts.get(STATUS_OK, 0)} changed but not worse",
                     f"{counts.get(STATUS_IMPROVED, 0)} improved"]
            return text + f"\ngate passed: {len(view)} entries, " + ", ".join(parts) + \
                f" ({rule})"
        return text + (f"\ngate FAILED: {n_fail} of {len(view)} entries regressed or are "
                       f"missing ({rule})")


def _num(value: float, digits: int, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def check_tolerance(tolerance: float) -> float:
    """The tolerance as a float; a negative or non-finite one is an error naming the fix."""
    try:
        value = float(tolerance)
    except (TypeError, ValueError):
        raise GateError(f"the tolerance must be a number of accuracy points, got "
                        f"{tolerance!r}") from None
    if not math.isfinite(value) or value < 0:
        raise GateError(f"the tolerance must be a finite number >= 0 (accuracy points), got "
                        f"{tolerance!r}")
    return value


def allowed_drop(sem: np.ndarray | float, tolerance: float) -> np.ndarray:
    """``max(3 x sem, tolerance)``; a missing s.e. (one run) allows just the tolerance."""
    sem = np.asarray(sem, dtype=np.float64)
    return np.maximum(np.where(np.isnan(sem), 0.0, SE_MULTIPLIER * sem), tolerance)


def _values(cell: Any) -> np.ndarray | None:
    """Each run's values as numbers; text (even "0.9") is refused, never converted."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return None
    values = np.asarray(cell)
    if values.dtype.kind not in "iuf":
        raise DataIntegrityError(f"per-run values must be numbers, got {cell!r}: rewrite the "
                                 f"baseline with `nas-harness bless`")
    return values


def compare(baseline: pd.DataFrame, current: pd.DataFrame,
            tolerance: float = DEFAULT_TOLERANCE, alpha: float = ALPHA) -> GateResult:
    """Compare current checkpoint values with the baseline's (a pure function).

    Args:
        baseline: rows with ``algorithm``, ``dataset``, ``query``, ``mean``, ``sem`` and,
            optionally, ``values`` (each run's value; without it the entry is judged by the
            format-1 rule on means and standard errors).
        current: the same columns from the current code.
        tolerance: absolute change (accuracy points) always allowed.
        alpha: level of the Holm-corrected one-sided tests.

    Returns:
        Every baseline entry with its status (see the module docstring); entries only in
        ``current`` are listed as ``no baseline`` and do not fail the gate.
    """
    tolerance, alpha = check_tolerance(tolerance), check_alpha(alpha)
    for name, frame in (("baseline", baseline), ("current", current)):
        missing = [c for c in (*ENTRY_KEYS, "mean", "sem") if c not in frame.columns]
        if missing:
            raise DataIntegrityError(f"{name} summary lacks column(s) {', '.join(missing)}")

    def pick(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
        out = frame[[*ENTRY_KEYS, "mean", "sem"]].rename(
            columns={"mean": f"{prefix}_mean", "sem": f"{prefix}_sem"})
        out[f"{prefix}_values"] = (list(frame["values"]) if "values" in frame.columns
                                   else [None] * len(frame))
        return out

    merged = pick(baseline, "baseline").merge(pick(current, "current"), on=list(ENTRY_KEYS),
                                              how="outer", indicator=True)
    merged["query"] = merged["query"].astype(np.int64)
    merged["delta"] = merged["current_mean"] - merged["baseline_mean"]
    n = len(merged)
    status = np.full(n, STATUS_OK, dtype=object)
    allowed = np.full(n, tolerance)
    p_less, p_more = np.full(n, np.nan), np.full(n, np.nan)
    delta = merged["delta"].to_numpy(float)
    legacy = np.zeros(n, dtype=bool)
    both = (merged["_merge"] == "both").to_numpy()
    columns = [merged[c].tolist() for c in ("baseline_values", "current_values", "baseline_mean",
                                            "current_mean", "baseline_sem", "current_sem")]
    for i, (b_vals, c_vals, b_mean, c_mean, b_sem, c_sem) in enumerate(zip(*columns,
                                                                          strict=True)):
        base, cur = _values(b_vals), _values(c_vals)
        if not both[i] or math.isnan(c_mean):
            continue
        if base is None:  # format 1: means and standard errors only
            legacy[i] = True
            allowed[i] = float(allowed_drop(b_sem, tolerance))
            same_sem = b_sem == c_sem or (math.isnan(b_sem) and math.isnan(c_sem))
            if c_mean == b_mean and same_sem:
                status[i] = STATUS_IDENTICAL
            continue
        if cur is not None and np.array_equal(base, cur):
            status[i] = STATUS_IDENTICAL
            continue
        if cur is None or len(cur) == 0:
            continue
        p_less[i] = mann_whitney(cur, base, alternative="less").p_value
        p_more[i] = mann_whitney(cur, base, alternative="greater").p_value
    p_worse, p_better = holm(p_less), holm(p_more)
    with np.errstate(invalid="ignore"):
        tested = ~legacy
        status[tested & (p_better < alpha) & (delta > allowed)] = STATUS_IMPROVED
        status[tested & (p_worse < alpha) & (delta < -allowed)] = STATUS_REGRESSED
        status[legacy & (delta > allowed)] = STATUS_IMPROVED
        status[legacy & (delta < -allowed)] = STATUS_REGRESSED
    status[merged["current_mean"].isna().to_numpy() & merged["baseline_mean"].notna()] = \
        STATUS_MISSING
    right_only = (merged["_merge"] == "right_only").to_numpy()
    status[right_only] = STATUS_NEW
    merged["allowed_drop"] = np.where(right_only, np.nan, allowed)
    merged["p_worse"] = p_worse
    merged["status"] = status
    table = merged.sort_values(list(ENTRY_KEYS), kind="stable")
    return GateResult(table[list(RESULT_COLUMNS)].reset_index(drop=True), tolerance, alpha,
                      int(legacy.sum()))


# -- the baseline file ------------------------------------------------------------------------

@dataclass(frozen=True)
class Baseline:
    """A parsed ``baseline.json``: the sweep to re-run, checkpoints and entries.

    ``entries`` has one row per (algorithm, dataset, query) with ``mean``, ``sem``, ``n``,
    ``n_runs`` and, from format 2 on, ``values`` (each run's value, in run order).
    """

    spec: Any  # nas_harness.sweep.SweepSpec
    checkpoints: tuple[int, ...]
    entries: pd.DataFrame
    table_checksum: str
    record: dict[str, Any]

    @property
    def algorithm_names(self) -> dict[str, str]:
        """Label -> registry name of every algorithm in the baseline."""
        return {a.label: a.name for a in self.spec.algorithms}

    @property
    def format(self) -> int:
        """The file's format number."""
        return int(self.record["format"])


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


def checkpoint_entries(curves: StepCurves, checkpoints: Sequence[int]) -> pd.DataFrame:
    """Per (algorithm, dataset, checkpoint): mean, s.e., n, n_runs and every run's value.

    ``values`` holds the runs with a value at the checkpoint (a feasible incumbent), in run
    order, so the same seeds give the same list.
    """
    summary = summarize_curves(curves)
    points = sorted({int(c) for c in checkpoints if 1 <= int(c) <= curves.budget})
    rows = summary[summary["query"].isin(points)]
    matrix = curves[VALUE_COLUMN]
    values: dict[tuple[str, str, int], list[float]] = {}
    for (algorithm, dataset), sl in curves.groups():
        for q in points:
            column = matrix[sl, q - 1]
            values[(algorithm, dataset, q)] = [float(v) for v in column[~np.isnan(column)]]
    out = rows[[*ENTRY_KEYS, "mean", "sem", "n", "n_runs"]].copy()
    out["values"] = [values[(a, d, int(q))] for a, d, q in
                     zip(out["algorithm"], out["dataset"], out["query"], strict=True)]
    return out.sort_values(list(ENTRY_KEYS), kind="stable").reset_index(drop=True)


def baseline_record(spec: Any, summary: pd.DataFrame, checkpoints: Sequence[int],
                    table_checksum: str, full_params: dict[str, Any] | None = None
                    ) -> dict[str, Any]:
    """The baseline JSON record (format 2) of :func:`checkpoint_entries`' table."""
    points = sorted({int(c) for c in checkpoints if 1 <= int(c) <= spec.budget})
    if not points:
        raise GateError(f"no checkpoint within the budget of {spec.budget}: {list(checkpoints)}")
    if "values" not in summary.columns:
        raise GateError("a baseline needs each run's value per checkpoint: build the entries "
                        "with nas_harness.gate.checkpoint_entries(curves, checkpoints)")
    rows = summary[summary["query"].isin(points)].sort_values(list(ENTRY_KEYS))
    entries = []
    for r in rows.to_dict("records"):
        entry = {"algorithm": r["algorithm"], "dataset": r["dataset"], "query": int(r["query"]),
                 "mean": _json_float(r["mean"]), "sem": _json_float(r["sem"]), "n": int(r["n"]),
                 "n_runs": int(r["n_runs"]), "values": [float(v) for v in r["values"]]}
        entries.append(entry)
    record = {
        "format": BASELINE_FORMAT,
        "about": "nas-harness regression baseline: mean, standard error and each run's value "
                 "of the incumbent's test accuracy (%) at each checkpoint; `nas-harness check` "
                 "re-runs the sweep and fails an entry whose values are lower by a one-sided "
                 f"Mann-Whitney U test (Holm over entries, alpha {ALPHA:g}) and whose mean "
                 "dropped by more than the tolerance; `nas-harness bless` rewrites this file",
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
    """Write a baseline record as stable, diff-friendly JSON (per-run lists on one line)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=1, sort_keys=False, allow_nan=False)
    if record.get("entries"):
        # one entry per line instead of one line per number of its run values: the top-level
        # key's line is found by position (a string value holds no raw newline), never by
        # searching a placeholder that a label or parameter value could also spell
        lines = json.dumps({**record, "entries": []}, indent=1, sort_keys=False,
                           allow_nan=False).split("\n")
        at = next(i for i, line in enumerate(lines) if line.startswith(' "entries": []'))
        body = ",\n".join("  " + json.dumps(e, allow_nan=False) for e in record["entries"])
        lines[at] = ' "entries": [\n' + body + "\n ]" + lines[at][len(' "entries": []'):]
        text = "\n".join(lines)
    out.write_text(text + "\n", encoding="utf-8")
    return out


def _bad(file: Path, what: str) -> GateError:
    return GateError(f"baseline {file}: {what}; re-create it with `nas-harness bless`")


def _finite(value: Any, *, allow_null: bool = False) -> bool:
    if value is None:
        return allow_null
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        math.isfinite(value)


def _check_entries(file: Path, entries: Any, fmt: int) -> pd.DataFrame:
    """Validate the entries one by one; the first problem is named with its entry."""
    if not isinstance(entries, list) or not entries:
        raise _bad(file, "'entries' must be a non-empty list")
    seen: set[tuple[str, str, int]] = set()
    for i, e in enumerate(entries):
        if not isinstance(e, Mapping):
            raise _bad(file, f"entry {i} is not an object")
        missing = [k for k in (*ENTRY_KEYS, "mean", "sem") if k not in e]
        if fmt >= 2 and "values" not in e:
            missing.append("values")
        name = f"entry {i} ({e.get('algorithm')}, {e.get('dataset')}, query {e.get('query')})"
        if missing:
            raise _bad(file, f"{name} lacks {', '.join(missing)}")
        if not isinstance(e["query"], int) or isinstance(e["query"], bool) or e["query"] < 1:
            raise _bad(file, f"{name} has a query that is not a positive integer")
        if not _finite(e["mean"]):
            raise _bad(file, f"{name} has mean {e['mean']!r}, not a finite number")
        if not _finite(e["sem"], allow_null=True):
            raise _bad(file, f"{name} has sem {e['sem']!r}, not a finite number")
        if fmt >= 2:
            values = e["values"]
            if not isinstance(values, list) or not values or \
                    not all(_finite(v) for v in values):
                raise _bad(file, f"{name} has 'values' that are not a non-empty list of "
                                 "finite numbers")
            if not math.isclose(sum(values) / len(values), e["mean"], rel_tol=1e-9,
                                abs_tol=1e-9):
                raise _bad(file, f"{name} has a mean that is not the mean of its values")
        key = (str(e["algorithm"]), str(e["dataset"]), int(e["query"]))
        if key in seen:
            raise _bad(file, f"{name} is duplicated")
        seen.add(key)
    frame = pd.DataFrame(list(entries))
    frame["sem"] = frame["sem"].astype(float)
    frame["mean"] = frame["mean"].astype(float)
    return frame


def read_baseline(path: Path | str) -> Baseline:
    """Parse and validate a baseline file; every problem is one line saying how to fix it."""
    file = Path(path)
    if not file.is_file():
        raise DataNotFoundError(f"no baseline at {file}; create it with `nas-harness bless`")
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(file, f"not valid JSON ({exc})") from None
    if not isinstance(record, dict):
        raise _bad(file, f"expected a JSON object with format, sweep, checkpoints and entries, "
                         f"found a JSON {type(record).__name__}")
    fmt = record.get("format")
    if fmt not in READABLE_FORMATS:
        raise _bad(file, f"baseline format {fmt!r}, this version reads formats "
                         f"{', '.join(map(str, READABLE_FORMATS))}")
    try:
        spec = spec_from_record(record["sweep"])
        checkpoints = tuple(int(c) for c in record["checkpoints"])
    except HarnessError as exc:  # first: the harness's errors are ValueErrors or KeyErrors too
        raise _bad(file, f"its sweep is invalid ({exc})") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _bad(file, f"malformed sweep or checkpoints ({type(exc).__name__}: {exc})") \
            from None
    entries = _check_entries(file, record.get("entries"), int(fmt))
    return Baseline(spec, checkpoints, entries, str(record.get("table_checksum", "")), record)


# -- running the sweeps -----------------------------------------------------------------------

def sweep_curves(spec: Any, runs_dir: Path | str, *, table: BenchmarkTable,
                 workers: int | None = None, progress: bool = False,
                 plugins: Sequence[str | Path] = (), force: bool = False) -> StepCurves:
    """Run ``spec`` into ``runs_dir`` and return the step curves of its runs.

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
                           datasets=spec.datasets, runs=spec.runs, columns=REPORT_COLUMNS)
    runs = results.complete[["algorithm", "dataset", "run_id", "run"]]
    return step_curves(results.trajectories, spec.budget, (VALUE_COLUMN,), runs=runs)


def sweep_summary(spec: Any, runs_dir: Path | str, *, table: BenchmarkTable,
                  workers: int | None = None, progress: bool = False,
                  plugins: Sequence[str | Path] = (), force: bool = False) -> pd.DataFrame:
    """Run ``spec`` into ``runs_dir`` and summarise it (see :func:`sweep_curves`)."""
    return summarize_curves(sweep_curves(spec, runs_dir, table=table, workers=workers,
                                         progress=progress, plugins=plugins, force=force))


def default_spec(runs: int = 100, budget: int = 500, master_seed: int = 0,
                 algorithms: Sequence[str] | None = None) -> Any:
    """The baseline sweep: every built-in algorithm (defaults), three datasets, 50% FLOPs."""
    names = list(algorithms) if algorithms else builtin_algorithms()
    return SweepSpec(algorithms=tuple(names), datasets=DATASET_NAMES, runs=runs, budget=budget,
                     master_seed=master_seed)


def builtin_algorithms() -> list[str]:
    """Registered algorithms shipped with the harness (plugins loaded at run time excluded).

    The library adapters (``nas_harness.algorithms.adapters``) are left out: their results move
    with an
    optional library's version, which is not a regression of the harness.
    """
    return [name for name, cls in available_algorithms().items()
            if cls.__module__.startswith("nas_harness.algorithms.")
            and not cls.__module__.startswith("nas_harness.algorithms.adapters.")]


def full_params(spec: Any) -> dict[str, Any]:
    """Each algorithm's full parameters (defaults filled in), for the record."""
    return {a.label: params_to_dict(resolve_params(a.name, dict(a.params)))   # presets too
            for a in spec.algorithms}


def bless(baseline_path: Path | str, spec: Any, runs_dir: Path | str, *,
          table: BenchmarkTable, checkpoints: Sequence[int] = DEFAULT_CHECKPOINTS,
          workers: int | None = None, progress: bool = False,
          plugins: Sequence[str | Path] = ()) -> Path:
    """Run (or reuse) ``spec``'s runs in ``runs_dir`` and write the baseline (format 2)."""
    curves = sweep_curves(spec, runs_dir, table=table, workers=workers, progress=progress,
                          plugins=plugins)
    record = baseline_record(spec, checkpoint_entries(curves, checkpoints), checkpoints,
                             table.provenance.checksum, full_params(spec))
    return write_baseline(record, baseline_path)


def check(baseline_path: Path | str, runs_dir: Path | str, *, table: BenchmarkTable,
          tolerance: float = DEFAULT_TOLERANCE, workers: int | None = None,
          progress: bool = False, plugins: Sequence[str | Path] = (),
          alpha: float = ALPHA) -> GateResult:
    """Re-run the baseline's sweep with the current code into ``runs_dir`` and compare."""
    tolerance = check_tolerance(tolerance)
    baseline = read_baseline(baseline_path)
    curves = sweep_curves(baseline.spec, runs_dir, table=table, workers=workers,
                          progress=progress, plugins=plugins, force=True)
    current = checkpoint_entries(curves, baseline.checkpoints)
    return compare(baseline.entries, current, tolerance, alpha)
