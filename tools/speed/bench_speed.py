"""Speed of the harness, measured in one run on one machine (a script, not a timed test).

(a) Accuracy queries per second through the harness's oracle against the official
    ``nats_bench`` API (``get_more_info(i, 'cifar10', hp='90', is_random=False)``) on the
    official sample archive, one query at a time over architectures 0, 11 and 284, as a ratio.
(b) Wall time of the whole ``reproduce`` sweep (the paper experiment's algorithms x 3 datasets x
    runs x budget) with 1 worker and with all cores, each into a fresh directory, plus a second
    call (which must do no work) and a check that both sweeps wrote the same bytes.

Usage::

    NAS_HARNESS_DATA=/path/to/natsbench_sss python -m tools.speed.bench_speed [--json FILE]

Targets on a 2-core machine: (a) at least 100x; (b) under 30 s with all workers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SAMPLE_INDICES = (0, 11, 284)
SAMPLE_SUBDIR = Path("official_nats_bench_sample") / "NATS-sss-v1_0-50262-simple"


@dataclass(frozen=True)
class QueryTiming:
    """Steady-state seconds per query (after one warm-up pass) and the cold first query."""

    queries: int
    seconds_per_query: float
    first_query_s: float

    @property
    def per_second(self) -> float:
        """Queries per second."""
        return 1.0 / self.seconds_per_query


def official_api_timing(archive: Path, queries: int) -> QueryTiming:
    """The official API on the sample archive: ``get_more_info(..., hp='90')`` per query."""
    from nats_bench import create

    api = create(str(archive), "sss", fast_mode=True, verbose=False)
    start = time.perf_counter()
    api.get_more_info(SAMPLE_INDICES[0], "cifar10", hp="90", is_random=False)
    first = time.perf_counter() - start
    for i in SAMPLE_INDICES:  # warm-up: every sample record loaded once
        api.get_more_info(i, "cifar10", hp="90", is_random=False)
    start = time.perf_counter()
    for q in range(queries):
        api.get_more_info(SAMPLE_INDICES[q % 3], "cifar10", hp="90", is_random=False)
    return QueryTiming(queries, (time.perf_counter() - start) / queries, first)


def harness_timing(queries: int, method: str = "query") -> QueryTiming:
    """The harness's oracle one query at a time, as the API is used.

    ``method`` is ``"query"`` (the scalar fast path the search loop uses for single
    proposals) or ``"evaluate"`` (the array API called with one index).
    """
    from nas_harness.benchmarks.data.store import clear_memo, load_table
    from nas_harness.benchmarks.oracle import Oracle
    from nas_harness.benchmarks.protocol import Protocol

    clear_memo()
    start = time.perf_counter()
    table = load_table()["cifar10"]
    oracle = Oracle(table, Protocol("cifar10", budget=queries + 3))
    oracle.evaluate(SAMPLE_INDICES[0])
    first = time.perf_counter() - start  # loading the table (from its cache) + one query
    oracle = Oracle(table, Protocol("cifar10", budget=queries + 1))
    ask = getattr(oracle, method)
    ask(SAMPLE_INDICES[0])  # warm-up: builds the per-process list columns of the fast path
    indices = [SAMPLE_INDICES[q % 3] for q in range(queries)]
    start = time.perf_counter()
    for i in indices:
        ask(i)
    return QueryTiming(queries, (time.perf_counter() - start) / queries, first)


def harness_batched_timing(queries: int, batch: int = 500) -> QueryTiming:
    """The oracle answering ``batch`` queries per call (how batch-proposing algorithms use it)."""
    import numpy as np

    from nas_harness.benchmarks.data.store import load_table
    from nas_harness.benchmarks.oracle import Oracle
    from nas_harness.benchmarks.protocol import Protocol

    table = load_table()["cifar10"]
    calls = max(1, queries // batch)
    indices = np.resize(np.asarray(SAMPLE_INDICES, dtype=np.int64), batch)
    oracle = Oracle(table, Protocol("cifar10", budget=calls * batch))
    start = time.perf_counter()
    for _ in range(calls):
        oracle.evaluate(indices)
    return QueryTiming(calls * batch, (time.perf_counter() - start) / (calls * batch), 0.0)


def sweep_seconds(out: Path, workers: int, runs: int, budget: int) -> tuple[float, Any]:
    """Wall time of the reproduce sweep into ``out`` with ``workers`` processes."""
    from nas_harness.sweep import reproduce_spec, run_sweep

    start = time.perf_counter()
    result = run_sweep(reproduce_spec(runs=runs, budget=budget), out, workers=workers,
                       force=True, progress=False)
    seconds = time.perf_counter() - start
    if not result.ok:
        raise SystemExit(f"the sweep had failures:\n{result.describe()}")
    return seconds, result


def differing_files(a: Path, b: Path) -> list[str]:
    """Files two sweeps wrote differently (Parquet bytes; sidecars with timing removed)."""
    from nas_harness.benchmarks.run_files import TIMING_FIELD

    def files(root: Path) -> dict[str, bytes]:
        out = {}
        for path in sorted(root.rglob("run-*")):
            data = path.read_bytes()
            if path.suffix == ".json":
                record = json.loads(data)
                record.pop(TIMING_FIELD, None)
                data = json.dumps(record, sort_keys=True).encode()
            out[str(path.relative_to(root))] = data
        return out

    fa, fb = files(a), files(b)
    return sorted(name for name in fa.keys() | fb.keys() if fa.get(name) != fb.get(name))


def main(argv: list[str] | None = None) -> int:
    """Measure and print (and optionally save) the numbers."""
    from nas_harness.benchmarks.data.paths import env_data_dir
    from nas_harness.sweep import default_workers

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=30_000, help="timed queries per side")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--budget", type=int, default=500)
    parser.add_argument("--workers", type=int, default=None,
                        help="the 'all workers' count (default: the cores available)")
    parser.add_argument("--archive", type=Path, default=None,
                        help="official sample archive (default: $NAS_HARNESS_DATA/"
                             f"{SAMPLE_SUBDIR})")
    parser.add_argument("--skip-sweep", action="store_true", help="only measure (a)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args(argv)

    data = env_data_dir()
    archive = args.archive or (data / SAMPLE_SUBDIR if data else None)
    if archive is None or not archive.is_dir():
        print("set NAS_HARNESS_DATA (or --archive) to find the official sample archive",
              file=sys.stderr)
        return 2
    report: dict[str, Any] = {
        "machine": {"cpus": default_workers(), "platform": platform.platform(),
                    "python": platform.python_version(),
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
    }
    official = official_api_timing(archive, args.queries)
    harness = harness_timing(args.queries)
    harness_array = harness_timing(args.queries, method="evaluate")
    batched = harness_batched_timing(args.queries)
    ratio = harness.per_second / official.per_second
    ratio_batched = batched.per_second / official.per_second
    report["queries"] = {
        "official_api": {**asdict(official), "per_second": official.per_second},
        "harness_oracle_single": {**asdict(harness), "per_second": harness.per_second},
        "harness_oracle_single_array_api": {**asdict(harness_array),
                                            "per_second": harness_array.per_second},
        "harness_oracle_batch500": {**asdict(batched), "per_second": batched.per_second},
        "ratio_single": ratio, "ratio_batch500": ratio_batched,
    }
    print(f"(a) official API {official.seconds_per_query * 1e6:.1f} us/query "
          f"({official.per_second:,.0f}/s); harness oracle, one query per call "
          f"{harness.seconds_per_query * 1e6:.2f} us ({harness.per_second:,.0f}/s): {ratio:.1f}x "
          f"(array API evaluate([i]): {harness_array.seconds_per_query * 1e6:.2f} us); "
          f"500 queries per call {batched.seconds_per_query * 1e9:.0f} ns "
          f"({batched.per_second:,.0f}/s): {ratio_batched:.0f}x")
    print(f"    cold start: API first query {official.first_query_s * 1e3:.0f} ms (3-arch "
          f"sample), harness table load + first query {harness.first_query_s * 1e3:.0f} ms "
          "(all 32,768 architectures)")

    if not args.skip_sweep:
        all_workers = args.workers or default_workers()
        sweeps: dict[str, Any] = {"runs": args.runs, "budget": args.budget}
        with tempfile.TemporaryDirectory(prefix="nas-harness-bench-") as tmp:
            dirs = {}
            for workers in dict.fromkeys((1, all_workers)):
                dirs[workers] = Path(tmp) / f"w{workers}"
                seconds, result = sweep_seconds(dirs[workers], workers, args.runs, args.budget)
                sweeps[f"workers_{workers}_s"] = seconds
                print(f"(b) reproduce sweep, {result.total} runs x {args.budget} queries, "
                      f"{workers} worker(s): {seconds:.1f} s")
            from nas_harness.sweep import reproduce_spec, run_sweep

            start = time.perf_counter()
            again = run_sweep(reproduce_spec(runs=args.runs, budget=args.budget),
                              dirs[all_workers], workers=all_workers, progress=False)
            sweeps["second_call_s"] = time.perf_counter() - start
            sweeps["second_call_runs_computed"] = len(again.outcomes)
            differ = differing_files(dirs[1], dirs[all_workers]) if len(dirs) == 2 else []
            sweeps["identical_files"] = not differ
            if differ:
                print(f"    {len(differ)} files differ, e.g. {differ[:3]}", file=sys.stderr)
        print(f"    second call: {sweeps['second_call_s']:.2f} s, "
              f"{sweeps['second_call_runs_computed']} runs computed; 1-worker and "
              f"{all_workers}-worker files identical: {sweeps['identical_files']}")
        report["sweep"] = sweeps
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
