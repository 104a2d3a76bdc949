"""The speed targets, measured side by side in one run (a script, never a test).

1. Every built-in algorithm within 3x of a plain reference loop of it
   (:mod:`tools.speed.plain`) over the same table and protocol: ``runs`` runs on
   CIFAR-10, harness and plain loop interleaved, best of ``repeats`` (CPU time, so the other
   processes on a shared machine count as little as possible). The harness side is what a
   run costs in a worker: seeds, oracle, algorithm, the ask/tell loop (the query log); the
   trajectory table and its Parquet bytes are printed apart as "per-run output".
2. The full ``nas-harness reproduce`` (sweep + report; the paper's algorithms x 3 datasets
   x ``runs`` x ``budget``) from the command line into a fresh directory: about 5 s wall on 2 cores.
3. The report alone (``nas-harness report``) on those runs: under 2 s.
4. Start-up: ``reproduce`` and ``run`` with nothing to do: under 0.3 s each.
5. Memory: the sweep's peak RSS (largest single process) flat in the number of runs
   (``runs / 5`` vs ``--big-runs`` per group), and the report at 6,000 runs under 1 GB
   (``--big-runs``, default 6,000 runs in all; skipped with ``--quick``).

Usage::

    NAS_HARNESS_DATA=/path/to/natsbench_sss python -m tools.speed.targets [--quick] \
        [--out results/speed/targets.md]

Prints one line per target: the measured value, the target, met or not; ``--out`` also writes
what it prints to a file (the documentation's performance page includes it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tools.speed.processes import cli, startup_floor

ALGORITHMS = ("random", "evolution", "reinforce", "ppo", "layernas", "layernas:stand-in")
RATIO_TARGET = 3.0
REPRODUCE_TARGET_S = 5.0
REPORT_TARGET_S = 2.0
STARTUP_TARGET_S = 0.3
REPORT_MEMORY_TARGET_MB = 1024.0
FLAT_TOLERANCE = 1.25   # "flat": peak RSS at 5x the runs at most 25% higher


@dataclass(frozen=True)
class Target:
    """One measured target."""

    name: str
    value: str
    goal: str
    met: bool | None      # None: not measured (skipped or failed)
    note: str = ""


def _cpu(fn: Callable[[], Any]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


# -- 1. harness vs plain loops -----------------------------------------------------------------

def algorithm_ratios(runs: int, budget: int, repeats: int,
                     algorithms: tuple[str, ...] = ALGORITHMS) -> list[dict[str, Any]]:
    """Per algorithm: CPU seconds of the harness's runs, their output, and the plain loop."""
    from nas_harness.algorithms.registry import parse_params, resolve_algorithm
    from nas_harness.algorithms.search_loop import run_search
    from nas_harness.benchmarks.data.store import load_table
    from nas_harness.benchmarks.oracle import Oracle
    from nas_harness.benchmarks.records import to_parquet_bytes
    from nas_harness.runner import RunTask, trajectory_table
    from tools.speed.plain import Problem, plain_loop

    table = load_table()["cifar10"]
    rows = []
    for name in algorithms:
        cls, preset = resolve_algorithm(name)
        params = parse_params(cls, preset)
        tasks = [RunTask(name.replace(":", "-"), name, (), "cifar10", run, budget)
                 for run in range(runs)]
        problem = Problem(table.flops, table.valid_acc,
                          tasks[0].protocol.max_flops(table), budget)
        plain = plain_loop(name.partition(":")[0], params)
        logs: list[Any] = []

        def harness(tasks: list[Any] = tasks, cls: Any = cls, params: Any = params,
                    logs: list[Any] = logs) -> None:
            logs.clear()
            for task in tasks:
                seeds = task.seeds
                oracle = Oracle(table, task.protocol, rng=seeds.oracle_rng())
                logs.append(run_search(cls(oracle.context, seeds.algorithm_rng(), params),
                                       oracle))

        def output(tasks: list[Any] = tasks, logs: list[Any] = logs) -> None:
            for task, log in zip(tasks, logs, strict=True):
                to_parquet_bytes(trajectory_table(task, table, log.index, log.valid_acc,
                                                  log.feasible, log.duplicate))

        def reference(plain: Any = plain, problem: Any = problem) -> None:
            for run in range(runs):
                plain(problem, np.random.default_rng(run))

        best = {"harness": np.inf, "output": np.inf, "plain": np.inf}
        for _ in range(repeats):   # interleaved, so a load change hits both sides alike
            best["harness"] = min(best["harness"], _cpu(harness))
            best["output"] = min(best["output"], _cpu(output))
            best["plain"] = min(best["plain"], _cpu(reference))
        queries = sum(len(log.index) for log in logs)
        rows.append({"algorithm": name, "runs": runs, "queries": queries, **best,
                     "ratio": best["harness"] / best["plain"]})
    return rows


