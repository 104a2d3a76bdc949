"""``nas-harness report``, ``check`` and ``bless``: the report and the regression gate.

Heavy imports (pandas, matplotlib, the sweep machinery) happen inside the handlers.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_RUNS_DIR = "results/runs"
DEFAULT_REPORT_DIR = "results"
DEFAULT_BASELINE = "results/baseline.json"
DEFAULT_TOLERANCE = 0.2
DEFAULT_CHECKPOINTS = "50,100,200,500"
DEFAULT_TIME_CHECKPOINTS = "0.1,0.25,0.5,1"


def _comma_separated(text: str, convert: Callable[[str], T], expected: str) -> tuple[T, ...]:
    """The values of ``text`` split on commas; one argparse line naming ``expected`` if not."""
    try:
        return tuple(convert(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def _checkpoints(text: str) -> tuple[int, ...]:
    values = _comma_separated(text, int, "comma-separated query numbers like 50,100,200,500")
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"checkpoints must be positive integers, got {text!r}")
    return values


def _time_checkpoints(text: str) -> tuple[float, ...]:
    """Fractions of the time budget; that they lie on the report's grid is checked there."""
    values = _comma_separated(
        text, float, "comma-separated fractions of the time budget like 0.1,0.25,0.5,1")
    if not values or not all(0 < v <= 1 for v in values):
        raise argparse.ArgumentTypeError(
            f"time checkpoints are fractions of the budget in (0, 1], got {text!r}")
    return values


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of accuracy points, got {text!r}") \
            from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            f"the tolerance must be a finite number >= 0 (accuracy points), got {text!r}")
    return value


