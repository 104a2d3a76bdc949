"""``nas-harness run`` and ``nas-harness reproduce``: sweeps from the command line.

Both validate everything before any work (a bad name, budget or constraint exits with status 2
and writes nothing), skip runs already complete, and exit with status 1 and a summary when a
run failed. Heavy imports happen inside the handlers so ``nas-harness --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DEFAULT_OUT = "results/runs"
DEFAULT_REPORT_DIR = "results"
REPRODUCE_STAMP = ".reproduce.json"  # in the runs dir: which runs the last report was built from
_UNSET: Any = object()  # an option left out (so a --protocol preset may fill it)


def _fraction(text: str) -> float | None:
    """``--max-flops-fraction``: a number in (0, 1], or ``none`` for no constraint."""
    if text.strip().lower() in {"none", "off", "inf"}:
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a fraction like 0.5 (or 'none'), got {text!r}") from None


def _seconds(text: str) -> float | dict[str, float]:
    """``--budget-seconds``: ``S`` for every dataset, or ``cifar10=20000,cifar100=40000``."""
    try:
        if "=" not in text:
            return float(text)
        out = {}
        for item in text.split(","):
            key, _, value = item.partition("=")
            out[key.strip()] = float(value)
        return out
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected seconds like 20000 or cifar10=20000,cifar100=40000, got {text!r}"
        ) from None


def _add_protocol_args(parser: argparse.ArgumentParser) -> None:
    """``--protocol`` and ``--budget-seconds`` (shared by run and reproduce)."""
    from benchmarks.protocol import PRESETS

    parser.add_argument(
        "--protocol", default=None, choices=sorted(PRESETS), metavar="NAME",
        help="a published protocol: " + "; ".join(
            f"{p.name} = {p.summary}".replace("%", "%%") for p in PRESETS.values())
        + " (explicit options override it; sources in benchmarks/protocol.py)")
    parser.add_argument(
        "--budget-seconds", type=_seconds, default=_UNSET, metavar="S",
        help="budget in simulated seconds: each query is charged its hp=12 training plus "
             "evaluation time as NATS-Bench's simulate_train_eval does; a run ends when the "
             "next query would exceed S (needs hp=12 times: the official archive). S or "
             "cifar10=S1,cifar100=S2,ImageNet16-120=S3")


def _resolve(args: argparse.Namespace, name: str, preset_value: Any, default: Any) -> Any:
    """An option's value: given explicitly, else the preset's, else the default."""
    value = getattr(args, name, _UNSET)
    if value is not _UNSET and value is not None:
        return value
    return preset_value if args.protocol else default


def _protocol_options(args: argparse.Namespace) -> dict[str, Any]:
    """runs, budget, fidelity, max_flops_fraction, budget_seconds after ``--protocol``."""
    from benchmarks.protocol import DEFAULT_BUDGET, DEFAULT_FLOPS_FRACTION, get_preset

    preset = get_preset(args.protocol) if args.protocol else None
    fraction = getattr(args, "max_flops_fraction", _UNSET)
    seconds = args.budget_seconds
    return {
        "runs": _resolve(args, "runs", preset and preset.runs, 100),
        "budget": _resolve(args, "budget", preset and preset.budget, DEFAULT_BUDGET),
        "fidelity": _resolve(args, "fidelity", preset and preset.fidelity, "90"),
        "max_flops_fraction": fraction if fraction is not _UNSET else (
            preset.max_flops_fraction if preset else DEFAULT_FLOPS_FRACTION),
        "budget_seconds": seconds if seconds is not _UNSET else (
            dict(preset.budget_seconds) if preset and preset.budget_seconds else None),
    }


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
                        help="local worker processes (default: all cores; 1 = in-process)")
    parser.add_argument("--scheduler", metavar="ADDR", default=None,
                        help="run on an existing Dask cluster, e.g. tcp://host:8786 "
                             "(results are gathered to --out)")
    parser.add_argument("--out", default=out_default, metavar="DIR",
                        help=f"results root (default: {out_default})")
    parser.add_argument("--force", action="store_true",
                        help="recompute runs that are already complete")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


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
    run.add_argument("--runs", type=int, default=None,
                     help="runs per algorithm and dataset (default 100)")
    run.add_argument("--budget", type=int, default=None, help="queries per run (default 500)")
    run.add_argument("--param", "-p", action="append", default=[], metavar="K=V",
                     help="algorithm parameter (one algorithm only; repeatable)")
    run.add_argument("--label", default=None,
                     help="results directory name of the algorithm (default: its name), "
                          "to keep a parameter variant apart")
    run.add_argument("--plugin", action="append", default=[], metavar="FILE.py",
                     help="a Python file registering extra algorithms (repeatable)")
    run.add_argument("--master-seed", type=int, default=0,
                     help="entropy of every run's SeedSequence (default 0)")
    run.add_argument("--fidelity", default=None, help="hp=90 (default) or 12")
    run.add_argument("--max-flops-fraction", type=_fraction, default=_UNSET, metavar="F",
                     help="feasible: FLOPs <= F x the largest model's (default 0.5; 'none')")
    _add_protocol_args(run)
    _add_execution_args(run, DEFAULT_OUT)
    run.set_defaults(handler=_run)

    rep = subparsers.add_parser(
        "reproduce", help="the paper's experiment: 5 algorithms x 3 datasets x 100 runs, "
                          "then the figures and the report",
        description="LayerNAS, random search, regularized evolution, PPO and REINFORCE, 100 "
                    "runs of 500 queries each on CIFAR-10, CIFAR-100 and ImageNet16-120 with "
                    "FLOPs at most 50% of the largest model; then the analysis report. A "
                    "second call does no work.")
    rep.add_argument("--runs", type=int, default=None,
                     help="runs per algorithm and dataset (default 100, or the protocol's)")
    rep.add_argument("--budget", type=int, default=None,
                     help="queries per run (default 500, or the protocol's)")
    _add_protocol_args(rep)
    rep.add_argument("--allow-synthetic", action="store_true",
                     help="accept a table built from a SYNTHETIC archive (tests, timing only)")
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
    spec = SweepSpec(algorithms=tuple(specs), datasets=tuple(datasets),
                     master_seed=args.master_seed, **_protocol_options(args))
    return _execute(spec, args, plugins=args.plugin)[0]


def _execute(spec: Any, args: argparse.Namespace, plugins: list[str]) -> tuple[int, Any]:
    from nas_harness.sweep import run_sweep

    result = run_sweep(spec, Path(args.out), workers=args.workers, scheduler=args.scheduler,
                       force=args.force, progress=not args.no_progress, plugins=plugins)
    print(result.describe(), file=sys.stderr if result.failures else sys.stdout)
    if result.failures:
        print(f"nas-harness: {len(result.failures)} of {result.total} runs failed; re-run the "
              "same command to retry them", file=sys.stderr)
        return 1, result
    return 0, result


def _check_table_for(args: argparse.Namespace, options: dict[str, Any]) -> None:
    """Refuse a synthetic table (unless allowed) or one without the protocol's hp=12 data."""
    import nas_harness.sweep
    from benchmarks.errors import ProtocolError

    table = nas_harness.sweep._default_table()  # the table the sweep will use
    prov = table.provenance
    if prov.synthetic and not args.allow_synthetic:
        raise ProtocolError(
            f"the benchmark table is SYNTHETIC ({prov.builder}): its hp=12 numbers are "
            "generated noise, fit for tests only; build the real one (`nas-harness data build "
            "--from NATS-sss-v1_0-50262-simple.tar`) or pass --allow-synthetic")
    if options["fidelity"] == "12" and any("12" not in table[d].fidelities for d in table.names):
        what = f"--protocol {args.protocol}" if args.protocol else "hp=12"
        raise ProtocolError(
            f"{what} rewards queries with hp=12 validation accuracy, which this table "
            f"({prov.builder}) lacks: hp=12 results exist only in the official archive "
            "NATS-sss-v1_0-50262-simple.tar (~1 GB); build with `nas-harness data build --from "
            "NATS-sss-v1_0-50262-simple.tar` (README: Using the official archive)")


def _reproduce(args: argparse.Namespace) -> int:
    from benchmarks.protocol import get_preset
    from nas_harness.sweep import reproduce_spec

    options = _protocol_options(args)
    _check_table_for(args, options)
    extra: dict[str, Any] = {}
    if args.protocol:
        extra["algorithms"] = get_preset(args.protocol).algorithms
    spec = reproduce_spec(runs=options["runs"], budget=options["budget"],
                          fidelity=options["fidelity"],
                          max_flops_fraction=options["max_flops_fraction"],
                          budget_seconds=options["budget_seconds"], **extra)
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
