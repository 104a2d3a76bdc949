"""Read official NATS-Bench SSS records directly (bz2 pickles), from a directory or a ``.tar``.

The official archive ``NATS-sss-v1_0-50262-simple`` is ``meta.pickle.pbz2`` plus one
``NNNNNN.pickle.pbz2`` per architecture; it is distributed as one ``.tar`` (~1 GB). Going
through the ``nats_bench`` API costs an ``ArchResults`` object per record; reading the pickled
dicts directly is several times faster and lets worker processes share the work. The numbers
are the API's, computed the API's way (same keys, same summation order, its ``mean``), so the
two agree bit for bit (``tests/test_benchmarks/data/test_build_official_reader.py`` checks it
on the official sample):

* ``valid``: ``get_more_info(i, valid_split, hp='90', is_random=False)['valid-accuracy']``;
* ``test``: ``get_more_info(i, test_split, hp='90', is_random=False)['test-accuracy']``;
* ``flops``/``params``: ``get_cost_info(i, test_split, hp='90')`` (its legacy fix included);
* ``latency``: ``get_cost_info(i, test_split, hp='12')['latency']``;
* ``acc777..999``: ``get_metrics(valid_split, 'x-valid', is_random=seed)['accuracy']`` at hp=12;
* ``time777..999``: what ``simulate_train_eval(arch, dataset, hp='12')`` charges when it draws
  that seed: ``train-all-time + valid-per-time`` of ``get_more_info(..., hp='12')``;
* ``train777``/``eval777``: seed 777's ``T-train@total`` and ``T-x-valid@total`` at hp=12.

A tar is never unpacked: its member headers are listed once, and each worker seeks to the
members it was given. Records travel to workers as ``RecordRef`` (file, offset, size), results
come back as small float arrays, so memory stays flat whatever the archive size.
"""

from __future__ import annotations

import bz2
import hashlib
import os
import pickle
import re
import tarfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nas_harness.benchmarks.datasets import DATASETS
from nas_harness.benchmarks.errors import DataIntegrityError, DataNotFoundError
from nas_harness.benchmarks.table import HP12_SEEDS

META_NAME = "meta.pickle.pbz2"
RECORD_RE = re.compile(r"^(\d+)\.pickle\.pbz2$")
SYNTHETIC_KEY = "synthetic"
"""Key of the meta dict that marks an archive written by the synthetic generator."""

FIELDS: tuple[str, ...] = (
    "valid", "test", "flops", "params_m", "latency",
    *(f"acc{s}" for s in HP12_SEEDS), *(f"time{s}" for s in HP12_SEEDS),
    "train777", "eval777",
)
"""Per dataset and record, the numbers a reader returns, in this order."""
FIELD = {name: k for k, name in enumerate(FIELDS)}
DATASET_ORDER: tuple[str, ...] = tuple(DATASETS)
CHUNK = 128
"""Records per worker task: large enough to amortise the inter-process hop."""


@dataclass(frozen=True)
class RecordRef:
    """Where one record's bytes are: a file, or ``size`` bytes at ``offset`` in a tar."""

    index: int
    name: str
    path: str
    offset: int = -1
    size: int = -1


@dataclass(frozen=True)
class Archive:
    """An opened official archive: its meta dict and where every record is."""

    path: Path
    kind: str  # "dir" | "tar" | "file"
    meta: dict[str, Any]
    refs: dict[int, RecordRef]

    @property
    def synthetic(self) -> dict[str, Any] | None:
        """The generator's description when the archive is synthetic, else None."""
        value = self.meta.get(SYNTHETIC_KEY)
        return value if isinstance(value, dict) else None


def is_tar(path: Path) -> bool:
    """Whether ``path`` is a tar file (by name and by header)."""
    return path.is_file() and path.name.endswith(".tar") and tarfile.is_tarfile(path)


def _load_bytes(data: bytes, name: str) -> Any:
    try:
        return pickle.loads(bz2.decompress(data))
    except Exception as exc:  # bz2, pickle and EOF errors all mean a damaged file
        raise DataIntegrityError(
            f"{name}: damaged record ({type(exc).__name__}: {exc}); re-download or re-extract "
            "the archive (check its sha256 against the mirror's)") from None


