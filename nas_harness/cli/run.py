"""``nas-harness run`` and ``nas-harness reproduce``: sweeps from the command line.

Both take the same path: their inputs become an :class:`~nas_harness.experiment_file.Experiment`
(what runs, where it goes, the plugins it needs), checked on construction, and
:func:`run_experiment` runs it -- everything validated before any work (a bad name, budget,
label or constraint exits with status 2 and writes nothing), a directory holding runs of
another configuration under the same label refused, complete runs skipped, status 1 and a
summary when a run failed. ``run`` takes its experiment from flags or from a file (``run
FILE.toml``); ``reproduce`` is ``run experiments/paper.toml`` followed by the report of exactly
its runs. Heavy imports happen inside the handlers so ``nas-harness --help`` stays fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nas_harness.cli.options import (
    DefaultsFormatter,
    DefaultsParser,
    GivenAction,
    add_execution_args,
    add_protocol_args,
    execution_options,
    fraction,
    names,
)

if TYPE_CHECKING:
    from nas_harness.benchmarks.table import BenchmarkTable
    from nas_harness.execution import ExecutionOptions
    from nas_harness.experiment import SweepSpec
    from nas_harness.experiment_file import Experiment
    from nas_harness.sweep import SweepResult

__all__ = [
    "DEFAULT_OUT",
    "REPRODUCE_STAMP",
    "DefaultsFormatter",
    "DefaultsParser",
    "add_commands",
    "run_experiment",
]

DEFAULT_OUT = "results/runs"
REPRODUCE_STAMP = ".reproduce.json"  # in the runs dir: which runs the last report was built from
# flags that describe a sweep; with an experiment file the file describes it
SWEEP_FLAGS = {"free_signals": "--free-signals", "proxy_query_cost": "--proxy-query-cost",
               "algorithm": "--algorithm", "dataset": "--dataset", "param": "--param",
               "label": "--label", "runs": "--runs", "budget": "--budget",
               "master_seed": "--master-seed", "fidelity": "--fidelity",
               "max_flops_fraction": "--max-flops-fraction", "protocol": "--protocol",
               "budget_seconds": "--budget-seconds"}


def add_commands(subparsers: Any) -> None:
    """Register ``run`` and ``reproduce``."""
    run = subparsers.add_parser(
        "run", help="run algorithms x datasets x runs and store every trajectory",
        formatter_class=DefaultsFormatter,
        description="Run a sweep, given by flags or by an experiment file (FILE.toml). Each "
                    "run is stored as <out>/<dataset>/<label>/run-NNN.parquet + .json; "
                    "complete runs are skipped on a re-run, and a directory holding runs of "
                    "another configuration under the same label is refused.")
    run.add_argument("experiment", nargs="?", default=None, metavar="FILE.toml",
                     help="an experiment file (algorithms, datasets, protocol, runs, seed, "
                          "output); then the sweep flags below are not used")
    run.add_argument("--algorithm", "-a", action="append", default=None, metavar="NAME",
                     help="algorithm name (repeat or comma-separate for several; see "
                          "`nas-harness list`)")
    run.add_argument("--dataset", "-d", action="append", default=None, metavar="NAME",
                     help="cifar10, cifar100, ImageNet16-120 or 'all' (repeatable)")
    run.add_argument("--runs", type=int, default=100, action=GivenAction,
                     help="runs per algorithm and dataset")
    run.add_argument("--budget", type=int, default=500, action=GivenAction, help="queries per run")
    run.add_argument("--param", "-p", action="append", default=None, metavar="K=V",
                     help="algorithm parameter (one algorithm only; repeatable)")
    run.add_argument("--label", default=None,
                     help="results directory name of the algorithm (default: its name), "
                          "to keep a parameter variant apart; a plain name (no '/' or '..')")
    run.add_argument("--plugin", action="append", default=[], metavar="FILE.py",
                     help="a Python file registering extra algorithms (repeatable)")
    run.add_argument("--master-seed", type=int, default=0, action=GivenAction,
                     help="entropy of every run's SeedSequence")
    run.add_argument("--fidelity", default="90", action=GivenAction, help="hp=90 or hp=12")
    run.add_argument("--max-flops-fraction", type=fraction, default=0.5, action=GivenAction,
                     metavar="F", help="feasible: FLOPs <= F x the largest model's ('none': "
                                       "no constraint)")
    add_protocol_args(run)
    run.add_argument("--free-signals", default=None, metavar="NAMES",
                     help="training-free proxies the algorithm may read, e.g. ntk,naswot "
                          "(recorded in each run's identity; see `nas-harness proxies list`)")
    run.add_argument("--proxy-query-cost", type=float, default=None, metavar="F",
                     help="each architecture's first proxy read costs F of a query "
                          "(default 0: free)")
    add_execution_args(run, f"results root (default: {DEFAULT_OUT}, or the experiment's "
                             "output)")
    run.set_defaults(handler=_run)

    rep = subparsers.add_parser(
        "reproduce", help="the paper's experiment (experiments/paper.toml): 6 algorithms x 3 "
                          "datasets x 100 runs, then the figures and the report",
        formatter_class=DefaultsFormatter,
        description="Run experiments/paper.toml -- LayerNAS (the paper's and the harness's "
                    "stand-in), random search, regularized evolution, PPO and REINFORCE, 100 "
                    "runs of 500 queries each on CIFAR-10, "
                    "CIFAR-100 and ImageNet16-120 with FLOPs at most 50% of the largest "
                    "model -- then the report of exactly those runs (whatever else sits in "
                    "the runs directory). A second call does no work.")
    rep.add_argument("--experiment", default=None, metavar="FILE.toml",
                     help="the experiment to reproduce (default: the committed "
                          "experiments/paper.toml)")
    rep.add_argument("--runs", type=int, default=None,
                     help="runs per algorithm and dataset (default: the experiment's, 100)")
    rep.add_argument("--budget", type=int, default=None,
                     help="queries per run (default: the experiment's, 500)")
    rep.add_argument("--report-dir", default=None, metavar="DIR",
                     help="where the figures and the report go (default: the experiment's "
                          "report directory, results/)")
    rep.add_argument("--no-report", action="store_true", help="only run the sweep")
    add_protocol_args(rep)
    rep.add_argument("--allow-synthetic", action="store_true",
                     help="accept a table built from a SYNTHETIC archive (tests, timing only)")
    add_execution_args(rep, "results root (default: the experiment's output, results/runs)")
    rep.set_defaults(handler=_reproduce)


# -- the inputs, checked once into an Experiment ---------------------------------------------

def _out_dir(out: str | None) -> Path | None:
    """``--out`` as a path (None: not given); an empty one is refused before any work."""
    from nas_harness.benchmarks.errors import ProtocolError

    if out is None:
        return None
    if not out.strip():
        raise ProtocolError("--out is empty; name a results directory, e.g. --out "
                            "runs/my-sweep")
    return Path(out)


def _split_params(items: list[str]) -> dict[str, str]:
    from nas_harness.algorithms.params import ParamError

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParamError(f"--param takes name=value, got {item!r}")
        out[key.strip().replace("-", "_")] = value
    return out


def _preset_fields(args: argparse.Namespace, spec_fields: dict[str, Any],
                   explicit: set[str] | frozenset[str]) -> dict[str, Any]:
    """``spec_fields`` with ``--protocol``'s values where no ``explicit`` option overrides."""
    from nas_harness.benchmarks.protocol import get_preset

    out = dict(spec_fields)
    if args.protocol:
        preset = get_preset(args.protocol)
        values = {"runs": preset.runs, "budget": preset.budget, "fidelity": preset.fidelity,
                  "max_flops_fraction": preset.max_flops_fraction}
        out.update({k: v for k, v in values.items() if k not in explicit})
        if preset.budget_seconds:
            out["budget_seconds"] = dict(preset.budget_seconds)
    if args.budget_seconds is not None:
        out["budget_seconds"] = args.budget_seconds
    return out


