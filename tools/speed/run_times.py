"""Wall time of every run of a finished sweep, per algorithm, from the runs' sidecars (a script).

Where ``tools.speed.adapters`` times a few runs on purpose, this reads what a whole
sweep measured: each complete run's sidecar records its wall time (``timing.wall_s``, the only
field of a sidecar that is not deterministic). Per algorithm label it prints the number of
runs, the fastest, median and slowest run, the median milliseconds per charged query, and
the label's total in CPU hours (one worker per run, so wall time of a run is its CPU time
when the machine had a core per worker). The median is the number to quote: one slow run
(a machine busy with other work) moves the total and the maximum, not it.

Usage::

    python -m tools.speed.run_times results/libraries/runs [--dataset cifar10]
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nas_harness.benchmarks.run_files import read_runs


@dataclass(frozen=True)
class LabelTimes:
    """The wall times (seconds) of one algorithm label's complete runs, and queries per run."""

    label: str
    seconds: tuple[float, ...]
    queries: tuple[int, ...]

    @property
    def median_ms_per_query(self) -> float:
        """Median over runs of the run's wall time per charged query, in milliseconds."""
        return statistics.median(1e3 * s / max(q, 1) for s, q in
                                 zip(self.seconds, self.queries, strict=True))


def collect(runs_dir: Path | str, datasets: Iterable[str] | None = None) -> list[LabelTimes]:
    """Per label (sorted), the wall times of its complete runs on ``datasets`` (default: all)."""
    wanted = set(datasets) if datasets is not None else None
    seconds: dict[str, list[float]] = defaultdict(list)
    queries: dict[str, list[int]] = defaultdict(list)
    for run in read_runs(runs_dir):
        record = run.record
        if record is None or not run.complete:
            continue
        if wanted is not None and record.get("dataset") not in wanted:
            continue
        wall = (record.get("timing") or {}).get("wall_s")
        if wall is None:
            continue
        label = str(record["algorithm"])
        seconds[label].append(float(wall))
        queries[label].append(int((record.get("result") or {}).get("queries", 0)))
    return [LabelTimes(label, tuple(seconds[label]), tuple(queries[label]))
            for label in sorted(seconds)]


def markdown(rows: list[LabelTimes]) -> str:
    """The Markdown table of the run times, one row per label."""
    lines = ["| algorithm | runs | fastest run | median run | slowest run | median ms per query "
             "| total CPU h |", "|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| `{row.label}` | {len(row.seconds)} | {min(row.seconds):.3g} s | "
                     f"{statistics.median(row.seconds):.3g} s | {max(row.seconds):.3g} s | "
                     f"{row.median_ms_per_query:.3g} | {sum(row.seconds) / 3600:.2f} |")
    total = sum(sum(row.seconds) for row in rows) / 3600
    lines.append(f"\nAll labels: {sum(len(r.seconds) for r in rows)} runs, {total:.2f} CPU h.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the per-label timing table of a sweep directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs_dir", help="a sweep's output directory")
    parser.add_argument("--dataset", action="append", default=None,
                        help="only this dataset (repeatable; default: all)")
    args = parser.parse_args(argv)
    rows = collect(args.runs_dir, args.dataset)
    if not rows:
        print(f"no complete runs with timings under {args.runs_dir}")
        return 1
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