def open_archive(path: str | Path) -> Archive:
    """The meta dict and record locations of an archive directory or ``.tar``.

    Raises:
        DataNotFoundError: no ``meta.pickle.pbz2`` in it.
        DataIntegrityError: two records for one index, or a damaged meta file.
    """
    root = Path(path)
    refs: dict[int, RecordRef] = {}

    def add(index: int, ref: RecordRef) -> None:
        if index in refs:
            raise DataIntegrityError(
                f"{root}: two record files for index {index}: {refs[index].name} and "
                f"{ref.name}; remove one")
        refs[index] = ref

    if root.is_dir():
        meta_path = root / META_NAME
        if not meta_path.is_file():
            raise DataNotFoundError(f"{root} has no {META_NAME}: not an official archive")
        for entry in os.scandir(root):
            match = RECORD_RE.match(entry.name)
            if match:
                add(int(match.group(1)), RecordRef(int(match.group(1)), entry.name, entry.path))
        meta = _load_bytes(meta_path.read_bytes(), str(meta_path))
        return Archive(root, "dir", meta, refs)
    if is_tar(root):
        meta_bytes = None
        with tarfile.open(root, "r:") as tar:
            for member in tar:
                base = member.name.rsplit("/", 1)[-1]
                if not member.isfile():
                    continue
                if base == META_NAME:
                    handle = tar.extractfile(member)
                    assert handle is not None
                    meta_bytes = handle.read()
                    continue
                match = RECORD_RE.match(base)
                if match:
                    add(int(match.group(1)), RecordRef(int(match.group(1)), member.name,
                                                       str(root), member.offset_data,
                                                       member.size))
        if meta_bytes is None:
            raise DataNotFoundError(f"{root} has no {META_NAME} member: not an official "
                                    "NATS-Bench SSS archive")
        return Archive(root, "tar", _load_bytes(meta_bytes, f"{root}:{META_NAME}"), refs)
    raise DataNotFoundError(f"{root} is neither an archive directory nor a .tar")


def read_ref(ref: RecordRef, handle: Any = None) -> bytes:
    """The raw (compressed) bytes of one record."""
    try:
        if ref.offset < 0:
            with open(ref.path, "rb") as f:
                return f.read()
        if handle is None:
            with open(ref.path, "rb") as f:
                f.seek(ref.offset)
                data: bytes = f.read(ref.size)
        else:
            handle.seek(ref.offset)
            data = handle.read(ref.size)
    except OSError as exc:
        raise DataIntegrityError(f"{ref.name}: unreadable ({exc})") from None
    if len(data) != ref.size:
        raise DataIntegrityError(f"{ref.name}: truncated ({len(data)} of {ref.size} bytes); "
                                 "the tar is incomplete, download it again")
    return data


# -- one record -> numbers ----------------------------------------------------------------------
def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)  # nats_bench.api_utils.mean, same order


def _last(result: dict, key: str) -> float:
    return float(result["eval_acc1es"][f"{key}@{result['epochs'] - 1}"])


def _costs(hp: dict, split: str) -> tuple[float, float, float]:
    """``ArchResults.get_compute_costs``: flops, params (M), latency (NaN if none)."""
    seeds = hp["dataset_seed"][split]
    results = [hp["all_results"][(split, s)] for s in seeds]

    def legacy(raw: list[float]) -> list[float]:
        if len(raw) > 1 and len({f"{x:.5f}" for x in raw}) > 1:
            return [raw[seeds.index(888)]]
        return raw

    latencies = []
    for r in results:
        lat = r.get("latency")
        value = -1.0 if lat is None else sum(lat) / len(lat)
        if value > 0:
            latencies.append(value)
    return (_mean(legacy([r["flop"] for r in results])),
            _mean(legacy([r["params"] for r in results])),
            _mean(latencies) if latencies else float("nan"))


def _charge(result: dict) -> float:
    """``simulate_train_eval``'s time cost of one hp=12 trial (iepoch=None)."""
    epochs = result["epochs"]
    train = sum([result["train_times"][i] for i in range(epochs)])
    valid = sum([result["eval_times"][f"x-valid@{i}"] for i in range(epochs)])
    return train + valid / epochs


