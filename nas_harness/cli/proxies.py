"""``nas-harness proxies report | add | list``: training-free proxies on the size space.

* ``proxies report`` ranks every proxy (built-ins, stored scores, params and FLOPs as
  baselines) against validation and test accuracy: ``correlations.csv``, a Markdown table and
  one figure per dataset;
* ``proxies add NAME FILE`` validates scores computed elsewhere (CSV or Parquet, architecture
  -> score) and stores them in the cache with their sha256;
* ``proxies guided`` compares proxy-guided search with the plain algorithms;
* ``proxies compute synflow`` computes synflow here (torch and xautodl, resumable);
* ``proxies list`` shows every proxy, per dataset, and where its numbers come from.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path("results") / "proxies"


def add_commands(subparsers: Any) -> None:
    """Register ``proxies`` and its sub-commands."""
    proxies = subparsers.add_parser(
        "proxies", help="judge training-free proxies: correlation report, your own scores",
        description="Training-free proxies on the size space: how well each ranks, your own "
                    "scores, the list of what is there.")
    sub = proxies.add_subparsers(dest="proxies_command", metavar="ACTION")
    proxies.set_defaults(handler=lambda args: proxies.print_help() or 2)

    report = sub.add_parser(
        "report", help="rank correlations, top-k precision and figures per dataset",
        description="Kendall tau-b and Spearman rho (scipy) of each proxy against hp=90 "
                    "validation and test accuracy, over all architectures and the "
                    "FLOPs-feasible set (FLOPs <= 50%% of the largest), top-1%%/5%% "
                    "precision, mean test accuracy of the proxy's top k, bootstrap 95%% "
                    "intervals; params and FLOPs always as baselines.")
    report.add_argument("-d", "--dataset", action="append", default=None,
                        help="dataset (repeatable; default: all three)")
    report.add_argument("-p", "--proxy", action="append", default=None,
                        help="proxy (repeatable; default: every proxy with scores there)")
    report.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT,
                        help="output directory")
    report.add_argument("--on", default=None, metavar="PROXY",
                        help="only the architectures PROXY scores (e.g. a partial synflow), "
                             "so every proxy and baseline is judged on the same ones")
    report.add_argument("--resamples", type=int, default=None, metavar="N",
                        help="bootstrap resamples (0: no intervals; default: 100)")
    report.add_argument("--seed", type=int, default=None, help="bootstrap seed")
    report.add_argument("--no-progress", action="store_true", help="no progress bar")
    report.set_defaults(handler=_report)

    add = sub.add_parser(
        "add", help="store scores computed elsewhere (CSV/Parquet: arch -> score)",
        description="Validate and store a file of proxy scores. Columns: 'arch' (channel "
                    "string like 8:16:64:32:40) or 'index' (0..32767), 'score' (larger = "
                    "better), and optionally 'dataset'. Every architecture must be scored "
                    "unless --subset; NaN/inf only with --allow-missing; no duplicates.")
    add.add_argument("name", help="the proxy's name (lower-case identifier, e.g. zico)")
    add.add_argument("file", type=Path, help="a .csv or .parquet file")
    add.add_argument("-d", "--dataset", default=None,
                     help="the dataset a file without a 'dataset' column scores")
    add.add_argument("--subset", action="store_true",
                     help="the file scores a declared subset of the architectures")
    add.add_argument("--allow-missing", action="store_true",
                     help="NaN/inf scores are declared missing (stored as missing)")
    add.add_argument("--replace", action="store_true",
                     help="overwrite a stored proxy of the same name")
    add.set_defaults(handler=_add)

    guided = sub.add_parser(
        "guided", help="summarise a proxy-guided sweep (experiments/proxies.toml)",
        description="Each proxy-guided algorithm against its plain version and against the "
                    "same algorithm guided by params, per dataset and budget (50/100/200/500 "
                    "queries): Mann-Whitney U, Holm, A12, bootstrap intervals of the mean "
                    "incumbent test accuracy. Writes guided.csv and guided.md.")
    guided.add_argument("runs_dir", nargs="?", type=Path, default=DEFAULT_OUT / "runs",
                        help="the sweep's runs directory")
    guided.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT,
                        help="output directory")
    guided.set_defaults(handler=_guided)

    comp = sub.add_parser(
        "compute", help="compute synflow here (needs torch and xautodl)",
        description="Compute synflow (Tanaka et al. 2020) for each architecture with the "
                    "official size-space network (torch + xautodl), resumably (the same "
                    "command continues an interrupted run), and store it as the proxy "
                    "synflow. Architectures follow one fixed random order, so --limit N "
                    "covers the space evenly.")
    comp.add_argument("name", help="the proxy to compute (synflow)")
    comp.add_argument("-d", "--dataset", action="append", default=None,
                      help="dataset (repeatable; default: all three)")
    comp.add_argument("--limit", type=int, default=None, metavar="N",
                      help="only the first N architectures of the fixed order")
    comp.add_argument("--record", type=Path, default=None, metavar="FILE.csv",
                      help="also write the first N architectures' scores and the torch and "
                           "xautodl versions there (with --limit)")
    comp.add_argument("--workers", type=int, default=1, metavar="N",
                      help="processes computing architectures in parallel (one torch thread "
                           "each)")
    comp.add_argument("--scheduler", metavar="ADDR", default=None,
                      help="compute on this Dask cluster (its workers need nas-harness, "
                           "torch and xautodl) instead of local processes")
    comp.add_argument("--no-progress", action="store_true", help="no progress bar")
    comp.set_defaults(handler=_compute)

    listing = sub.add_parser("list", help="every proxy per dataset, with its provenance")
    listing.set_defaults(handler=_list)


def _report(args: argparse.Namespace) -> int:
    from nas_harness.analysis.metrics.proxies import N_BOOTSTRAP
    from nas_harness.benchmarks.data.store import load_table
    from nas_harness.benchmarks.datasets import DATASET_NAMES
    from nas_harness.benchmarks.errors import ProtocolError
    from nas_harness.cli.proxies_report import BOOTSTRAP_SEED, correlation_table, write_report

    resamples = N_BOOTSTRAP if args.resamples is None else args.resamples
    if resamples < 0:
        raise ProtocolError(f"--resamples must be 0 or more, got {resamples}")
    table = load_table()
    frame = correlation_table(
        table, args.dataset or DATASET_NAMES, args.proxy,
        seed=BOOTSTRAP_SEED if args.seed is None else args.seed, n_resamples=resamples,
        progress=not args.no_progress, on=args.on)
    for path in write_report(frame, table, args.out, on=args.on):
        print(path)
    return 0


def _guided(args: argparse.Namespace) -> int:
    from nas_harness.cli.proxies_guided import summarise

    for path in summarise(args.runs_dir, args.out):
        print(path)
    return 0


def _compute(args: argparse.Namespace) -> int:
    from nas_harness.benchmarks.datasets import DATASET_NAMES
    from nas_harness.benchmarks.errors import ProtocolError
    from nas_harness.cli.proxies_compute import compute, write_record

    if args.limit is not None and args.limit < 1:
        raise ProtocolError(f"--limit must be at least 1, got {args.limit}")
    if args.record is not None and args.limit is None:
        raise ProtocolError("--record writes the first N architectures: give --limit N")
    datasets = args.dataset or list(DATASET_NAMES)
    if args.workers < 1:
        raise ProtocolError(f"--workers must be at least 1, got {args.workers}")
    record, seconds = compute(args.name, datasets, args.limit, progress=not args.no_progress,
                              workers=args.workers, scheduler=args.scheduler)
    for ds, s in seconds.items():
        print(f"{ds}: {s:.3f} s per architecture, {s * 32768 / 3600:.1f} h for all 32,768")
    counts = ", ".join(f"{ds}: {n}" for ds, n in record.datasets.items())
    print(f"stored proxy {record.name} ({counts} architectures)")
    if args.record is not None:
        for path in write_record(args.record, datasets, args.limit):
            print(path)
    return 0


def _add(args: argparse.Namespace) -> int:
    from nas_harness.benchmarks.proxies.store import save_scores
    from nas_harness.benchmarks.proxies.user_scores import validate_scores

    scores = validate_scores(args.name, args.file, args.dataset, subset=args.subset,
                             allow_missing=args.allow_missing)
    record = save_scores(scores, args.file, replace=args.replace)
    counts = ", ".join(f"{ds}: {n}" for ds, n in record.datasets.items())
    print(f"stored proxy {record.name} ({counts} architectures) from {record.source} "
          f"(sha256 {record.source_sha256[:12]})")
    return 0


def _list(args: argparse.Namespace) -> int:
    print(format_list())
    return 0


def format_list(cache: str | Path | None = None) -> str:
    """What ``proxies list`` prints: built-ins per dataset, then stored proxies."""
    from nas_harness.benchmarks.proxies.columns import BUILTIN
    from nas_harness.benchmarks.proxies.store import list_stored

    lines = ["built-in:"]
    for name, spec in BUILTIN.items():
        lines.append(f"  {name:8s} {', '.join(spec.datasets)}")
        lines.append(f"           {spec.description}")
    stored = list_stored(cache)
    lines.append("stored (nas-harness proxies add):" if stored else
                 "stored: none (add scores with `nas-harness proxies add NAME FILE`)")
    for s in stored:
        counts = ", ".join(f"{ds} ({n})" for ds, n in s.datasets.items())
        flags = "".join([" subset" if s.subset else "", " missing-allowed"
                         if s.allow_missing else ""])
        lines.append(f"  {s.name:8s} {counts}{flags}")
        lines.append(f"           from {s.source} (sha256 {s.source_sha256}); stored file "
                     f"sha256 {s.sha256}")
    return "\n".join(lines)
