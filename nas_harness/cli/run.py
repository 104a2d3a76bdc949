"""``nas-harness run`` and ``nas-harness reproduce``: sweeps from the command line.

Both validate everything before any work (a bad name, budget or constraint exits with status 2
and writes nothing), skip runs already complete, and exit with status 1 and a summary when a
run failed. Heavy imports happen inside the handlers so ``nas-harness --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

DEFAULT_OUT = "results/runs"
DEFAULT_REPORT_DIR = "results"
REPRODUCE_STAMP = ".reproduce.json"  # in the runs dir: which runs the last report was built from


def _fraction(text: str) -> float | None:
    """``--max-flops-fraction``: a number in (0, 1], or ``none`` for no constraint."""
    if text.strip().lower() in {"none", "off"}:
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a fraction like 0.5 (or 'none'), got {text!r}") from None
    if not math.isfinite(value):  # 'none' is how to say no constraint; the range is checked
        raise argparse.ArgumentTypeError(  # with the rest of the protocol
            f"expected a fraction in (0, 1] like 0.5, or 'none' for no constraint; got {text!r}")
    return value


def _seconds(text: str) -> float | None:
    """``--run-timeout``: positive seconds, or ``none`` for no limit."""
    if text.strip().lower() in {"none", "off"}:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(
            f"expected a positive number of seconds (or 'none'), got {text!r}")
    return value


def _names(values: list[str] | None) -> list[str]:
    """Repeated and comma-separated names, in order, without repeats."""
    out: list[str] = []
    for value in values or []:
        for name in value.split(","):
            if name.strip() and name.strip() not in out:
                out.append(name.strip())
    return out


def _add_execution_args(parser: argparse.ArgumentParser, out_default: str) -> None:
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="local worker processes (default: all cores, also the cap; 1 = "
                             "in this process, where a run that exits ends the sweep)")
    parser.add_argument("--scheduler", metavar="ADDR", default=None,
                        help="run on an existing Dask cluster, e.g. tcp://host:8786 "
                             "(results are gathered to --out)")
    parser.add_argument("--out", default=out_default, metavar="DIR",
                        help=f"results root (default: {out_default})")
    parser.add_argument("--force", action="store_true",
                        help="recompute runs that are already complete")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--run-timeout", type=_seconds, default=600.0, metavar="SECONDS",
                        help="stop a run after this long and record it as failed (default "
                             "600; 'none' for no limit)")


def add_commands(subparsers: Any) -> None:
    """Register ``run`` and ``reproduce``."""
    run = subparsers.add_parser(
        "run", help="run algorithms x datasets x runs and store every trajectory",
        description="Run a sweep. Each run is stored as <out>/<dataset>/<algorithm>/"
                    "run-NNN.parquet + .json; complete runs are skipped on a re-run.")
    run.add_argument("--algorithm", "-a", action="append", required=True, metavar="NAME",
                     help="algorithm name (repeat or comma-separate for several; see "
                          "`nas-harness list`)")
    run.add_argument("--dataset", "-d", action="append", required=True, metavar="NAME",
                     help="cifar10, cifar100, ImageNet16-120 or 'all' (repeatable)")
    run.add_argument("--runs", type=int, default=100, help="runs per algorithm and dataset")
    run.add_argument("--budget", type=int, default=500, help="queries per run")
    run.add_argument("--param", "-p", action="append", default=[], metavar="K=V",
                     help="algorithm parameter (one algorithm only; repeatable)")
    run.add_argument("--label", default=None,
                     help="results directory name of the algorithm (default: its name), "
                          "to keep a parameter variant apart")
    run.add_argument("--plugin", action="append", default=[], metavar="FILE.py",
                     help="a Python file registering extra algorithms (repeatable)")
    run.add_argument("--master-seed", type=int, default=0,
                     help="entropy of every run's SeedSequence (default 0)")
    run.add_argument("--fidelity", default="90", help="hp=90 (default) or 12")
    run.add_argument("--max-flops-fraction", type=_fraction, default=0.5, metavar="F",
                     help="feasible: FLOPs <= F x the largest model's (default 0.5; 'none')")
    _add_execution_args(run, DEFAULT_OUT)
    run.set_defaults(handler=_run)

    rep = subparsers.add_parser(
        "reproduce", help="the paper's experiment: 5 algorithms x 3 datasets x 100 runs, "
                          "then the figures and the report",
        description="LayerNAS, random search, regularized evolution, PPO and REINFORCE, 100 "
                    "runs of 500 queries each on CIFAR-10, CIFAR-100 and ImageNet16-120 with "
                    "FLOPs at most 50% of the largest model; then the analysis report. A "
                    "second call does no work.")
    rep.add_argument("--runs", type=int, default=100, help="runs per algorithm and dataset")
    rep.add_argument("--budget", type=int, default=500, help="queries per run")
    rep.add_argument("--report-dir", default=DEFAULT_REPORT_DIR, metavar="DIR",
                     help=f"where the figures and the report go (default: {DEFAULT_REPORT_DIR})")
    rep.add_argument("--no-report", action="store_true", help="only run the sweep")
    _add_execution_args(rep, DEFAULT_OUT)
    rep.set_defaults(handler=_reproduce)


def _split_params(items: list[str]) -> dict[str, str]:
    from algorithms.params import ParamError

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParamError(f"--param takes name=value, got {item!r}")
        out[key.strip().replace("-", "_")] = value
    return out


def _run(args: argparse.Namespace) -> int:
    from benchmarks.datasets import DATASET_NAMES
    from benchmarks.errors import ProtocolError
    from nas_harness.sweep import AlgorithmSpec, SweepSpec

    algorithms = _names(args.algorithm)
    datasets = _names(args.dataset)
    if any(d.lower() == "all" for d in datasets):
        datasets = list(DATASET_NAMES)
    params = _split_params(args.param)
    if len(algorithms) > 1 and (params or args.label):
        raise ProtocolError("--param and --label apply to one algorithm; run one "
                            "`nas-harness run` per parameter setting")
    specs = [AlgorithmSpec(name, tuple(params.items()), args.label or "")
             for name in algorithms]
    spec = SweepSpec(algorithms=tuple(specs), datasets=tuple(datasets), runs=args.runs,
                     budget=args.budget, fidelity=args.fidelity,
                     max_flops_fraction=args.max_flops_fraction, master_seed=args.master_seed)
    return _execute(spec, args, plugins=args.plugin)[0]


def _execute(spec: Any, args: argparse.Namespace, plugins: list[str]) -> tuple[int, Any]:
    from nas_harness.sweep import run_sweep

    result = run_sweep(spec, Path(args.out), workers=args.workers, scheduler=args.scheduler,
                       force=args.force, progress=not args.no_progress, plugins=plugins,
                       run_timeout=args.run_timeout)
    print(result.describe(), file=sys.stderr if result.failures else sys.stdout)
    if result.failures:
        print(f"nas-harness: {len(result.failures)} of {result.total} runs failed; re-run the "
              "same command to retry them", file=sys.stderr)
        return 1, result
    return 0, result


def _reproduce(args: argparse.Namespace) -> int:
    from nas_harness.sweep import reproduce_spec

    spec = reproduce_spec(runs=args.runs, budget=args.budget)
    code, result = _execute(spec, args, plugins=[])
    if code or args.no_report:
        if code:
            print("nas-harness: the report is not built while runs are missing",
                  file=sys.stderr)
        return code
    try:
        from analysis.report import build_report
    except ModuleNotFoundError as exc:
        if exc.name not in {"analysis", "analysis.report"}:
            raise
        print("the analysis report module (analysis.report) is not installed; runs are in "
              f"{result.out_dir}", file=sys.stderr)
        return 0
    runs_dir, report_dir = Path(args.out), Path(args.report_dir)
    stamp_path = runs_dir / REPRODUCE_STAMP
    stamp = {"runs_digest": result.digest, "report_dir": str(report_dir.resolve())}
    if not result.outcomes and report_dir.is_dir() and _read_json(stamp_path) == stamp:
        print(f"report already built from these runs: {report_dir} (nothing to do)")
        return 0
    built = build_report(runs_dir, report_dir)
    stamp_path.write_text(json.dumps(stamp, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    where = getattr(built, "path", None) or getattr(built, "report", None) or report_dir
    print(f"report: {where}")
    return 0


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