def _run_experiment(args: argparse.Namespace) -> Experiment:
    """``run``'s experiment: the file's (flags that describe a sweep refused), or the flags'."""
    from nas_harness.benchmarks.datasets import DATASET_NAMES
    from nas_harness.benchmarks.errors import ProtocolError
    from nas_harness.experiment import AlgorithmSpec, SweepSpec, check_label
    from nas_harness.experiment_file import Experiment, load_experiment

    out = _out_dir(args.out)
    plugins = tuple(Path(p) for p in args.plugin)
    if args.experiment:
        listed = {"algorithm": args.algorithm, "dataset": args.dataset, "param": args.param,
                  "label": args.label, "free_signals": args.free_signals,
                  "proxy_query_cost": args.proxy_query_cost is not None}
        given = sorted(args.given | {k for k, v in listed.items() if v})
        if given:
            flags = ", ".join(SWEEP_FLAGS[k] for k in given)
            raise ProtocolError(f"{flags}: the experiment file {args.experiment} describes "
                                "the sweep; edit the file (or drop it and use the flags)")
        experiment = load_experiment(args.experiment)
        return dataclasses.replace(experiment, output=out or experiment.output,
                                   plugins=(*experiment.plugins, *plugins))
    if not args.algorithm or not args.dataset:
        raise ProtocolError("give an experiment file (nas-harness run FILE.toml) or "
                            "--algorithm and --dataset")
    algorithms = names(args.algorithm)
    datasets = names(args.dataset)
    if any(d.lower() == "all" for d in datasets):
        datasets = list(DATASET_NAMES)
    params = _split_params(args.param or [])
    if len(algorithms) > 1 and (params or args.label is not None):
        raise ProtocolError("--param and --label apply to one algorithm; run one "
                            "`nas-harness run` per parameter setting")
    if args.label is not None:
        check_label(args.label)  # an empty --label is refused, not read as "no label"
    specs = [AlgorithmSpec(name, tuple(params.items()), args.label or "")
             for name in algorithms]
    fields = _preset_fields(args, {"runs": args.runs, "budget": args.budget,
                                   "fidelity": args.fidelity,
                                   "max_flops_fraction": args.max_flops_fraction},
                            args.given)
    seconds = fields.pop("budget_seconds", None)
    options: dict[str, Any] = {} if seconds is None else {"budget_seconds": seconds}
    if args.free_signals:
        options["free_signals"] = args.free_signals
    if args.proxy_query_cost is not None:
        options["proxy_query_cost"] = args.proxy_query_cost
    spec = SweepSpec(algorithms=tuple(specs), datasets=tuple(datasets),
                     master_seed=args.master_seed, **fields,
                     protocol_options=tuple(options.items()))
    output = out or Path(DEFAULT_OUT)
    return Experiment("run", spec, output, output / "report", plugins)


