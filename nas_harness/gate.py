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
* ``MISSING``: a baseline entry with no current value (e.g. the algorithm is gone);
* ``NO BASELINE``: an entry the sweep runs that the baseline lacks (e.g. deleted from it).

A missing entry on either side fails the gate, each named in the output, unless its algorithm
is explicitly allowed (``allow_missing``, ``nas-harness check --allow-missing LABEL``): a gate
must not pass because what it compares was taken away.

A format-1 baseline (means and standard errors only, no per-run values) is still read: its
entries are judged by the old rule, a drop of more than ``max(3 x baseline s.e., tolerance)``;
``nas-harness bless`` rewrites it in format 2.

The parameter overrides are stored, not the full parameters, so a changed default is part of
"the current code" and is caught. Runs are seeded from the master seed and the run's identity,
so unchanged code reproduces the baseline exactly (every entry ``identical``).

The baseline file itself is :mod:`nas_harness.baseline` (read, validated, written); its
public names are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
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
from nas_harness.baseline import (
    ALPHA,
    BASELINE_FORMAT,
    ENTRY_KEYS,
    READABLE_FORMATS,
    Baseline,
    GateError,
    baseline_record,
    checkpoint_entries,
    read_baseline,
    spec_from_record,
    spec_record,
    write_baseline,
)
from nas_harness.benchmarks.datasets import DATASET_NAMES
from nas_harness.benchmarks.errors import DataIntegrityError
from nas_harness.benchmarks.table import BenchmarkTable
from nas_harness.sweep import SweepSpec, run_sweep

__all__ = [
    "ALPHA", "BASELINE_FORMAT", "DEFAULT_TOLERANCE", "ENTRY_KEYS", "FAILING", "READABLE_FORMATS",
    "RESULT_COLUMNS", "Baseline", "GateError", "GateResult", "allowed_drop", "baseline_record",
    "bless", "builtin_algorithms", "check", "check_allowed_missing", "check_tolerance",
    "checkpoint_entries", "compare", "default_spec", "full_params", "read_baseline",
    "spec_from_record", "spec_record", "sweep_curves", "sweep_summary", "write_baseline",
]

DEFAULT_BASELINE = "results/baseline.json"
DEFAULT_TOLERANCE = 0.2
SE_MULTIPLIER = 3.0
STATUS_IDENTICAL = "identical"
STATUS_OK = "ok"
STATUS_IMPROVED = "improved"
STATUS_REGRESSED = "REGRESSED"
STATUS_MISSING = "MISSING"
STATUS_NEW = "NO BASELINE"
STATUS_MISSING_ALLOWED = "missing, allowed"
STATUS_NEW_ALLOWED = "no baseline, allowed"
FAILING = frozenset({STATUS_REGRESSED, STATUS_MISSING, STATUS_NEW})
RESULT_COLUMNS: tuple[str, ...] = (
    *ENTRY_KEYS, "baseline_mean", "baseline_sem", "current_mean", "current_sem", "delta",
    "allowed_drop", "p_worse", "status",
)


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
        allowed = counts.get(STATUS_MISSING_ALLOWED, 0) + counts.get(STATUS_NEW_ALLOWED, 0)
        if not n_fail:
            parts = [f"{counts.get(STATUS_IDENTICAL, 0)} identical to the baseline",
                     f"{counts.get(STATUS_OK, 0)} changed but not worse",
                     f"{counts.get(STATUS_IMPROVED, 0)} improved"]
            if allowed:
                parts.append(f"{allowed} missing but allowed (--allow-missing)")
            return text + f"\ngate passed: {len(view)} entries, " + ", ".join(parts) + \
                f" ({rule})"
        return text + self._missing_lines() + (
            f"\ngate FAILED: {n_fail} of {len(view)} entries regressed or are missing ({rule})")

    def _missing_lines(self) -> str:
        """One line per entry missing on either side, and how to accept them."""
        lines = []
        for status, what in ((STATUS_MISSING, "baseline entry with no current value"),
                             (STATUS_NEW, "entry the sweep runs but the baseline lacks")):
            rows = self.table[self.table["status"] == status]
            lines += [f"{what}: {r.algorithm} on {r.dataset} at query {r.query}"
                      for r in rows.itertuples()]
        if not lines:
            return ""
        labels = sorted(set(self.table.loc[self.table["status"].isin(
            (STATUS_MISSING, STATUS_NEW)), "algorithm"]))
        return ("\n" + "\n".join(lines) + "\na missing entry fails the gate; re-create the "
                f"baseline with `nas-harness bless`, or accept it with --allow-missing "
                f"{','.join(labels)}")


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
            tolerance: float = DEFAULT_TOLERANCE, alpha: float = ALPHA,
            allow_missing: Collection[str] = ()) -> GateResult:
    """Compare current checkpoint values with the baseline's (a pure function).

    Args:
        baseline: rows with ``algorithm``, ``dataset``, ``query``, ``mean``, ``sem`` and,
            optionally, ``values`` (each run's value; without it the entry is judged by the
            format-1 rule on means and standard errors).
        current: the same columns from the current code.
        tolerance: absolute change (accuracy points) always allowed.
        alpha: level of the Holm-corrected one-sided tests.
        allow_missing: algorithm labels whose entries may be missing on either side (listed
            as ``missing, allowed`` or ``no baseline, allowed``, not failing the gate).

    Returns:
        Every entry of either side with its status (see the module docstring); an entry only
        in ``baseline`` is ``MISSING``, one only in ``current`` is ``NO BASELINE``; both fail
        the gate unless their algorithm is in ``allow_missing``.
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
    excused = merged["algorithm"].isin(list(allow_missing)).to_numpy()
    status[excused & (status == STATUS_MISSING)] = STATUS_MISSING_ALLOWED
    status[excused & (status == STATUS_NEW)] = STATUS_NEW_ALLOWED
    merged["allowed_drop"] = np.where(right_only, np.nan, allowed)
    merged["p_worse"] = p_worse
    merged["status"] = status
    table = merged.sort_values(list(ENTRY_KEYS), kind="stable")
    return GateResult(table[list(RESULT_COLUMNS)].reset_index(drop=True), tolerance, alpha,
                      int(legacy.sum()))


# -- the baseline file ------------------------------------------------------------------------

# -- running the sweeps -----------------------------------------------------------------------

def sweep_curves(spec: SweepSpec, runs_dir: Path | str, *, table: BenchmarkTable,
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


def sweep_summary(spec: SweepSpec, runs_dir: Path | str, *, table: BenchmarkTable,
                  workers: int | None = None, progress: bool = False,
                  plugins: Sequence[str | Path] = (), force: bool = False) -> pd.DataFrame:
    """Run ``spec`` into ``runs_dir`` and summarise it (see :func:`sweep_curves`)."""
    return summarize_curves(sweep_curves(spec, runs_dir, table=table, workers=workers,
                                         progress=progress, plugins=plugins, force=force))


def default_spec(runs: int = 100, budget: int = 500, master_seed: int = 0,
                 algorithms: Sequence[str] | None = None) -> SweepSpec:
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


def full_params(spec: SweepSpec) -> dict[str, Any]:
    """Each algorithm's full parameters (defaults filled in), for the record."""
    return {a.label: params_to_dict(resolve_params(a.name, dict(a.params)))   # presets too
            for a in spec.algorithms}


