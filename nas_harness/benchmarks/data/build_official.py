"""Build the benchmark table from an official NATS-Bench SSS archive (directory or ``.tar``).

The official archive (``NATS-sss-v1_0-50262-simple``: ``meta.pickle.pbz2`` plus one
``NNNNNN.pickle.pbz2`` per architecture, distributed as ``NATS-sss-v1_0-50262-simple.tar``) is
the only source of hp=12 results, latency and training times. The records are read directly
by :mod:`nas_harness.benchmarks.data.archive_reader` (bz2 pickles, in parallel, a tar read in
place); the
values are those of the ``nats_bench`` API, computed its way (the reader's docstring lists
each column's API call; a test checks equality on the official sample):

* ``valid_acc``/``test_acc``: hp=90 validation (``cifar10-valid`` for CIFAR-10) and test
  accuracy, seed 777;
* ``params``/``flops``: hp=90 cost info (params in M -> integer count); every record's FLOPs
  and params are checked against the exact cost model (:mod:`nas_harness.benchmarks.cost_model`)
  while
  building, a free check at full scale;
* ``latency``: hp=12 mean latency (NaN where the archive has none);
* ``hp12_valid_acc[:, k]``: hp=12 validation accuracy of seed 777/888/999, NaN where a seed
  did not run (the oracle draws only among the seeds present);
* ``hp12_time[:, k]``: what ``simulate_train_eval(..., hp='12')`` charges when it draws seed
  k: that trial's total training time plus its per-epoch validation time;
* ``hp12_train_time``/``hp12_eval_time``: seed 777's ``T-train@total``/``T-x-valid@total``.

A full archive covers all 32,768 architectures; anything less is refused unless the caller
asks for a partial table, whose missing rows hold NaN / -1 and ``available=False``. A
single-file archive (``NATS-sss-v1_0-50262.pickle.pbz2``) is read in-process. An archive
written by :mod:`nas_harness.benchmarks.data.synthetic_archive` gives a table marked synthetic.
"""

from __future__ import annotations

import bz2
import hashlib
import os
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from nas_harness.benchmarks.cost_model import dataset_costs
from nas_harness.benchmarks.data import archive_reader as reader
from nas_harness.benchmarks.data.archive_reader import FIELD, META_NAME, RECORD_RE, is_tar
from nas_harness.benchmarks.data.build_public import check_order
from nas_harness.benchmarks.data.sources import sha256_of
from nas_harness.benchmarks.errors import DataIntegrityError, DataNotFoundError
from nas_harness.benchmarks.space import SSS, SearchSpace
from nas_harness.benchmarks.table import HP12_SEEDS, BenchmarkTable, DatasetTable, TableProvenance

BUILDER = "official-archive"
SYNTHETIC_BUILDER = "synthetic-archive"
MAX_LISTED_SOURCES = 64
"""Above this many record files, provenance keeps one digest of all their hashes."""
FLOPS_ATOL = 1e-6
"""Tolerance (MFLOPs) of the cost-model check: the archive stores FLOPs/1e6 as a float."""

__all__ = [
    "BUILDER",
    "META_NAME",
    "RECORD_RE",
    "SYNTHETIC_BUILDER",
    "build_from_official_archive",
    "default_workers",
    "is_official_archive",
    "record_files",
]