def record_values(record: Any, index: int, expected: str, name: str) -> np.ndarray:
    """``(3, len(FIELDS))`` numbers of one record (datasets in ``DATASET_ORDER``).

    Raises:
        DataIntegrityError: the record is another architecture, or lacks a needed result.
    """
    try:
        for hp in ("90", "12"):
            head = record[hp]
            if head["arch_index"] != index or head["arch_str"] != expected:
                raise DataIntegrityError(
                    f"{name}: official record {index} (hp={hp}) is architecture "
                    f"{head['arch_index']} {head['arch_str']!r}, but index {index} is "
                    f"{expected!r} in the search space; the archive is corrupted or a record "
                    "file was renamed")
        h90, h12 = record["90"], record["12"]
        out = np.full((len(DATASET_ORDER), len(FIELDS)), np.nan)
        for d, dataset in enumerate(DATASET_ORDER):
            spec = DATASETS[dataset]
            valid, test = spec.valid_split, spec.test_split
            row = out[d]
            row[FIELD["valid"]] = _mean([_last(h90["all_results"][(valid, s)], "x-valid")
                                         for s in h90["dataset_seed"][valid]])
            test_set = "ori-test" if test == "cifar10" else "x-test"
            row[FIELD["test"]] = _mean([_last(h90["all_results"][(test, s)], test_set)
                                        for s in h90["dataset_seed"][test]])
            flops, params, _ = _costs(h90, test)
            row[FIELD["flops"]], row[FIELD["params_m"]] = flops, params
            row[FIELD["latency"]] = _costs(h12, test)[2]
            seeds = h12["dataset_seed"][valid]
            for k, seed in enumerate(HP12_SEEDS):
                if seed in seeds:
                    result = h12["all_results"][(valid, seed)]
                    row[FIELD["acc777"] + k] = _last(result, "x-valid")
                    row[FIELD["time777"] + k] = _charge(result)
            if HP12_SEEDS[0] in seeds:
                result = h12["all_results"][(valid, HP12_SEEDS[0])]
                epochs = result["epochs"]
                row[FIELD["train777"]] = sum(list(result["train_times"].values()))
                row[FIELD["eval777"]] = sum(result["eval_times"][f"x-valid@{i}"]
                                            for i in range(epochs))
        return out
    except DataIntegrityError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError,
            AttributeError) as exc:
        raise DataIntegrityError(
            f"{name}: damaged record (missing or malformed {type(exc).__name__}: {exc}); "
            "re-download the archive") from None


def read_chunk(refs: Sequence[RecordRef], expected: Sequence[str]
               ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Worker task: indices, ``(k, 3, len(FIELDS))`` values and sha256 of ``refs``' bytes."""
    indices = np.array([r.index for r in refs], dtype=np.int64)
    values = np.empty((len(refs), len(DATASET_ORDER), len(FIELDS)))
    digests = []
    handle = None
    try:
        if refs and refs[0].offset >= 0:
            handle = open(refs[0].path, "rb")
        for k, (ref, arch) in enumerate(zip(refs, expected, strict=True)):
            data = read_ref(ref, handle)
            digests.append(hashlib.sha256(data).hexdigest())
            values[k] = record_values(_load_bytes(data, ref.name), ref.index, arch, ref.name)
    finally:
        if handle is not None:
            handle.close()
    return indices, values, digests


def _chunks(refs: Sequence[RecordRef], archs: Sequence[str], size: int
            ) -> Iterator[tuple[list[RecordRef], list[str]]]:
    for start in range(0, len(refs), size):
        part = list(refs[start:start + size])
        yield part, [archs[r.index] for r in part]


def read_records(refs: Sequence[RecordRef], archs: Sequence[str], *, workers: int = 1,
                 on_chunk: Callable[[np.ndarray, np.ndarray, list[str]], None],
                 progress: bool = False, chunk: int = CHUNK) -> None:
    """Read ``refs`` (in parallel when ``workers > 1``) and hand each chunk to ``on_chunk``.

    Chunks arrive in order; the first damaged record stops the read with its name.
    """
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(refs), desc="official records", unit="arch")
    try:
        tasks = _chunks(refs, archs, chunk)
        if workers <= 1 or len(refs) <= chunk:
            for part, expected in tasks:
                result = read_chunk(part, expected)
                on_chunk(*result)
                if bar is not None:
                    bar.update(len(part))
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            pending = [pool.submit(read_chunk, part, expected) for part, expected in tasks]
            try:
                for future in pending:
                    indices, values, digests = future.result()
                    on_chunk(indices, values, digests)
                    if bar is not None:
                        bar.update(len(indices))
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
    finally:
        if bar is not None:
            bar.close()