def _reproduce_experiment(args: argparse.Namespace) -> Experiment:
    """``reproduce``'s experiment: the paper's (or ``--experiment``) under the overrides."""
    from nas_harness.experiment_file import load_experiment, paper_experiment

    out = _out_dir(args.out)
    experiment = load_experiment(args.experiment) if args.experiment else paper_experiment()
    spec = experiment.spec
    if args.runs is not None or args.budget is not None:
        spec = dataclasses.replace(spec, runs=spec.runs if args.runs is None else args.runs,
                                   budget=spec.budget if args.budget is None else args.budget)
    report_dir = Path(args.report_dir) if args.report_dir is not None else experiment.report_dir
    return dataclasses.replace(experiment, spec=_apply_protocol(args, spec),
                               output=out or experiment.output, report_dir=report_dir)


def _apply_protocol(args: argparse.Namespace, spec: SweepSpec) -> SweepSpec:
    """The experiment's sweep under ``--protocol``/``--budget-seconds``."""
    from nas_harness.benchmarks.protocol import get_preset
    from nas_harness.experiment import AlgorithmSpec

    fields = _preset_fields(args, {"runs": spec.runs, "budget": spec.budget,
                                   "fidelity": spec.fidelity,
                                   "max_flops_fraction": spec.max_flops_fraction},
                            {k for k, v in (("runs", args.runs), ("budget", args.budget))
                             if v is not None})
    seconds = fields.pop("budget_seconds", None)
    if seconds is not None:
        fields["protocol_options"] = {**dict(spec.protocol_options), "budget_seconds": seconds}
    if args.protocol:
        wanted = get_preset(args.protocol).algorithms
        if wanted and [a.name for a in spec.algorithms] != list(wanted):
            fields["algorithms"] = tuple(AlgorithmSpec(name) for name in wanted)
    return dataclasses.replace(spec, **fields)


# -- the one path: check the table, run the experiment ---------------------------------------

