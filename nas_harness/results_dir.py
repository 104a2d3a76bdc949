"""One results directory: one writer at a time, one configuration per label.

A sweep holds the directory's lock (:data:`LOCK_NAME`) while it writes; each
``<out>/<dataset>/<label>`` holds runs of one configuration, so :func:`check_configurations`
refuses (or with ``force`` removes) runs of another configuration before anything runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nas_harness.benchmarks.errors import HarnessError, ProtocolError
from nas_harness.benchmarks.run_files import (
    STATUS_COMPLETE,
    configuration_key,
    configuration_of,
    describe_difference,
    read_run_directory,
    run_paths,
)
from nas_harness.plan import SweepPlan
from nas_harness.task import StorageError

LOCK_NAME = ".nas-harness.lock"

__all__ = [
    "LOCK_NAME",
    "ConfigurationConflict",
    "DirectoryBusy",
    "check_configurations",
    "check_out_dir",
    "lock_directory",
]


class ConfigurationConflict(HarnessError, ValueError):
    """The output directory holds complete runs of another configuration under a label."""


class DirectoryBusy(HarnessError, RuntimeError):
    """Another sweep holds the output directory's lock."""


def _run_files_in(directory: Path) -> list[tuple[Path, dict | None]]:
    """Every ``run-NNN.json`` of one ``<dataset>/<label>`` directory, with its record."""
    return [(run.paths.sidecar, run.record)
            for run in read_run_directory(directory, skip_damaged=True)]


def _remove_run(sidecar: Path) -> None:
    for path in (sidecar, sidecar.with_suffix(".parquet")):
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def check_configurations(plan: SweepPlan, out_dir: Path, *, force: bool = False,
                         seen: dict[Path, dict | None] | None = None) -> int:
    """Refuse (or with ``force`` remove) runs of another configuration where the plan writes.

    Each ``<out>/<dataset>/<label>`` directory holds runs of one configuration. Complete runs
    of another one raise :class:`ConfigurationConflict` naming both configurations and the
    way out; with ``force`` they are deleted (every run index, so none is left to mix). Failed
    runs of another configuration hold no result and are deleted either way. Returns how
    many runs were deleted. ``seen``, when given, receives every sidecar read (path ->
    record) that is still there afterwards, so the caller need not read it again.
    """
    checksum = plan.versions.get("table_checksum", "")
    wanted: dict[Path, dict] = {}
    planned: dict[Path, set[str]] = {}  # the plan's fingerprints per directory
    for task, fingerprint in zip(plan.tasks, plan.fingerprints, strict=True):
        directory = run_paths(out_dir, task.dataset, task.algorithm, 0).directory
        if directory not in wanted:
            wanted[directory] = task.configuration(checksum)
        planned.setdefault(directory, set()).add(fingerprint)
    conflicts: list[tuple[Path, dict, dict, list[Path]]] = []
    stale: list[Path] = []  # failed runs of another configuration: nothing to lose
    for directory, config in wanted.items():
        key = configuration_key(config)
        others: dict[str, tuple[dict, list[Path]]] = {}
        for sidecar, record in _run_files_in(directory):
            if seen is not None:
                seen[sidecar] = record
            if record is None:
                continue  # torn: redone (or ignored) like any incomplete run
            if record.get("fingerprint") in planned[directory]:
                continue  # a planned run's identity, so this configuration (no key needed)
            stored = configuration_of(record)
            if configuration_key(stored) == key:
                continue
            if record.get("status") != STATUS_COMPLETE:
                stale.append(sidecar)
                continue
            others.setdefault(configuration_key(stored), (stored, []))[1].append(sidecar)
        for stored, sidecars in others.values():
            conflicts.append((directory, stored, config, sidecars))
    if conflicts and not force:
        directory, stored, config, sidecars = conflicts[0]
        have, ask = describe_difference(stored, config)
        more = (f" (and {len(conflicts) - 1} more director"
                f"{'y' if len(conflicts) == 2 else 'ies'})" if len(conflicts) > 1 else "")
        raise ConfigurationConflict(
            f"{directory} holds {len(sidecars)} complete run(s) of another configuration "
            f"({have}) than this sweep ({ask}){more}; nothing was run. Use another --out or "
            "--label (in an experiment file: output or the algorithm's label) to keep both, "
            "or --force to replace them"
        )
    doomed = stale + [sidecar for *_, sidecars in conflicts for sidecar in sidecars]
    for sidecar in doomed:
        _remove_run(sidecar)
        if seen is not None:
            seen.pop(sidecar, None)
    return len(doomed)


def check_out_dir(out_dir: Path) -> None:
    """Refuse, before any work, an output directory that cannot hold runs (one line)."""
    import tempfile

    out = Path(out_dir)
    blocker = next((p for p in (out, *out.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise StorageError(f"--out {out} cannot be a directory: {blocker} is a file; "
                           "choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise StorageError(f"--out {out} is not writable ({exc.strerror or exc}); choose a "
                           "writable directory or fix its permissions") from None


def lock_directory(out: Path, timeout: float) -> Any:
    """The directory's lock, held for the whole sweep (fails with a clear line when taken)."""
    from filelock import FileLock, Timeout

    check_out_dir(out)  # a file in the way, or no write permission: one line, no work
    lock = FileLock(str(out / LOCK_NAME))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise DirectoryBusy(
            f"another sweep is writing to {out} (it holds {out / LOCK_NAME}); wait for it "
            "to finish, or use another --out"
        ) from None
    except OSError as exc:
        raise ProtocolError(f"cannot lock the results directory {out} "
                            f"({exc.strerror or exc}); choose another --out") from None
    return lock
