"""``nas-harness tune``: the tuning protocol from the command line (see :mod:`nas_harness.tune`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

DEFAULT_TUNING_DIR = "results/tuning"


def add_commands(subparsers: Any) -> None:
    """Register ``tune``."""
    from nas_harness.tune import DEFAULT_CONFIGS, DEFAULT_RUNS, TUNING_MASTER_SEED

    parser = subparsers.add_parser(
        "tune", help="tune an algorithm's declared parameters under the common budget",
        description="Evaluate at most --configs settings of an algorithm (a --grid, or its "
                    "published presets and random settings from the declared ranges), each "
                    "over --runs runs per dataset, scored by the final incumbent's VALIDATION "
                    "accuracy averaged over runs and datasets (never test accuracy), with "
                    "tuning seeds disjoint from the reporting runs'. Writes the record of "
                    "every setting, its score and the choice.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--algorithm", "-a", required=True, metavar="NAME",
                        help="algorithm name or family:preset (see `nas-harness list`)")
    parser.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                        help="evaluate this grid instead of the declared ranges (repeatable)")
    parser.add_argument("--configs", type=int, default=DEFAULT_CONFIGS, metavar="N",
                        help="most settings evaluated (the common budget: keep it equal "
                             "across algorithms)")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, metavar="R",
                        help="runs per setting and dataset")
    parser.add_argument("--budget", type=int, default=500, metavar="Q",
                        help="queries per run")
    parser.add_argument("--dataset", "-d", action="append", default=None, metavar="NAME",
                        help="dataset(s) averaged over (default: all three)")
    parser.add_argument("--fidelity", default="90", help="hp=90 or 12")
    parser.add_argument("--max-flops-fraction", type=float, default=0.5, metavar="F",
                        help="feasible: FLOPs <= F x the largest model's")
    parser.add_argument("--master-seed", type=int, default=TUNING_MASTER_SEED,
                        help="the tuning runs' master seed (0, the reporting seed, is refused)")
    parser.add_argument("--score", choices=("accuracy", "hypervolume"), default="accuracy",
                        help="accuracy: the final incumbent's validation accuracy; hypervolume: "
                             "the normalised validation hypervolume at the budget (for "
                             "multi-objective searchers)")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="local worker processes (default: all cores)")
    parser.add_argument("--out", default=None, metavar="FILE",
                        help=f"the record (default: {DEFAULT_TUNING_DIR}/<algorithm>.json)")
    parser.add_argument("--keep-runs", default=None, metavar="DIR",
                        help="keep the tuning runs in DIR (default: a temporary directory)")
    parser.add_argument("--plugin", action="append", default=[], metavar="FILE.py",
                        help="a Python file registering extra algorithms (repeatable)")
    parser.add_argument("--no-progress", action="store_true", help="no progress output")
    parser.set_defaults(handler=_tune)


def _grid(items: list[str]) -> dict[str, list[str]]:
    from nas_harness.tune import TuningError

    grid: dict[str, list[str]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise TuningError(f"--grid takes name=v1,v2,...; got {item!r}")
        if key in grid:
            raise TuningError(f"--grid {key} is given twice; list all its values once")
        grid[key] = [v.strip() for v in values.split(",") if v.strip()]
    return grid


def _tune(args: argparse.Namespace) -> int:
    from nas_harness.algorithms.registry import load_plugin
    from nas_harness.benchmarks.datasets import DATASET_NAMES, get_dataset
    from nas_harness.tune import TuningBudget, tune

    for path in args.plugin:
        load_plugin(path)
    names: list[str] = []
    for value in args.dataset or ["all"]:
        for item in value.split(","):
            if item.strip().lower() == "all":
                names.extend(DATASET_NAMES)
            elif item.strip():
                names.append(get_dataset(item.strip()).name)
    datasets = tuple(dict.fromkeys(names))
    budget = TuningBudget(args.configs, args.runs, args.budget, datasets)
    result = tune(args.algorithm, budget=budget, grid=_grid(args.grid) or None,
                  fidelity=args.fidelity, max_flops_fraction=args.max_flops_fraction,
                  master_seed=args.master_seed, workers=args.workers,
                  runs_dir=args.keep_runs, progress=not args.no_progress, score=args.score)
    out = Path(args.out) if args.out else \
        Path(DEFAULT_TUNING_DIR) / f"{args.algorithm.replace(':', '_')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result.to_dict(), indent=1) + "\n", encoding="utf-8")
    print(result.describe())
    print(f"record: {out}")
    return 0