def default_workers() -> int:
    """The CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def is_official_archive(path: str | Path) -> bool:
    """Whether ``path`` is an archive directory, an archive ``.tar`` or a single-file archive."""
    p = Path(path)
    return (p.is_dir() and (p / META_NAME).is_file()) or is_tar(p) or (
        p.is_file() and p.name.endswith(".pickle.pbz2") and not RECORD_RE.match(p.name)
    )


def record_files(archive_dir: Path) -> dict[int, Path]:
    """``{index: path}`` of the per-architecture record files of an archive directory."""
    return {i: Path(ref.path) for i, ref in reader.open_archive(archive_dir).refs.items()}


def _sources(archive: Path, digests: dict[str, str]) -> dict[str, str]:
    if archive.is_file():
        return {archive.name: sha256_of(archive)}
    sources = {META_NAME: sha256_of(archive / META_NAME)}
    hashes = dict(sorted(digests.items()))
    if len(hashes) <= MAX_LISTED_SOURCES:
        return sources | hashes
    digest = hashlib.sha256("".join(f"{k} {v}\n" for k, v in hashes.items()).encode())
    return sources | {f"records[{len(hashes)}] (sha256 of 'name sha256' lines)": digest.hexdigest()}


class _Columns:
    """The dense columns of every dataset, filled chunk by chunk as records stream in."""

    def __init__(self, n: int) -> None:
        self.values = np.full((len(reader.DATASET_ORDER), n, len(reader.FIELDS)), np.nan)
        self.available = np.zeros(n, dtype=bool)
        self.digests: dict[str, str] = {}

    def fill(self, indices: np.ndarray, values: np.ndarray, names: Iterable[str],
             digests: Iterable[str]) -> None:
        self.values[:, indices, :] = values.transpose(1, 0, 2)
        self.available[indices] = True
        self.digests.update(zip(names, digests, strict=True))

    def tables(self) -> dict[str, DatasetTable]:
        out = {}
        have = self.available
        for d, name in enumerate(reader.DATASET_ORDER):
            v = self.values[d]
            params = np.full(len(have), -1, dtype=np.int64)
            params[have] = np.rint(v[have, FIELD["params_m"]] * 1e6).astype(np.int64)
            seeds = slice(FIELD["acc777"], FIELD["acc777"] + len(HP12_SEEDS))
            times = slice(FIELD["time777"], FIELD["time777"] + len(HP12_SEEDS))
            out[name] = DatasetTable(
                dataset=name, valid_acc=v[:, FIELD["valid"]].copy(),
                test_acc=v[:, FIELD["test"]].copy(), params=params,
                flops=v[:, FIELD["flops"]].copy(), available=have.copy(),
                hp12_valid_acc=v[:, seeds].copy(), hp12_train_time=v[:, FIELD["train777"]].copy(),
                hp12_eval_time=v[:, FIELD["eval777"]].copy(), latency=v[:, FIELD["latency"]].copy(),
                hp12_time=v[:, times].copy())
        return out


def check_costs(tables: dict[str, DatasetTable], space: SearchSpace = SSS,
                where: str = "the archive") -> None:
    """Refuse records whose FLOPs or params disagree with the exact cost model."""
    for name, table in tables.items():
        idx = np.flatnonzero(table.available)
        if not idx.size:
            continue
        flops, params = dataset_costs(space.channels(idx), name)
        bad_p = table.params[idx] != params
        bad_f = ~(np.abs(table.flops[idx] - flops) <= FLOPS_ATOL)
        bad = np.flatnonzero(bad_p | bad_f)
        if bad.size:
            i = int(idx[bad[0]])
            k = int(bad[0])
            raise DataIntegrityError(
                f"{where}: record {i:06d}.pickle.pbz2 ({space.format(i)}) on {name} has "
                f"{float(table.flops[i])!r} MFLOPs / {int(table.params[i])} params, the exact cost "
                f"model gives {float(flops[k])!r} / {int(params[k])} ({bad.size} such "
                "records); the archive is corrupted or not NATS-sss-v1_0-50262")


def build_from_official_archive(
    archive_dir: str | Path, *, allow_partial: bool = False, space: SearchSpace = SSS,
    progress: bool = False, workers: int | None = None,
) -> BenchmarkTable:
    """The table of every architecture the official archive holds (all three datasets).

    Args:
        archive_dir: ``NATS-sss-v1_0-50262-simple`` directory, its ``.tar``, or the
            single-file archive.
        allow_partial: build even if the archive lacks architectures (the official API's
            test fixture has 3 of 32,768); their rows are marked unavailable.
        space: the search space the archive's ``meta_archs`` must enumerate in order.
        progress: show a tqdm bar while reading records.
        workers: reader processes (default: the CPU cores; 1 reads in-process). The table
            is the same whatever the number.

    Raises:
        DataNotFoundError: no archive at ``archive_dir``.
        DataIntegrityError: wrong architecture order, a damaged record (named), a record that
            disagrees with its index or with the cost model, or a partial archive without
            ``allow_partial``.
    """
    archive = Path(archive_dir)
    if not is_official_archive(archive):
        raise DataNotFoundError(
            f"{archive} is not an official NATS-Bench SSS archive (expected a directory with "
            f"{META_NAME} and NNNNNN.pickle.pbz2 records, NATS-sss-v1_0-50262-simple.tar, or "
            "NATS-sss-v1_0-50262.pickle.pbz2)"
        )
    n = space.size
    cols = _Columns(n)
    if archive.is_file() and not is_tar(archive):
        meta, indices = _read_single_file(archive, space, cols)
        _check_complete(archive, len(indices), n, allow_partial)
        synthetic = None
        digests: dict[str, str] = {}
    else:
        opened = reader.open_archive(archive)
        meta, synthetic = opened.meta, opened.synthetic
        archs = _checked_archs(archive, meta, space)
        indices = sorted(opened.refs)
        _check_range(archive, indices, space)
        _check_complete(archive, len(indices), n, allow_partial)
        refs = [opened.refs[i] for i in indices]
        reader.read_records(
            refs, archs, workers=default_workers() if workers is None else int(workers),
            progress=progress,
            on_chunk=lambda idx, values, dig: cols.fill(
                idx, values, (opened.refs[int(i)].name.rsplit("/", 1)[-1] for i in idx), dig))
        digests = cols.digests
    tables = cols.tables()
    check_costs(tables, space, str(archive))
    provenance = TableProvenance(
        builder=SYNTHETIC_BUILDER if synthetic else BUILDER,
        sources=_sources(archive, digests), partial=len(indices) < n,
        synthetic=bool(synthetic))
    return BenchmarkTable(datasets=tables, provenance=provenance)


def _checked_archs(archive: Path, meta: Any, space: SearchSpace) -> list[str]:
    try:
        archs = list(meta["meta_archs"])
    except (KeyError, TypeError):
        raise DataIntegrityError(f"{archive}: {META_NAME} has no meta_archs; not an official "
                                 "NATS-Bench SSS archive") from None
    check_order(f"{archive} meta_archs", np.asarray(archs), space)
    return archs


def _check_range(archive: Path, indices: list[int], space: SearchSpace) -> None:
    out_of_range = [i for i in indices if not 0 <= i < space.size]
    if out_of_range:
        raise DataIntegrityError(f"{archive}: record for index {out_of_range[0]} is outside "
                                 f"0..{space.size - 1}")


def _check_complete(archive: Path, have: int, n: int, allow_partial: bool) -> None:
    if have < n and not allow_partial:
        raise DataIntegrityError(
            f"the official archive at {archive} is partial: it has {have} of {n} "
            "architectures. Point at the full NATS-sss-v1_0-50262-simple archive, or build a "
            "partial table on purpose with `nas-harness data build --from DIR --allow-partial` "
            "(allow_partial=True); its other rows are unavailable"
        )


def _read_single_file(archive: Path, space: SearchSpace,
                      cols: _Columns) -> tuple[dict, list[int]]:
    """``NATS-sss-v1_0-50262.pickle.pbz2``: everything in one pickle, read in-process."""
    try:
        with bz2.open(archive, "rb") as handle:
            whole = pickle.load(handle)
    except Exception as exc:  # a damaged bz2 or pickle
        raise DataIntegrityError(f"{archive}: damaged archive ({type(exc).__name__}: {exc}); "
                                 "download it again") from None
    archs = _checked_archs(archive, whole, space)
    infos = whole.get("arch2infos") or {}
    indices = sorted(int(i) for i in infos)
    _check_range(archive, indices, space)
    for index in indices:
        name = f"{archive.name}[{index}]"
        values = reader.record_values(infos[index], index, archs[index], name)
        cols.fill(np.array([index]), values[None], [name], [""])
    cols.digests.clear()
    return whole, indices