# -- 2-5. the command line (tools.speed.processes times one call) ------------------------------

def _sweep_seconds(output: str) -> float:
    match = re.search(r" in ([0-9.]+) s", output)
    return float(match.group(1)) if match else float("nan")


def command_line_targets(runs: int, budget: int, big_runs: int | None,
                         workdir: Path, search_cpu_s: tuple[float, float] | None = None
                         ) -> list[Target]:
    """Targets 2-5, each from fresh ``nas-harness`` processes.

    ``search_cpu_s``: CPU seconds of the paper's algorithms' searches on one dataset (target
    1), as (harness, plain loops); the smaller, times the datasets over the cores, is the
    least wall time these searches take, the floor the reproduce target is read against.
    """
    out: list[Target] = []
    runs_dir, rep_dir = workdir / "runs", workdir / "rep"
    full = cli("reproduce", "--runs", str(runs), "--budget", str(budget), "--out", str(runs_dir),
               "--report-dir", str(rep_dir), "--no-progress")
    if full.returncode:
        return [Target("full reproduce", "failed", f"~{REPRODUCE_TARGET_S:.0f} s", None,
                       full.output.strip()[-300:])]
    sweep_s = _sweep_seconds(full.output)
    from nas_harness.benchmarks.datasets import DATASET_NAMES
    from nas_harness.executors import default_workers
    from nas_harness.experiment import PAPER_ALGORITHMS

    floor = ""
    if search_cpu_s is not None:
        harness_s, plain_s = (x * len(DATASET_NAMES) for x in search_cpu_s)
        least = min(harness_s, plain_s)
        floor = (f"; floor: the searches alone take {harness_s:.1f} CPU s in the harness "
                 f"({plain_s:.1f} as plain loops), i.e. at least "
                 f"{least / default_workers():.1f} s wall on {default_workers()} cores")
    out.append(Target("full reproduce (sweep + report)", f"{full.wall_s:.1f} s wall",
                      f"about {REPRODUCE_TARGET_S:.0f} s", full.wall_s <= REPRODUCE_TARGET_S * 1.2,
                      f"sweep {sweep_s:.1f} s, report + start-up "
                      f"{full.wall_s - sweep_s:.1f} s; {full.cpu_s:.1f} CPU s in all{floor}"))
    report = cli("report", "--runs-dir", str(runs_dir), "--out", str(workdir / "rep2"))
    groups = len(PAPER_ALGORITHMS) * len(DATASET_NAMES)
    n_runs = groups * runs
    stages = report_breakdown(runs_dir, workdir / "rep3")
    figures = stages.pop("figures", float("nan"))
    split = ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
    out.append(Target(f"report alone, {n_runs} runs", f"{report.wall_s:.1f} s wall",
                      f"< {REPORT_TARGET_S:.0f} s", report.wall_s < REPORT_TARGET_S,
                      f"{report.cpu_s:.1f} CPU s; peak RSS {report.peak_mb:.0f} MB; CPU s by "
                      f"stage: {split}; of which the six figures (PNG + PDF) {figures:.1f}"))
    floor_s = startup_floor()
    for name, args in (
        ("start-up: reproduce, nothing to do",
         ("reproduce", "--runs", str(runs), "--budget", str(budget), "--out", str(runs_dir),
          "--report-dir", str(rep_dir), "--no-progress")),
        ("start-up: run, nothing to do",
         ("run", "-a", "random", "-d", "cifar10", "--runs", str(runs), "--budget", str(budget),
          "--out", str(runs_dir), "--no-progress")),
    ):
        again = cli(*args)
        out.append(Target(name, f"{again.wall_s:.2f} s wall", f"< {STARTUP_TARGET_S} s",
                          again.wall_s < STARTUP_TARGET_S and not again.returncode,
                          f"{again.cpu_s:.2f} CPU s; floor: {floor_s:.2f} s wall"))
    small_runs = max(1, runs // 5)
    small = cli("reproduce", "--no-report", "--runs", str(small_runs), "--budget", str(budget),
                "--out", str(workdir / "small"), "--no-progress")
    large_runs = big_runs or runs
    large = cli("reproduce", "--no-report", "--runs", str(large_runs), "--budget", str(budget),
                "--out", str(workdir / "large"), "--no-progress")
    growth = large.peak_mb / small.peak_mb
    out.append(Target("sweep memory flat in runs",
                      f"{small.peak_mb:.0f} MB at {groups * small_runs} runs, "
                      f"{large.peak_mb:.0f} MB at {groups * large_runs} (x{growth:.2f})",
                      f"<= x{FLAT_TOLERANCE}",
                      growth <= FLAT_TOLERANCE,
                      f"peak RSS of the largest process, sweep only ({large.wall_s:.0f} s, "
                      f"{large.cpu_s:.0f} CPU s at {groups * large_runs} runs)"))
    if big_runs:
        big = cli("report", "--runs-dir", str(workdir / "large"), "--out", str(workdir / "big-rep"))
        ok = None if large.returncode or big.returncode else big.peak_mb < REPORT_MEMORY_TARGET_MB
        out.append(Target(f"report memory, {groups * big_runs} runs",
                          f"{big.peak_mb:.0f} MB peak RSS",
                          f"< {REPORT_MEMORY_TARGET_MB:.0f} MB", ok,
                          f"report {big.wall_s:.1f} s wall, {big.cpu_s:.1f} CPU s"))
    return out


def report_breakdown(runs_dir: Path, out_dir: Path) -> dict[str, float]:
    """CPU seconds of the report's stages, in one fresh process: where its time goes.

    ``import`` is the report's modules (pandas, scipy, statsmodels, matplotlib); ``figures``
    is drawing and saving the six figures (PNG and PDF) alone, measured by drawing them once
    more after the whole report is written.
    """
    code = f"""
import json, tempfile, time
from pathlib import Path
t = time.process_time(); cpu = {{}}
from nas_harness.analysis import report as R
from nas_harness.benchmarks.data.store import load_table
cpu['import'] = time.process_time() - t; t = time.process_time()
table = load_table()
res = R.load_results({str(runs_dir)!r}, table_checksum=table.provenance.checksum,
                     columns=R.REPORT_COLUMNS)
cpu['read runs'] = time.process_time() - t; t = time.process_time()
a = R.analyse(res, table)
cpu['statistics'] = time.process_time() - t; t = time.process_time()
R.write_report(a, table, {str(out_dir)!r})
cpu['figures, tables, pages'] = time.process_time() - t
with tempfile.TemporaryDirectory() as tmp:
    t = time.process_time()
    R.write_figures(a, table, Path(tmp))
    cpu['figures'] = time.process_time() - t
print(json.dumps(cpu))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        return {}
    return {k: float(v) for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


# -- printing ----------------------------------------------------------------------------------

def _mark(met: bool | None) -> str:
    return {True: "met", False: "NOT met", None: "not measured"}[met]


def ratio_table(rows: list[dict[str, Any]]) -> str:
    """The harness/plain table, Markdown."""
    lines = ["| algorithm | harness (search) | per-run output | plain loop | harness / plain "
             "| target |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        per_query = 1e6 / r["queries"]
        lines.append(
            f"| {r['algorithm']} | {r['harness']:.3f} s ({r['harness'] * per_query:.1f} us/q) "
            f"| {r['output']:.3f} s ({r['output'] / r['runs'] * 1e3:.2f} ms/run) "
            f"| {r['plain']:.3f} s | {r['ratio']:.2f}x "
            f"| <= {RATIO_TARGET:.0f}x {_mark(r['ratio'] <= RATIO_TARGET)} |")
    return "\n".join(lines)


def target_table(targets: list[Target]) -> str:
    """The other targets, Markdown."""
    lines = ["| target | measured | goal | status | notes |", "|---|---|---|---|---|"]
    lines += [f"| {t.name} | {t.value} | {t.goal} | {_mark(t.met)} | {t.note} |"
              for t in targets]
    return "\n".join(lines)


def machine_line() -> str:
    """Machine and load, for the record."""
    from nas_harness.executors import default_workers

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{platform.processor() or platform.machine()}, {default_workers()} cores usable, "
            f"Python {platform.python_version()}, numpy {np.__version__}; "
            f"load average {load}")


def main(argv: list[str] | None = None) -> int:
    """Measure and print every target."""
    from nas_harness.benchmarks.data.paths import env_data_dir

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100, help="runs per algorithm and dataset")
    parser.add_argument("--budget", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3, help="best of N for the ratios")
    parser.add_argument("--big-runs", type=int, default=None,
                        help="runs per group of the report-memory sweep (default: 6,000 runs "
                             "in all)")
    parser.add_argument("--quick", action="store_true",
                        help="skip the 6,000-run sweep behind the report-memory target")
    parser.add_argument("--only-ratios", action="store_true",
                        help="only the harness/plain ratios (no command-line targets)")
    parser.add_argument("--out", default=None, metavar="FILE",
                        help="also write the output to FILE (Markdown), replaced at the end")
    args = parser.parse_args(argv)
    if env_data_dir() is None:
        print("set NAS_HARNESS_DATA to the benchmark data directory", file=sys.stderr)
        return 2
    from tools.speed.tee import tee

    with tee(args.out):
        _measure(args)
    return 0


def _measure(args: argparse.Namespace) -> None:
    """Measure every target asked for and print it."""
    print(f"machine: {machine_line()}")
    from nas_harness.benchmarks.datasets import DATASET_NAMES
    from nas_harness.experiment import PAPER_ALGORITHMS

    big_runs = args.big_runs or -(-6000 // (len(PAPER_ALGORITHMS) * len(DATASET_NAMES)))
    rows = algorithm_ratios(args.runs, args.budget, args.repeats)
    print(f"\nharness vs plain loop, {args.runs} runs x {args.budget} queries on cifar10, "
          f"CPU seconds, best of {args.repeats}:\n")
    print(ratio_table(rows))
    if not args.only_ratios:
        with tempfile.TemporaryDirectory(prefix="nas-harness-targets-") as tmp:
            paper = [r for r in rows if r["algorithm"] in PAPER_ALGORITHMS]
            searches = (sum(r["harness"] for r in paper), sum(r["plain"] for r in paper))
            targets = command_line_targets(args.runs, args.budget,
                                           None if args.quick else big_runs, Path(tmp),
                                           search_cpu_s=searches)
        print(f"\ncommand line (fresh processes, all cores), {args.runs} runs x "
              f"{args.budget} queries per group:\n")
        print(target_table(targets))
    print(f"\nload average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    sys.exit(main())
