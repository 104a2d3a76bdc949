"""Time a full-size official-archive build: ``python -m tools.speed.bench_archive``.

Writes a SYNTHETIC archive of all 32,768 records in the official format
(:mod:`nas_harness.benchmarks.data.synthetic_archive`, as ``NATS-sss-SYNTHETIC-simple.tar``; kept
and
reused when it exists, since writing it is setup, not what is measured), then builds the
table from the ``.tar`` in a fresh process with ``--workers`` readers and prints the wall
time, records per second and peak memory (resident set of the building process and of its
largest worker). Needs the public table (``load_table()``) for the synthetic values.
Target: under 90 s with 2 workers on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

DEFAULT_DIR = Path("/tmp/nas-harness-archive-bench")
ARCHIVE_NAME = "NATS-sss-SYNTHETIC-simple.tar"


def _descendants(root: int) -> list[int]:
    """Every process below ``root`` (Linux /proc): the forkserver and the pool's workers."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [root]
    while todo:
        for kid in children.get(todo.pop(), []):
            out.append(kid)
            todo.append(kid)
    return out


class _Watch(threading.Thread):
    """Polls the descendants' resident memory and CPU time.

    The pool's workers are the forkserver's children, not ours, so ``RUSAGE_CHILDREN`` never
    sees them.
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.peak_rss_kib = 0
        self.cpu_ticks: dict[int, int] = {}

    def run(self) -> None:
        while not self.stop.wait(0.2):
            for pid in _descendants(os.getpid()):
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmRSS:"):
                        self.peak_rss_kib = max(self.peak_rss_kib, int(line.split()[1]))
                self.cpu_ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime


def _build(path: Path, workers: int) -> dict:
    """Build from ``path`` in this process; wall time, CPU time and peak memory (MiB)."""
    from nas_harness.benchmarks.data.build_official import build_from_official_archive

    watch = _Watch()
    watch.start()
    start = time.perf_counter()
    table = build_from_official_archive(path, workers=workers)
    wall = time.perf_counter() - start
    watch.stop.set()
    watch.join()
    me = resource.getrusage(resource.RUSAGE_SELF)
    ticks = os.sysconf("SC_CLK_TCK")
    return {"wall_s": wall, "records": int(table["cifar10"].available.sum()),
            "synthetic": table.provenance.synthetic, "workers": workers,
            "peak_rss_main_mib": me.ru_maxrss / 1024,
            "peak_rss_worker_mib": watch.peak_rss_kib / 1024,
            "cpu_main_s": me.ru_utime + me.ru_stime,
            "cpu_workers_s": sum(watch.cpu_ticks.values()) / ticks,
            "load_avg_1min": os.getloadavg()[0]}


def main(argv: Sequence[str] | None = None) -> int:
    """Generate (once) and build; print one line per quantity."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR,
                        help=f"where the synthetic archive is kept (default {DEFAULT_DIR})")
    parser.add_argument("--workers", type=int, default=2, help="reader processes (default 2)")
    parser.add_argument("--regenerate", action="store_true", help="rewrite the archive")
    parser.add_argument("--build-only", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build_only is not None:  # the measured child process
        print(json.dumps(_build(args.build_only, args.workers)))
        return 0

    archive = args.dir / ARCHIVE_NAME
    if args.regenerate or not archive.is_file():
        from nas_harness.benchmarks.data.synthetic_archive import write_archive

        args.dir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        tmp = args.dir / "partial" / ARCHIVE_NAME  # moved into place once complete
        write_archive(tmp, tar=True, workers=args.workers, progress=sys.stderr.isatty())
        tmp.replace(archive)
        print(f"generated {archive} in {time.perf_counter() - start:.1f} s")
    size = archive.stat().st_size / 2**20
    out = subprocess.run(
        [sys.executable, "-m", "tools.speed.bench_archive", "--build-only", str(archive),
         "--workers", str(args.workers)], check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"archive:            {archive} ({size:.0f} MiB, synthetic={result['synthetic']})")
    print(f"records:            {result['records']}")
    print(f"workers:            {result['workers']}")
    print(f"build wall time:    {result['wall_s']:.1f} s "
          f"({result['records'] / result['wall_s']:.0f} records/s)")
    print(f"peak RSS, builder:  {result['peak_rss_main_mib']:.0f} MiB")
    print(f"peak RSS, worker:   {result['peak_rss_worker_mib']:.0f} MiB (largest process "
          "below the builder)")
    print(f"CPU time:           builder {result['cpu_main_s']:.1f} s, workers "
          f"{result['cpu_workers_s']:.1f} s (sampled every 0.2 s); load average at the end "
          f"{result['load_avg_1min']:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