def bless(baseline_path: Path | str, spec: SweepSpec, runs_dir: Path | str, *,
          table: BenchmarkTable, checkpoints: Sequence[int] = DEFAULT_CHECKPOINTS,
          workers: int | None = None, progress: bool = False,
          plugins: Sequence[str | Path] = ()) -> Path:
    """Run (or reuse) ``spec``'s runs in ``runs_dir`` and write the baseline (format 2)."""
    curves = sweep_curves(spec, runs_dir, table=table, workers=workers, progress=progress,
                          plugins=plugins)
    record = baseline_record(spec, checkpoint_entries(curves, checkpoints), checkpoints,
                             table.provenance.checksum, full_params(spec))
    return write_baseline(record, baseline_path)


def check_allowed_missing(baseline: Baseline, labels: Collection[str]) -> tuple[str, ...]:
    """``labels`` if each names an algorithm of ``baseline``, else one line naming the fix."""
    known = set(baseline.labels) | set(baseline.entries["algorithm"].astype(str))
    unknown = sorted(set(labels) - known)
    if unknown:
        raise GateError(f"--allow-missing names {', '.join(unknown)}, not an algorithm of the "
                        f"baseline (it has: {', '.join(sorted(known))})")
    return tuple(labels)


def check(baseline_path: Path | str, runs_dir: Path | str, *, table: BenchmarkTable,
          tolerance: float = DEFAULT_TOLERANCE, workers: int | None = None,
          progress: bool = False, plugins: Sequence[str | Path] = (),
          alpha: float = ALPHA, allow_missing: Collection[str] = ()) -> GateResult:
    """Re-run the baseline's sweep with the current code into ``runs_dir`` and compare.

    An entry missing on either side fails unless its algorithm is in ``allow_missing``.
    """
    tolerance = check_tolerance(tolerance)
    baseline = read_baseline(baseline_path)
    allow_missing = check_allowed_missing(baseline, allow_missing)
    curves = sweep_curves(baseline.spec, runs_dir, table=table, workers=workers,
                          progress=progress, plugins=plugins, force=True)
    current = checkpoint_entries(curves, baseline.checkpoints)
    return compare(baseline.entries, current, tolerance, alpha, allow_missing)
