"""Build the benchmark table from an official NATS-Bench SSS archive via the ``nats_bench`` API.

The official archive (``NATS-sss-v1_0-50262-simple/``: ``meta.pickle.pbz2`` plus one
``NNNNNN.pickle.pbz2`` per architecture) is the only source of hp=12 results, latency and
training times. Each column is read through the API exactly as a NATS-Bench user would:

* ``valid_acc``: ``get_more_info(i, valid_split, hp='90', is_random=False)['valid-accuracy']``
  (``valid_split`` is ``cifar10-valid`` for CIFAR-10, the dataset itself otherwise);
* ``test_acc``: ``get_more_info(i, dataset, hp='90', is_random=False)['test-accuracy']``;
* ``params``/``flops``: ``get_cost_info(i, dataset, hp='90')`` (params in M -> integer count);
* ``latency``: ``get_cost_info(i, dataset, hp='12')['latency']`` (= ``get_latency``'s
  default: the mean over the hp=12 seeds; NaN where the API has none);
* ``hp12_valid_acc[:, k]``: ``query_meta_info_by_index(i, hp='12').get_metrics(valid_split,
  'x-valid', is_random=seed)['accuracy']`` for seed 777/888/999 (NaN if a seed is absent);
* ``hp12_train_time``/``hp12_eval_time``: seed 777's ``T-train@total``/``T-x-valid@total`` of
  the hp=12 run on ``valid_split`` (the run whose accuracy a search reads).

A full archive covers all 32,768 architectures; anything less is refused unless the caller
asks for a partial table, whose missing rows hold NaN / -1 and ``available=False``.
A single-file archive (``NATS-sss-v1_0-50262.pickle.pbz2``) is read with ``fast_mode=False``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.data.build_public import check_order
from benchmarks.data.sources import sha256_of
from benchmarks.datasets import DATASETS
from benchmarks.errors import DataIntegrityError, DataNotFoundError
from benchmarks.space import SSS, SearchSpace
from benchmarks.table import HP12_SEEDS, BenchmarkTable, DatasetTable, TableProvenance

BUILDER = "official-archive"
META_NAME = "meta.pickle.pbz2"
RECORD_RE = re.compile(r"^(\d+)\.pickle\.pbz2$")
MAX_LISTED_SOURCES = 64
"""Above this many record files, provenance keeps one digest of all their hashes."""


def is_official_archive(path: str | Path) -> bool:
    """Whether ``path`` is an archive directory (with ``meta.pickle.pbz2``) or archive file."""
    p = Path(path)
    return (p.is_dir() and (p / META_NAME).is_file()) or (
        p.is_file() and p.name.endswith(".pickle.pbz2") and not RECORD_RE.match(p.name)
    )


def record_files(archive_dir: Path) -> dict[int, Path]:
    """``{index: path}`` of the per-architecture record files of an archive directory."""
    found: dict[int, Path] = {}
    for path in archive_dir.iterdir():
        match = RECORD_RE.match(path.name)
        if match:
            index = int(match.group(1))
            if index in found:
                raise DataIntegrityError(
                    f"{archive_dir}: two record files for index {index}: {found[index].name} "
                    f"and {path.name}; remove one"
                )
            found[index] = path
    return found


def _sources(archive: Path, files: Iterable[Path]) -> dict[str, str]:
    listed = sorted(files)
    if archive.is_file():
        return {archive.name: sha256_of(archive)}
    hashes = {p.name: sha256_of(p) for p in listed}
    sources = {META_NAME: sha256_of(archive / META_NAME)}
    if len(hashes) <= MAX_LISTED_SOURCES:
        return sources | hashes
    digest = hashlib.sha256("".join(f"{k} {v}\n" for k, v in hashes.items()).encode())
    return sources | {f"records[{len(hashes)}] (sha256 of 'name sha256' lines)": digest.hexdigest()}


def _create_api(archive: Path) -> Any:
    try:
        import nats_bench
    except ImportError as exc:  # pragma: no cover - nats_bench is a project dependency
        raise DataNotFoundError(
            "building from an official archive needs the nats_bench package: "
            "`pip install nats_bench`"
        ) from exc
    return nats_bench.create(str(archive), "sss", fast_mode=archive.is_dir(), verbose=False)


def _seed_value(archres: Any, split: str, seed: int, setname: str = "x-valid") -> float:
    try:
        return float(archres.get_metrics(split, setname, iepoch=None, is_random=seed)["accuracy"])
    except (KeyError, ValueError):  # this seed (or set) was not run for this architecture
        return float("nan")


def _seed_times(archres: Any, split: str, seed: int) -> tuple[float, float]:
    try:
        times = archres.query(split, seed).get_times()
    except KeyError:
        return float("nan"), float("nan")
    train, valid = times.get("T-train@total"), times.get("T-x-valid@total")
    return (float("nan") if train is None else float(train),
            float("nan") if valid is None else float(valid))


def build_from_official_archive(
    archive_dir: str | Path, *, allow_partial: bool = False, space: SearchSpace = SSS,
    progress: bool = False,
) -> BenchmarkTable:
    """The table of every architecture the official archive holds (all three datasets).

    Args:
        archive_dir: ``NATS-sss-v1_0-50262-simple`` directory, or the single-file archive.
        allow_partial: build even if the archive lacks architectures (the official API's
            test fixture has 3 of 32,768); their rows are marked unavailable.
        space: the search space the archive's ``meta_archs`` must enumerate in order.
        progress: show a tqdm bar while reading records (a full archive takes minutes).

    Raises:
        DataNotFoundError: no archive at ``archive_dir``.
        DataIntegrityError: wrong architecture order, a record that disagrees with its index,
            or a partial archive without ``allow_partial``.
    """
    archive = Path(archive_dir)
    if not is_official_archive(archive):
        raise DataNotFoundError(
            f"{archive} is not an official NATS-Bench SSS archive (expected a directory with "
            f"{META_NAME} and NNNNNN.pickle.pbz2 records, or NATS-sss-v1_0-50262.pickle.pbz2)"
        )
    files = record_files(archive) if archive.is_dir() else {}
    api = _create_api(archive)
    check_order(f"{archive} meta_archs", np.asarray(list(api.meta_archs)), space)
    indices = sorted(files) if archive.is_dir() else sorted(api.evaluated_indexes)
    out_of_range = [i for i in indices if not 0 <= i < space.size]
    if out_of_range:
        raise DataIntegrityError(f"{archive}: record for index {out_of_range[0]} is outside "
                                 f"0..{space.size - 1}")
    n = space.size
    if len(indices) < n and not allow_partial:
        raise DataIntegrityError(
            f"the official archive at {archive} is partial: it has {len(indices)} of {n} "
            "architectures. Point at the full NATS-sss-v1_0-50262-simple archive, or build a "
            "partial table on purpose with `nas-harness data build --from DIR --allow-partial` "
            "(allow_partial=True); its other rows are unavailable"
        )
    cols = {name: _empty_columns(n) for name in DATASETS}
    iterator: Iterable[int] = indices
    if progress:
        from tqdm import tqdm

        iterator = tqdm(indices, desc="official records", unit="arch")
    for index in iterator:
        _read_record(api, index, space, cols)
        api.arch2infos_dict.pop(index, None)  # keep memory flat on a full archive
    tables = {name: DatasetTable(dataset=name, **c) for name, c in cols.items()}
    provenance = TableProvenance(builder=BUILDER, sources=_sources(archive, files.values()),
                                 partial=len(indices) < n)
    return BenchmarkTable(datasets=tables, provenance=provenance)


def _empty_columns(n: int) -> dict[str, np.ndarray]:
    nan = np.full(n, np.nan)
    return {
        "valid_acc": nan.copy(), "test_acc": nan.copy(), "flops": nan.copy(),
        "params": np.full(n, -1, dtype=np.int64), "available": np.zeros(n, dtype=bool),
        "hp12_valid_acc": np.full((n, len(HP12_SEEDS)), np.nan),
        "hp12_train_time": nan.copy(), "hp12_eval_time": nan.copy(), "latency": nan.copy(),
    }


def _read_record(api: Any, index: int, space: SearchSpace,
                 cols: dict[str, dict[str, np.ndarray]]) -> None:
    """Fill row ``index`` of every dataset's columns from the API."""
    expected = space.format(index)
    for hp in ("90", "12"):
        record = api.query_meta_info_by_index(index, hp=hp)
        if record.arch_index != index or record.arch_str != expected:
            raise DataIntegrityError(
                f"official record {index} (hp={hp}) is architecture {record.arch_index} "
                f"{record.arch_str!r}, but index {index} is {expected!r} in the search space; "
                "the archive is corrupted or a record file was renamed"
            )
    hp12 = record  # the hp=12 results, read last in the loop above
    for name, spec in DATASETS.items():
        c = cols[name]
        valid = api.get_more_info(index, spec.valid_split, hp="90", is_random=False)
        test = api.get_more_info(index, spec.test_split, hp="90", is_random=False)
        cost = api.get_cost_info(index, spec.test_split, hp="90")
        if "valid-accuracy" not in valid or "test-accuracy" not in test:
            raise DataIntegrityError(f"official record {index} lacks hp=90 accuracies on {name}")
        c["valid_acc"][index] = valid["valid-accuracy"]
        c["test_acc"][index] = test["test-accuracy"]
        c["params"][index] = round(float(cost["params"]) * 1e6)
        c["flops"][index] = cost["flops"]
        latency = api.get_cost_info(index, spec.test_split, hp="12")["latency"]
        c["latency"][index] = np.nan if latency is None else float(latency)
        for k, seed in enumerate(HP12_SEEDS):
            c["hp12_valid_acc"][index, k] = _seed_value(hp12, spec.valid_split, seed)
        c["hp12_train_time"][index], c["hp12_eval_time"][index] = _seed_times(
            hp12, spec.valid_split, HP12_SEEDS[0])
        c["available"][index] = True