def _check_table(table: BenchmarkTable, spec: SweepSpec, protocol: str | None,
                 allow_synthetic: bool) -> None:
    """Refuse a synthetic table (unless allowed) or one without the protocol's hp=12 data."""
    from nas_harness.benchmarks.errors import ProtocolError

    prov = table.provenance
    if prov.synthetic and not allow_synthetic:
        raise ProtocolError(
            f"the benchmark table is SYNTHETIC ({prov.builder}): its hp=12 numbers are "
            "generated noise, fit for tests only; build the real one (`nas-harness data build "
            "--from NATS-sss-v1_0-50262-simple.tar`) or pass --allow-synthetic")
    if spec.fidelity == "12" and any("12" not in table[d].fidelities for d in table.names):
        what = f"--protocol {protocol}" if protocol else "hp=12"
        raise ProtocolError(
            f"{what} rewards queries with hp=12 validation accuracy, which this table "
            f"({prov.builder}) lacks: hp=12 results exist only in the official archive "
            "NATS-sss-v1_0-50262-simple.tar (~1 GB); build with `nas-harness data build --from "
            "NATS-sss-v1_0-50262-simple.tar` (docs/official-archive.md)")


def run_experiment(experiment: Experiment, execution: ExecutionOptions, *, force: bool,
                   protocol: str | None, allow_synthetic: bool) -> SweepResult:
    """Run ``experiment`` as ``execution`` says; print the summary.

    The table is the one ``NAS_HARNESS_DATA`` names, refused when synthetic (unless
    ``allow_synthetic``) or without the hp=12 data the protocol (``--protocol`` name, for the
    message) needs.
    """
    from nas_harness import sweep
    from nas_harness.progress import note

    note("loading the benchmark table (built and cached on first use)", execution.progress)
    table = sweep.default_table()
    _check_table(table, experiment.spec, protocol, allow_synthetic)
    result = sweep.run_sweep(experiment.spec, experiment.output, force=force,
                             plugins=experiment.plugins, table=table, execution=execution)
    print(result.describe(), file=sys.stderr if result.failures else sys.stdout)
    if result.failures:
        print(f"nas-harness: {len(result.failures)} of {result.total} runs failed; re-run the "
              "same command to retry them", file=sys.stderr)
    return result


def _run(args: argparse.Namespace) -> int:
    execution = execution_options(args)
    result = run_experiment(_run_experiment(args), execution, force=args.force,
                            protocol=args.protocol, allow_synthetic=True)
    if result.failures:
        return 1
    if args.experiment:
        print(f"report it with: nas-harness report {args.experiment}")
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    execution = execution_options(args)
    experiment = _reproduce_experiment(args)
    result = run_experiment(experiment, execution, force=args.force, protocol=args.protocol,
                            allow_synthetic=args.allow_synthetic)
    if result.failures:
        print("nas-harness: the report is not built while runs are missing", file=sys.stderr)
        return 1
    if args.no_report:
        return 0
    return _report(experiment, result, args)


def _report(experiment: Experiment, result: SweepResult, args: argparse.Namespace) -> int:
    """The report of exactly the experiment's runs, unless it was built from these runs."""
    import time

    from nas_harness.progress import note

    spec, report_dir = experiment.spec, experiment.report_dir
    stamp_path = experiment.output / REPRODUCE_STAMP
    selection: dict[str, Any] = {"algorithms": list(experiment.labels),
                                 "datasets": list(spec.datasets), "runs": spec.runs}
    record = {"runs_digest": result.digest, "report_dir": str(report_dir.resolve()),
              "selection": selection}
    if not result.outcomes and report_dir.is_dir() and _read_json(stamp_path) == record:
        print(f"report already built from these runs: {report_dir} (nothing to do)")
        return 0
    # imported only now: matplotlib and scipy are most of a no-op reproduce's start-up
    try:
        from nas_harness.analysis.report import build_report
    except ModuleNotFoundError as exc:
        if exc.name not in {"nas_harness.analysis", "nas_harness.analysis.report"}:
            raise
        print("the analysis report module (nas_harness.analysis.report) is not installed; "
              f"runs are in {result.out_dir}", file=sys.stderr)
        return 0
    from nas_harness.stamp import provenance_stamp

    start = time.perf_counter()
    note(f"building the report of {spec.num_runs} runs -> {report_dir}", not args.no_progress)
    built = build_report(experiment.output, report_dir,
                         stamp=provenance_stamp(experiment.path), **selection)
    note(f"report built in {time.perf_counter() - start:.1f} s", not args.no_progress)
    stamp_path.write_text(json.dumps(record, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    print(f"report: {built.report}")
    return 0


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
