"""The regression baseline file: the sweep it was made from and its checkpoint entries.

``results/baseline.json`` records a sweep (algorithms with their parameter overrides,
datasets, runs, budget, protocol, master seed) and, per (algorithm, dataset, checkpoint), the
mean and standard error of the incumbent's test accuracy and (format 2) every run's value.
:func:`read_baseline` validates every entry (a value missing, NaN or infinite, a mean that is
not the mean of its values, a duplicate: one line naming the entry and the fix);
:func:`baseline_record` and :func:`write_baseline` write it. The comparison is
:mod:`nas_harness.gate`'s job.
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

from nas_harness.analysis.metrics.aggregate import VALUE_COLUMN, StepCurves, summarize_curves
from nas_harness.benchmarks.errors import DataNotFoundError, HarnessError
from nas_harness.experiment import AlgorithmSpec, SweepSpec

__all__ = [
    "ALPHA",
    "BASELINE_FORMAT",
    "ENTRY_KEYS",
    "READABLE_FORMATS",
    "Baseline",
    "GateError",
    "baseline_record",
    "checkpoint_entries",
    "read_baseline",
    "spec_from_record",
    "spec_record",
    "write_baseline",
]

BASELINE_FORMAT = 2
READABLE_FORMATS = (1, 2)
ALPHA = 0.05
"""The level of the gate's Holm-corrected one-sided tests (recorded in the baseline's text)."""
ENTRY_KEYS: tuple[str, ...] = ("algorithm", "dataset", "query")


class GateError(HarnessError, RuntimeError):
    """The gate could not compare (unreadable baseline, sweep with failed runs, ...)."""


@dataclass(frozen=True)
class Baseline:
    """A parsed ``baseline.json``: the sweep to re-run, checkpoints and entries.

    ``entries`` has one row per (algorithm, dataset, query) with ``mean``, ``sem``, ``n``,
    ``n_runs`` and, from format 2 on, ``values`` (each run's value, in run order).
    """

    spec: SweepSpec
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

    @property
    def labels(self) -> tuple[str, ...]:
        """The algorithm labels the baseline's sweep runs."""
        return tuple(a.label for a in self.spec.algorithms)


def spec_record(spec: SweepSpec) -> dict[str, Any]:
    """The JSON record of a SweepSpec (parameter overrides only)."""
    return {
        "algorithms": [{"name": a.name, "label": a.label, "params": dict(a.params)}
                       for a in spec.algorithms],
        "datasets": list(spec.datasets), "runs": spec.runs, "budget": spec.budget,
        "fidelity": spec.fidelity, "max_flops_fraction": spec.max_flops_fraction,
        "master_seed": spec.master_seed,
    }


def spec_from_record(record: dict[str, Any]) -> SweepSpec:
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


def baseline_record(spec: SweepSpec, summary: pd.DataFrame, checkpoints: Sequence[int],
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