def add_commands(subparsers: Any) -> None:
    """Register ``report``, ``check`` and ``bless``."""
    from nas_harness.cli.options import DefaultsFormatter

    rep = subparsers.add_parser(
        "report", help="figures, tables, summary.md and a self-contained report.html",
        formatter_class=DefaultsFormatter,
        description="Aggregate the runs of a sweep (step function over queries) and write "
                    "the figures (PNG and PDF), the tables (CSV and Markdown), summary.md and "
                    "report.html -- next to the runs (<runs-dir>/report) unless --out says "
                    "otherwise. Given an experiment file, report exactly its runs.")
    rep.add_argument("experiment", nargs="?", default=None, metavar="EXPERIMENT.toml",
                     help="report this experiment's runs only (its algorithms, datasets and "
                          "run indices), from its output directory into its report directory")
    rep.add_argument("--runs-dir", default=None, metavar="DIR",
                     help=f"the sweep's results root (default: {DEFAULT_RUNS_DIR}, or the "
                          "experiment's output)")
    rep.add_argument("--out", default=None, metavar="DIR",
                     help="where the report goes (default: <runs-dir>/report, or the "
                          "experiment's report directory)")
    rep.add_argument("--checkpoints", type=_checkpoints, default=_checkpoints(
        DEFAULT_CHECKPOINTS), metavar="Q1,Q2,...",
        help=f"queries of the checkpoint table (default: {DEFAULT_CHECKPOINTS})")
    rep.add_argument("--time-checkpoints", type=_time_checkpoints,
                     default=_time_checkpoints(DEFAULT_TIME_CHECKPOINTS), metavar="F1,F2,...",
                     help="for runs under a budget in simulated seconds: the checkpoints as "
                          "fractions of each dataset's budget, multiples of 1/400 (default: "
                          f"{DEFAULT_TIME_CHECKPOINTS}); --checkpoints is then not used")
    rep.add_argument("--no-progress", action="store_true", help="no progress output")
    rep.set_defaults(handler=_report)

    chk = subparsers.add_parser(
        "check", help="regression gate: re-run the baseline's sweeps and compare",
        description="Re-run the sweep recorded in the baseline with the current code and "
                    "compare each (algorithm, dataset, checkpoint) entry: identical to the "
                    "baseline, changed but not worse, improved, or REGRESSED. Exits 1 when an "
                    "entry regressed: its runs are lower by a one-sided Mann-Whitney U test "
                    "(p Holm-corrected over the entries below alpha 0.05) and its mean "
                    "dropped by more than the tolerance (a format-1 baseline without per-run "
                    "values: by more than max(3 standard errors, tolerance)), or when an "
                    "entry is missing from the baseline or from the re-run (unless "
                    "--allow-missing names its algorithm).")
    chk.add_argument("--baseline", default=DEFAULT_BASELINE, metavar="FILE",
                     help=f"baseline file (default: {DEFAULT_BASELINE})")
    chk.add_argument("--tolerance", type=_tolerance, default=DEFAULT_TOLERANCE, metavar="PTS",
                     help=f"absolute drop always allowed, in accuracy points, even when "
                          f"significant (default: {DEFAULT_TOLERANCE})")
    chk.add_argument("--out", default=None, metavar="DIR",
                     help="keep the re-run's runs here (default: a temporary directory)")
    chk.add_argument("--allow-missing", action="append", default=[], metavar="LABEL[,LABEL]",
                     help="algorithms whose entries may be missing from the baseline or from "
                          "the re-run without failing the gate (repeatable; otherwise every "
                          "missing entry fails and is named)")
    _add_common(chk)
    chk.set_defaults(handler=_check)

    bls = subparsers.add_parser(
        "bless", help="rewrite the regression baseline from the current code",
        description="Run every built-in algorithm (default parameters) on the three datasets "
                    "and write the mean, standard error and every run's value at each "
                    "checkpoint to the baseline (format 2).")
    bls.add_argument("--baseline", default=DEFAULT_BASELINE, metavar="FILE",
                     help=f"baseline file to write (default: {DEFAULT_BASELINE})")
    bls.add_argument("--runs", type=int, default=100, help="runs per algorithm and dataset")
    bls.add_argument("--budget", type=int, default=500, help="queries per run")
    bls.add_argument("--master-seed", type=int, default=0, help="master seed (default 0)")
    bls.add_argument("--algorithm", "-a", action="append", default=None, metavar="NAME",
                     help="only these algorithms (repeatable; default: every built-in one)")
    bls.add_argument("--checkpoints", type=_checkpoints,
                     default=_checkpoints(DEFAULT_CHECKPOINTS), metavar="Q1,Q2,...",
                     help=f"queries to record (default: {DEFAULT_CHECKPOINTS})")
    bls.add_argument("--runs-dir", default=None, metavar="DIR",
                     help="run into (and reuse complete runs of) this directory, e.g. "
                          "results/runs after `nas-harness reproduce` (default: a temporary "
                          "directory)")
    _add_common(bls)
    bls.set_defaults(handler=_bless)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="local worker processes (default: all cores; 1 = in-process)")
    parser.add_argument("--plugin", action="append", default=[], metavar="FILE.py",
                        help="a Python file registering extra algorithms (repeatable)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _report(args: argparse.Namespace) -> int:
    import time

    from nas_harness.analysis.report import build_report
    from nas_harness.benchmarks.errors import ProtocolError
    from nas_harness.experiment_file import load_experiment
    from nas_harness.progress import note
    from nas_harness.stamp import provenance_stamp

    for flag, value in (("--runs-dir", args.runs_dir), ("--out", args.out)):
        if value is not None and not value.strip():
            raise ProtocolError(f"{flag} is empty; name a directory")
    experiment = load_experiment(args.experiment) if args.experiment else None
    runs_dir = Path(args.runs_dir) if args.runs_dir is not None else (
        experiment.output if experiment else Path(DEFAULT_RUNS_DIR))
    if args.out is not None:
        out = Path(args.out)
    elif experiment is not None and args.runs_dir is None:
        out = experiment.report_dir
    else:
        out = runs_dir / "report"
    start = time.perf_counter()
    note(f"building the report of {runs_dir} -> {out}", not args.no_progress)
    paths = build_report(runs_dir, out, checkpoints=args.checkpoints,
                         time_checkpoints=args.time_checkpoints,
                         stamp=provenance_stamp(experiment.path if experiment else None),
                         **(experiment.selection() if experiment else {}))
    note(f"report built in {time.perf_counter() - start:.1f} s", not args.no_progress)
    print(f"report: {paths.report}\nsummary: {paths.summary}")
    return 0


def _table() -> Any:
    from nas_harness.benchmarks.data.store import load_table

    return load_table()


def _check(args: argparse.Namespace) -> int:
    from nas_harness.cli.options import names
    from nas_harness.gate import check, check_allowed_missing, read_baseline

    baseline = read_baseline(args.baseline)  # a broken file fails before any work
    allow_missing = check_allowed_missing(baseline, names(args.allow_missing))
    table = _table()
    if baseline.table_checksum and baseline.table_checksum != table.provenance.checksum:
        print(f"nas-harness: warning: the baseline was made with table "
              f"{baseline.table_checksum[:12]}..., the current table is "
              f"{table.provenance.checksum[:12]}...; differences may come from the data",
              file=sys.stderr)
    spec = baseline.spec
    print(f"re-running {spec.num_runs} runs ({len(spec.algorithms)} algorithms x "
          f"{len(spec.datasets)} datasets x {spec.runs} runs, {spec.budget} queries)",
          file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="nas-harness-check-") as tmp:
        runs_dir = Path(args.out) if args.out else Path(tmp)
        result = check(args.baseline, runs_dir, table=table, tolerance=args.tolerance,
                       workers=args.workers, progress=not args.no_progress,
                       plugins=args.plugin, allow_missing=allow_missing)
    print(result.format())
    return 0 if result.passed else 1


def _bless(args: argparse.Namespace) -> int:
    from nas_harness.gate import bless, default_spec

    table = _table()
    if args.plugin:
        from nas_harness.algorithms.registry import load_plugin

        for plugin in args.plugin:
            load_plugin(plugin)
    spec = default_spec(runs=args.runs, budget=args.budget, master_seed=args.master_seed,
                        algorithms=args.algorithm)
    print(f"running {spec.num_runs} runs for the baseline "
          f"({', '.join(a.label for a in spec.algorithms)})", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="nas-harness-bless-") as tmp:
        runs_dir = Path(args.runs_dir) if args.runs_dir else Path(tmp)
        path = bless(args.baseline, spec, runs_dir, table=table, checkpoints=args.checkpoints,
                     workers=args.workers, progress=not args.no_progress, plugins=args.plugin)
    print(f"baseline written: {path}")
    return 0
