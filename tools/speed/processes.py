"""Timing one command-line call as a whole process tree: wall and CPU seconds, peak memory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Command:
    """One command-line call: wall and CPU seconds, peak RSS of its largest process, output."""

    returncode: int
    wall_s: float
    peak_mb: float
    output: str
    cpu_s: float = float("nan")


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _family(root: int) -> dict[int, float]:
    """``pid -> CPU seconds`` of ``root`` and its descendants (Linux /proc)."""
    parent: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            parent[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK)
    family = {root}
    grew = True
    while grew:
        before = len(family)
        family |= {pid for pid, (ppid, _) in parent.items() if ppid in family}
        grew = len(family) > before
    return {pid: parent[pid][1] for pid in family if pid in parent}


def _peak_rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(hwm.group(1)) / 1024 if hwm else 0.0


def _watch(proc: subprocess.Popen[bytes], interval: float = 0.1) -> tuple[float, float]:
    """Peak RSS (MB, largest single process) and CPU seconds of ``proc`` and its descendants.

    Polls /proc while it runs, so the workers of a forkserver pool (children of the
    forkserver, never waited for by the command itself) are counted too; the last
    ``interval`` of a process's life may be missed.
    """
    cpu: dict[int, float] = {}
    peak: dict[int, float] = {}
    while proc.poll() is None:
        for pid, seconds in _family(proc.pid).items():
            cpu[pid] = seconds
            peak[pid] = max(peak.get(pid, 0.0), _peak_rss_mb(pid))
        time.sleep(interval)
    return max(peak.values(), default=float("nan")), sum(cpu.values())


def cli(*args: str) -> Command:
    """Run ``nas-harness ARGS`` in a fresh interpreter (start-up included) and measure it."""
    script = Path(sys.executable).with_name("nas-harness")   # the installed entry point
    cmd = [str(script), *args] if script.is_file() else [
        sys.executable, "-c", "import sys; from nas_harness.cli.main import main; "
        "sys.exit(main())", *args]
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        with subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT) as proc:
            if Path("/proc/self/stat").exists():
                peak, cpu = _watch(proc)
            else:  # pragma: no cover - not Linux
                proc.wait()
                peak = cpu = float("nan")
        wall = time.perf_counter() - start
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
    return Command(proc.returncode, wall, peak, output, cpu)


def startup_floor(repeats: int = 5) -> float:
    """Best wall seconds of a fresh interpreter that only imports numpy and pyarrow.parquet.

    Every command that reads the benchmark table pays at least this, whatever the harness
    does: the floor the start-up targets are read against.
    """
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import numpy, pyarrow.parquet"], check=True)
        best = min(best, time.perf_counter() - start)
    return best
