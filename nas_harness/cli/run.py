"""``nas-harness run`` and ``nas-harness reproduce``: sweeps from the command line.

Both validate everything before any work (a bad name, budget, label or constraint exits with
status 2 and writes nothing), refuse an output directory holding runs of another configuration
under the same label, skip runs already complete, and exit with status 1 and a summary when a
run failed. ``run`` takes its sweep from flags or from an experiment file (``run FILE.toml``);
``reproduce`` is ``run experiments/paper.toml`` followed by the report of exactly its runs.
Heavy imports happen inside the handlers so ``nas-harness --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

DEFAULT_OUT = "results/runs"
REPRODUCE_STAMP = ".reproduce.json"  # in the runs dir: which runs the last report was built from
# flags that describe a sweep; with an experiment file the file describes it
SWEEP_FLAGS = {"free_signals": "--free-signals", "proxy_query_cost": "--proxy-query-cost",
               "algorithm": "--algorithm", "dataset": "--dataset", "param": "--param",
               "label": "--label", "runs": "--runs", "budget": "--budget",
               "master_seed": "--master-seed", "fidelity": "--fidelity",
               "max_flops_fraction": "--max-flops-fraction", "protocol": "--protocol",
               "budget_seconds": "--budget-seconds"}


class DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` shows each option's default, except where there is none to show.

    A help text that already names its default (``"(default: all cores)"``) is left as is.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, [], argparse.SUPPRESS) \
                or "default" in (action.help or "").lower():
            return action.help
        return super()._get_help_string(action)


class DefaultsParser(argparse.ArgumentParser):
    """An ArgumentParser whose ``--help`` shows defaults (the sub-commands' parser class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DefaultsFormatter)
        super().__init__(*args, **kwargs)


class _Given(argparse.Action):
    """Store the value and remember that the flag was given (defaults stay visible in help)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, values)
        given = set(getattr(namespace, "given", set()))
        given.add(self.dest)
        namespace.given = given


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


def _time_budget(text: str) -> float | dict[str, float]:
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
    """``--protocol`` and ``--budget-seconds`` (run and reproduce)."""
    from nas_harness.benchmarks.protocol import PRESETS

    parser.add_argument(
        "--protocol", default=None, choices=sorted(PRESETS), metavar="NAME", action=_Given,
        help="a published protocol: " + "; ".join(
            f"{p.name} = {p.summary}".replace("%", "%%") for p in PRESETS.values())
        + " (explicit options override it; sources in nas_harness/benchmarks/protocol.py)")
    parser.add_argument(
        "--budget-seconds", type=_time_budget, default=None, metavar="S", action=_Given,
        help="budget in simulated seconds: each query is charged its hp=12 training plus "
             "evaluation time as NATS-Bench's simulate_train_eval does; a run ends when the "
             "next query would exceed S (needs hp=12 times: the official archive). S or "
             "cifar10=S1,cifar100=S2,ImageNet16-120=S3")


def _preset_fields(args: argparse.Namespace, spec_fields: dict[str, Any],
                   explicit: set[str]) -> dict[str, Any]:
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


def _check_table_for(args: argparse.Namespace, fidelity: str) -> None:
    """Refuse a synthetic table (unless allowed) or one without the protocol's hp=12 data."""
    import nas_harness.sweep
    from nas_harness.benchmarks.errors import ProtocolError

    table = nas_harness.sweep._default_table()  # the table the sweep will use
    prov = table.provenance
    if prov.synthetic and not getattr(args, "allow_synthetic", False):
        raise ProtocolError(
            f"the benchmark table is SYNTHETIC ({prov.builder}): its hp=12 numbers are "
            "generated noise, fit for tests only; build the real one (`nas-harness data build "
            "--from NATS-sss-v1_0-50262-simple.tar`) or pass --allow-synthetic")
    if fidelity == "12" and any("12" not in table[d].fidelities for d in table.names):
        what = f"--protocol {args.protocol}" if args.protocol else "hp=12"
        raise ProtocolError(
            f"{what} rewards queries with hp=12 validation accuracy, which this table "
            f"({prov.builder}) lacks: hp=12 results exist only in the official archive "
            "NATS-sss-v1_0-50262-simple.tar (~1 GB); build with `nas-harness data build --from "
            "NATS-sss-v1_0-50262-simple.tar` (docs/official-archive.md)")


def _names(values: list[str] | None) -> list[str]:
    """Repeated and comma-separated names, in order, without repeats."""
    out: list[str] = []
    for value in values or []:
        for name in value.split(","):
            if name.strip() and name.strip() not in out:
                out.append(name.strip())
    return out


def _add_execution_args(parser: argparse.ArgumentParser, out_help: str) -> None:
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="local worker processes (default: all cores, also the cap; 1 = "
                             "in this process, where a run that exits ends the sweep)")
    parser.add_argument("--scheduler", metavar="ADDR", default=None,
                        help="run on an existing Dask cluster, e.g. tcp://host:8786 "
                             "(results are gathered to --out)")
    parser.add_argument("--out", default=None, metavar="DIR", help=out_help)
    parser.add_argument("--force", action="store_true",
                        help="recompute runs that are already complete, and replace runs of "
                             "another configuration under the same label")
    parser.add_argument("--no-progress", action="store_true", help="no progress output")
    parser.add_argument("--run-timeout", type=_seconds, default=600.0, metavar="SECONDS",
                        help="stop a run after this long and record it as failed ('none' for "
                             "no limit)")


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
    run.add_argument("--runs", type=int, default=100, action=_Given,
                     help="runs per algorithm and dataset")
    run.add_argument("--budget", type=int, default=500, action=_Given, help="queries per run")
    run.add_argument("--param", "-p", action="append", default=None, metavar="K=V",
                     help="algorithm parameter (one algorithm only; repeatable)")
    run.add_argument("--label", default=None,
                     help="results directory name of the algorithm (default: its name), "
                          "to keep a parameter variant apart; a plain name (no '/' or '..')")
    run.add_argument("--plugin", action="append", default=[], metavar="FILE.py",
                     help="a Python file registering extra algorithms (repeatable)")
    run.add_argument("--master-seed", type=int, default=0, action=_Given,
                     help="entropy of every run's SeedSequence")
    run.add_argument("--fidelity", default="90", action=_Given, help="hp=90 or hp=12")
    run.add_argument("--max-flops-fraction", type=_fraction, default=0.5, action=_Given,
                     metavar="F", help="feasible: FLOPs <= F x the largest model's ('none': "
                                       "no constraint)")
    _add_protocol_args(run)
    run.add_argument("--free-signals", default=None, metavar="NAMES",
                     help="training-free proxies the algorithm may read, e.g. ntk,naswot "
                          "(recorded in each run's identity; see `nas-harness proxies list`)")
    run.add_argument("--proxy-query-cost", type=float, default=None, metavar="F",
                     help="each architecture's first proxy read costs F of a query "
                          "(default 0: free)")
    _add_execution_args(run, f"results root (default: {DEFAULT_OUT}, or the experiment's "
                             "output)")
    run.set_defaults(handler=_run)

    rep = subparsers.add_parser(
        "reproduce", help="the paper's experiment (experiments/paper.toml): its algorithms x 3 "
                          "datasets x 100 runs, then the figures and the report",
        formatter_class=DefaultsFormatter,
        description="Run experiments/paper.toml -- LayerNAS (the paper's and the harness's "
                    "stand-in variant), random search, regularized evolution, PPO and "
                    "REINFORCE, 100 runs of 500 queries each on CIFAR-10, "
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
    _add_protocol_args(rep)
    rep.add_argument("--allow-synthetic", action="store_true",
                     help="accept a table built from a SYNTHETIC archive (tests, timing only)")
    _add_execution_args(rep, "results root (default: the experiment's output, results/runs)")
    rep.set_defaults(handler=_reproduce)


def _split_params(items: list[str]) -> dict[str, str]:
    from nas_harness.algorithms.params import ParamError

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParamError(f"--param takes name=value, got {item!r}")
        out[key.strip().replace("-", "_")] = value
    return out


def _check_out(out: str | None) -> None:
    from nas_harness.benchmarks.errors import ProtocolError

    if out is not None and not out.strip():
        raise ProtocolError("--out is empty; name a results directory, e.g. --out "
                            "runs/my-sweep")


def _run(args: argparse.Namespace) -> int:
    from nas_harness.benchmarks.datasets import DATASET_NAMES
    from nas_harness.benchmarks.errors import ProtocolError
    from nas_harness.sweep import AlgorithmSpec, SweepSpec

    _check_out(args.out)
    if args.experiment:
        given = sorted(set(getattr(args, "given", set())) | {
            k for k in ("algorithm", "dataset", "param", "label", "free_signals")
            if getattr(args, k)} | ({"proxy_query_cost"} if args.proxy_query_cost is not None
                                   else set()))
        if given:
            flags = ", ".join(SWEEP_FLAGS[k] for k in given)
            raise ProtocolError(f"{flags}: the experiment file {args.experiment} describes "
                                "the sweep; edit the file (or drop it and use the flags)")
        from nas_harness.experiment_file import load_experiment

        experiment = load_experiment(args.experiment)
        out = args.out if args.out is not None else experiment.output
        code, _ = _execute(experiment.spec, args, out,
                           [*map(str, experiment.plugins), *args.plugin])
        if not code:
            print(f"report it with: nas-harness report {args.experiment}")
        return code
    if not args.algorithm or not args.dataset:
        raise ProtocolError("give an experiment file (nas-harness run FILE.toml) or "
                            "--algorithm and --dataset")
    algorithms = _names(args.algorithm)
    datasets = _names(args.dataset)
    if any(d.lower() == "all" for d in datasets):
        datasets = list(DATASET_NAMES)
    params = _split_params(args.param or [])
    if len(algorithms) > 1 and (params or args.label is not None):
        raise ProtocolError("--param and --label apply to one algorithm; run one "
                            "`nas-harness run` per parameter setting")
    if args.label is not None:
        from nas_harness.experiment import check_label

        check_label(args.label)
    specs = [AlgorithmSpec(name, tuple(params.items()), args.label or "")
             for name in algorithms]
    fields = _preset_fields(args, {"runs": args.runs, "budget": args.budget,
                                   "fidelity": args.fidelity,
                                   "max_flops_fraction": args.max_flops_fraction},
                            set(getattr(args, "given", set())))
    seconds = fields.pop("budget_seconds", None)
    options: dict[str, Any] = {} if seconds is None else {"budget_seconds": seconds}
    if args.free_signals:
        options["free_signals"] = args.free_signals
    if args.proxy_query_cost is not None:
        options["proxy_query_cost"] = args.proxy_query_cost
    spec = SweepSpec(algorithms=tuple(specs), datasets=tuple(datasets),
                     master_seed=args.master_seed, **fields,
                     protocol_options=tuple(options.items()))
    out = args.out if args.out is not None else DEFAULT_OUT
    return _execute(spec, args, out, plugins=args.plugin)[0]


def _execute(spec: Any, args: argparse.Namespace, out: str | Path,
             plugins: list[str]) -> tuple[int, Any]:
    from nas_harness.sweep import run_sweep

    result = run_sweep(spec, out, workers=args.workers, scheduler=args.scheduler,
                       force=args.force, progress=not args.no_progress, plugins=plugins,
                       run_timeout=args.run_timeout)
    print(result.describe(), file=sys.stderr if result.failures else sys.stdout)
    if result.failures:
        print(f"nas-harness: {len(result.failures)} of {result.total} runs failed; re-run the "
              "same command to retry them", file=sys.stderr)
        return 1, result
    return 0, result


def _reproduce(args: argparse.Namespace) -> int:
    import dataclasses
    import time

    from nas_harness.experiment_file import load_experiment, paper_experiment
    from nas_harness.progress import note

    _check_out(args.out)
    experiment = load_experiment(args.experiment) if args.experiment else paper_experiment()
    spec = experiment.spec
    if args.runs is not None or args.budget is not None:
        spec = dataclasses.replace(spec, runs=spec.runs if args.runs is None else args.runs,
                                   budget=spec.budget if args.budget is None else args.budget)
    spec = _apply_protocol(args, spec)
    runs_dir = Path(args.out) if args.out is not None else experiment.output
    code, result = _execute(spec, args, runs_dir, plugins=list(map(str, experiment.plugins)))
    if code or args.no_report:
        if code:
            print("nas-harness: the report is not built while runs are missing",
                  file=sys.stderr)
        return code
    report_dir = Path(args.report_dir) if args.report_dir is not None else experiment.report_dir
    stamp_path = runs_dir / REPRODUCE_STAMP
    selection: dict[str, Any] = {"algorithms": [a.label for a in spec.algorithms],
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
    built = build_report(runs_dir, report_dir, stamp=provenance_stamp(experiment.path),
                         **selection)
    note(f"report built in {time.perf_counter() - start:.1f} s", not args.no_progress)
    stamp_path.write_text(json.dumps(record, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    where = getattr(built, "path", None) or getattr(built, "report", None) or report_dir
    print(f"report: {where}")
    return 0


def _apply_protocol(args: argparse.Namespace, spec: Any) -> Any:
    """The experiment under ``--protocol``/``--budget-seconds``, after the table checks."""
    import dataclasses

    from nas_harness.benchmarks.protocol import get_preset
    from nas_harness.experiment import AlgorithmSpec

    fields = _preset_fields(args, {"runs": spec.runs, "budget": spec.budget,
                                   "fidelity": spec.fidelity,
                                   "max_flops_fraction": spec.max_flops_fraction},
                            {k for k in ("runs", "budget") if getattr(args, k) is not None})
    _check_table_for(args, str(fields["fidelity"]))
    seconds = fields.pop("budget_seconds", None)
    if seconds is not None:
        fields["protocol_options"] = {**dict(spec.protocol_options), "budget_seconds": seconds}
    if args.protocol:
        wanted = get_preset(args.protocol).algorithms
        if wanted and [a.name for a in spec.algorithms] != list(wanted):
            fields["algorithms"] = tuple(AlgorithmSpec(name) for name in wanted)
    return dataclasses.replace(spec, **fields)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
