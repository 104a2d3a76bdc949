"""``nas-harness front``: the exact Pareto front of one dataset, as CSV."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path
from typing import Any


def add_commands(subparsers: Any) -> None:
    """Register ``front`` on the ``nas-harness`` sub-command parser."""
    parser = subparsers.add_parser(
        "front",
        help="write the exact Pareto front (cost down, accuracy up) of a dataset",
        description="Write the non-dominated set over all 32,768 architectures of DATASET: "
                    "columns arch,<cost>,accuracy, sorted by cost (FLOPs in millions or the "
                    "parameter count; hp=90 accuracy in %%). Of architectures with identical "
                    "cost and accuracy, the one with the lowest index is kept. The front holds "
                    "per-architecture accuracies: derived data, not for committing.",
    )
    parser.add_argument("-d", "--dataset", required=True,
                        help="cifar10, cifar100 or ImageNet16-120 (aliases accepted)")
    parser.add_argument("--split", default="test",
                        help="accuracy: valid (what a search sees) or test (what is reported)")
    parser.add_argument("--cost", default="flops", help="cost axis: flops or params")
    parser.add_argument("--out", default=None, metavar="FILE.csv",
                        help="write here (atomically) instead of standard output")
    parser.set_defaults(handler=_front)
    runner = subparsers.add_parser(
        "fronts",
        help="run a Pareto-front experiment (one search / split / separate) and its results",
        description="Run every sweep of a fronts experiment file (experiments/fronts.toml): "
                    "one search of Q queries under the loosest FLOPs fraction, one search per "
                    "fraction with Q/m queries (split) and with Q queries (separate); complete "
                    "runs are skipped. Then write the results directory: hv.csv, budgets.csv, "
                    "the tests, figures and summary.md.",
    )
    runner.add_argument("experiment", metavar="FILE.toml")
    runner.add_argument("--workers", type=int, default=None,
                        help="local worker processes (default: all cores)")
    runner.add_argument("--analyse-only", action="store_true",
                        help="only rebuild the results from the runs already there")
    runner.add_argument("--no-progress", action="store_true", help="no progress output")
    runner.add_argument("--check", action="store_true",
                        help="after the runs, compare every run's final normalised HV with "
                             "the baseline (hv_baseline.json in the results directory); exit "
                             "1 on a regression")
    runner.add_argument("--bless", action="store_true",
                        help="after the runs, write that baseline from them")
    runner.add_argument("--tolerance", type=float, default=None,
                        help="smallest drop of mean normalised HV that fails --check "
                             "(default 0.005)")
    runner.set_defaults(handler=_fronts)


def front_csv(rows: list[tuple[str, float, float]], cost: str) -> str:
    """The CSV text of a front: header ``arch,<cost>,accuracy``, one row per point."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["arch", cost, "accuracy"])
    for arch, value, acc in rows:
        writer.writerow([arch, int(value) if cost == "params" else repr(float(value)),
                         repr(float(acc))])
    return buffer.getvalue()


def _front(args: argparse.Namespace) -> int:
    from nas_harness.benchmarks.data.store import load_table
    from nas_harness.benchmarks.errors import ProtocolError
    from nas_harness.benchmarks.fronts import check_cost, check_split, exact_front

    cost, split = check_cost(args.cost), check_split(args.split)
    out = None
    if args.out is not None:
        out = Path(args.out)
        if not args.out.strip() or out.is_dir():
            raise ProtocolError(f"--out {args.out!r} is not a file name; name a CSV file, "
                                "e.g. --out front.csv")
        if not out.parent.is_dir():
            raise ProtocolError(f"the folder {str(out.parent)!r} of --out does not exist; "
                                "create it first")
    table = load_table()[args.dataset]
    text = front_csv(exact_front(table, split=split, cost=cost).rows(), cost)
    if out is None:
        sys.stdout.write(text)
    else:
        from nas_harness.benchmarks.atomic import replace_atomically

        replace_atomically(out, lambda tmp: tmp.write_text(text, encoding="utf-8", newline=""))
        print(f"front: {out} ({text.count(chr(10)) - 1} architectures)", file=sys.stderr)
    return 0


def _fronts(args: argparse.Namespace) -> int:
    from nas_harness.fronts import load_fronts, run_fronts

    experiment = load_fronts(args.experiment)
    written = run_fronts(experiment, workers=args.workers, progress=not args.no_progress,
                         analyse_only=args.analyse_only)
    for path in written:
        print(path)
    if args.check or args.bless:
        return _gate(experiment, args)
    return 0


def _gate(experiment: Any, args: argparse.Namespace) -> int:
    from nas_harness import fronts_gate
    from nas_harness.benchmarks.data.store import load_table

    spec = experiment.base.spec
    path = experiment.base.report_dir / fronts_gate.HV_BASELINE
    values = fronts_gate.final_hv(experiment.mode_runs().one, load_table(), spec.budget,
                                  experiment.cost)
    if args.bless:
        written = fronts_gate.bless(values, path, budget=spec.budget, cost=experiment.cost)
        print(f"HV baseline: {written}")
        return 0
    tolerance = (fronts_gate.DEFAULT_HV_TOLERANCE if args.tolerance is None
                 else args.tolerance)
    verdicts = fronts_gate.check(values, fronts_gate.read_baseline(path), tolerance)
    print(verdicts.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    bad = verdicts["verdict"].isin(["REGRESSED", "MISSING"])
    return 1 if bad.any() else 0
