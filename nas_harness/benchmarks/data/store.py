"""Store a built benchmark table (one Parquet file + a JSON sidecar) and load it fast.

The Parquet file is long format, one row per (dataset, architecture): ``dataset, index, arch,
c1..c5, valid_acc, test_acc, params, flops, available`` plus, for tables built from the
official archive, ``hp12_valid_acc_777/888/999, hp12_train_time, hp12_eval_time, latency,
hp12_time_777/888/999``. The sidecar records the schema version, the builder, the source
files with their sha256, whether the table is partial or synthetic, and the sha256 of the
Parquet file (the table checksum that every run records). Loading re-hashes the Parquet file
and refuses a mismatch.

``load_table()`` is what the rest of the harness calls: it returns the cached table when its
recorded sources still match, builds it otherwise (from ``NAS_HARNESS_DATA`` or from what
``nas-harness data fetch`` downloaded), and never invents data.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from nas_harness.benchmarks.atomic import replace_atomically
from nas_harness.benchmarks.data.build_official import BUILDER as OFFICIAL
from nas_harness.benchmarks.data.build_official import (
    SYNTHETIC_BUILDER,
    build_from_official_archive,
    is_official_archive,
)
from nas_harness.benchmarks.data.build_public import build_from_public_exports, public_sources
from nas_harness.benchmarks.data.locate import (
    HOW_TO_GET_DATA,
    missing_table_hint,
    resolve_source_dir,
)
from nas_harness.benchmarks.data.paths import cache_dir, table_files
from nas_harness.benchmarks.data.sources import (
    FIX_HINT,
    PUBLIC_FILES,
    has_public_exports,
    sha256_of,
)
from nas_harness.benchmarks.errors import DataIntegrityError, DataNotFoundError
from nas_harness.benchmarks.space import SSS
from nas_harness.benchmarks.table import (
    HP12_SEEDS,
    SCHEMA_VERSION,
    BenchmarkTable,
    DatasetTable,
    TableProvenance,
)

HP12_COLUMNS = tuple(f"hp12_valid_acc_{seed}" for seed in HP12_SEEDS)
HP12_TIME_COLUMNS = tuple(f"hp12_time_{seed}" for seed in HP12_SEEDS)
OPTIONAL_COLUMNS = (*HP12_COLUMNS, "hp12_train_time", "hp12_eval_time", "latency",
                    *HP12_TIME_COLUMNS)
BASE_COLUMNS = ("valid_acc", "test_acc", "params", "flops", "available")
SIDECAR_KEYS = ("builder", "partial", "checksum", "sources", "datasets", "columns")


REBUILD_HINT = "rebuild it with `nas-harness data build --from DIR` (or `nas-harness data fetch`)"


# -- writing ----------------------------------------------------------------------------------
def _arrow_table(table: BenchmarkTable) -> Any:
    import pyarrow as pa

    n = SSS.size
    names = table.names
    for name in names:
        if table.datasets[name].num_archs != n:
            raise DataIntegrityError(f"{name}: expected {n} rows, got "
                                     f"{table.datasets[name].num_archs}")
    idx = SSS.all_indices()
    chans = SSS.channels(idx).astype(np.int16)
    arch = np.asarray(SSS.format_many(idx), dtype=object)
    k = len(names)
    cols: dict[str, Any] = {
        "dataset": pa.array(np.repeat(np.asarray(names, dtype=object), n), pa.string()),
        "index": pa.array(np.tile(idx.astype(np.int32), k)),
        "arch": pa.array(np.tile(arch, k), pa.string()),
    }
    for layer in range(chans.shape[1]):
        cols[f"c{layer + 1}"] = pa.array(np.tile(chans[:, layer], k))
    dts = [table.datasets[name] for name in names]
    cols["valid_acc"] = pa.array(np.concatenate([d.valid_acc for d in dts]).astype(np.float64))
    cols["test_acc"] = pa.array(np.concatenate([d.test_acc for d in dts]).astype(np.float64))
    cols["params"] = pa.array(np.concatenate([d.params for d in dts]).astype(np.int64))
    cols["flops"] = pa.array(np.concatenate([d.flops for d in dts]).astype(np.float64))
    cols["available"] = pa.array(np.concatenate([d.available for d in dts]).astype(bool))
    has_hp12 = [d.hp12_valid_acc is not None for d in dts]
    if any(has_hp12) and not all(has_hp12):
        raise DataIntegrityError("either every dataset or none carries hp=12 results")
    if all(has_hp12):
        for s, column in enumerate(HP12_COLUMNS):
            cols[column] = pa.array(np.concatenate(
                [np.asarray(d.hp12_valid_acc)[:, s] for d in dts]))
        for column in ("hp12_train_time", "hp12_eval_time", "latency"):
            parts = [getattr(d, column) for d in dts]
            cols[column] = pa.array(np.concatenate(
                [np.full(n, np.nan) if p is None else np.asarray(p, np.float64) for p in parts]))
        if any(d.hp12_time is not None for d in dts):
            for s, column in enumerate(HP12_TIME_COLUMNS):
                cols[column] = pa.array(np.concatenate(
                    [np.full(n, np.nan) if d.hp12_time is None else np.asarray(d.hp12_time)[:, s]
                     for d in dts]))
    return pa.table(cols)


def save_table(table: BenchmarkTable, cache: str | Path | None = None, *,
               source_dir: str | Path | None = None) -> BenchmarkTable:
    """Write ``table`` to the cache (atomically) and return it with its checksum set.

    Args:
        table: the built table.
        cache: the cache directory (default: ``NAS_HARNESS_CACHE`` or the XDG default).
        source_dir: where the sources were read from (recorded in the sidecar).
    """
    import pyarrow.parquet as pq

    parquet, sidecar = table_files(cache)
    parquet.parent.mkdir(parents=True, exist_ok=True)
    arrow = _arrow_table(table)
    replace_atomically(parquet, lambda tmp: pq.write_table(arrow, tmp, compression="zstd"))
    checksum = sha256_of(parquet)
    prov = replace(table.provenance, checksum=checksum, schema_version=SCHEMA_VERSION)
    meta = {
        "schema_version": SCHEMA_VERSION,
        "builder": prov.builder,
        "partial": bool(prov.partial),
        "synthetic": bool(prov.synthetic),
        "checksum": checksum,
        "parquet": parquet.name,
        "source_dir": None if source_dir is None else str(Path(source_dir).resolve()),
        "sources": dict(prov.sources),
        "datasets": {
            name: {"rows": d.num_archs, "available": int(d.available.sum()),
                   "fidelities": list(d.fidelities)}
            for name, d in table.datasets.items()
        },
        "columns": list(arrow.column_names),
    }
    text = json.dumps(meta, indent=2) + "\n"
    replace_atomically(sidecar, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return BenchmarkTable(datasets=table.datasets, provenance=prov)


# -- reading ----------------------------------------------------------------------------------
def read_sidecar(cache: str | Path | None = None) -> dict[str, Any] | None:
    """The JSON sidecar of the cached table, or None when there is no cached table."""
    _, sidecar = table_files(cache)
    if not sidecar.is_file():
        return None
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataIntegrityError(f"{sidecar} is unreadable ({exc}); {REBUILD_HINT}") from None
    if not isinstance(meta, dict):
        raise DataIntegrityError(f"{sidecar} is not a table sidecar (a JSON object); "
                                 f"{REBUILD_HINT}")
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise DataIntegrityError(
            f"{sidecar}: table schema version {meta.get('schema_version')!r} is not "
            f"{SCHEMA_VERSION} (made by another nas-harness version); {REBUILD_HINT}"
        )
    missing = [key for key in SIDECAR_KEYS if key not in meta]
    if missing:
        raise DataIntegrityError(f"{sidecar} lacks {', '.join(missing)} (edited or damaged); "
                                 f"{REBUILD_HINT}")
    return meta


_NUMPY_TYPES = {"double": np.float64, "float": np.float32, "int64": np.int64,
                "int32": np.int32, "int16": np.int16, "int8": np.int8, "uint8": np.uint8}


def column_to_numpy(column: Any) -> np.ndarray:
    """A null-free numeric or boolean Arrow column as a numpy array, without pandas.

    pyarrow's own ``to_numpy`` imports pandas on first use (about 0.3 s, more than the rest
    of a no-op ``nas-harness run``); the column buffers hold the same values, so they are
    read directly. Other types, and columns with nulls, go through ``to_numpy``.
    """
    array = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    kind = str(array.type)
    if array.null_count == 0 and kind == "bool":
        bits = np.frombuffer(array.buffers()[1], dtype=np.uint8)
        unpacked = np.unpackbits(bits, bitorder="little")
        return unpacked[array.offset:array.offset + len(array)].astype(bool)
    if array.null_count == 0 and kind in _NUMPY_TYPES:
        values = np.frombuffer(array.buffers()[1], dtype=_NUMPY_TYPES[kind])
        return values[array.offset:array.offset + len(array)].copy()
    return np.asarray(array.to_numpy(zero_copy_only=False))


def read_table(cache: str | Path | None = None) -> BenchmarkTable:
    """The cached table after checking its Parquet sha256 against the sidecar."""
    import pyarrow.parquet as pq  # ParquetFile.read avoids pyarrow.dataset (and pandas)

    parquet, sidecar = table_files(cache)
    meta = read_sidecar(cache)
    if meta is None or not parquet.is_file():
        raise DataNotFoundError(f"no built table in {parquet.parent}; {missing_table_hint()}")
    actual = sha256_of(parquet)
    if actual != meta.get("checksum"):
        raise DataIntegrityError(
            f"the cached table {parquet} is corrupted: sha256 {actual} but {sidecar.name} "
            f"records {meta.get('checksum')}; {REBUILD_HINT}"
        )
    present = [c for c in OPTIONAL_COLUMNS if c in meta.get("columns", [])]
    try:
        arrow = pq.ParquetFile(parquet).read(
            columns=["dataset", "index", *BASE_COLUMNS, *present])
    except Exception as exc:  # pyarrow raises several types on malformed files
        raise DataIntegrityError(f"{parquet} is unreadable ({exc}); {REBUILD_HINT}") from None
    tables: dict[str, DatasetTable] = {}
    start = 0
    for name, info in meta["datasets"].items():
        rows = int(info["rows"])
        block = arrow.slice(start, rows)
        start += rows
        if rows != SSS.size or set(block["dataset"].to_pylist()) != {name}:
            raise DataIntegrityError(f"{parquet}: the {name} block is malformed; {REBUILD_HINT}")
        if not np.array_equal(column_to_numpy(block["index"]), np.arange(rows)):
            raise DataIntegrityError(f"{parquet}: {name} rows are not in index order; "
                                     f"{REBUILD_HINT}")
        col = {c: column_to_numpy(block[c]) for c in (*BASE_COLUMNS, *present)}
        extra: dict[str, np.ndarray] = {}
        if all(c in col for c in HP12_COLUMNS):
            extra["hp12_valid_acc"] = np.stack([col[c] for c in HP12_COLUMNS], axis=1)
        for c in ("hp12_train_time", "hp12_eval_time", "latency"):
            if c in col:
                extra[c] = col[c]
        if all(c in col for c in HP12_TIME_COLUMNS):
            extra["hp12_time"] = np.stack([col[c] for c in HP12_TIME_COLUMNS], axis=1)
        tables[name] = DatasetTable(
            dataset=name, valid_acc=col["valid_acc"], test_acc=col["test_acc"],
            params=col["params"], flops=col["flops"], available=col["available"], **extra)
    if start != arrow.num_rows:
        raise DataIntegrityError(f"{parquet}: {arrow.num_rows} rows, the sidecar lists "
                                 f"{start}; {REBUILD_HINT}")
    prov = TableProvenance(builder=meta["builder"], sources=dict(meta["sources"]),
                           schema_version=meta["schema_version"], partial=bool(meta["partial"]),
                           checksum=actual, synthetic=bool(meta.get("synthetic", False)))
    return BenchmarkTable(datasets=tables, provenance=prov)


# -- the entry point --------------------------------------------------------------------------
def build_from_dir(source: str | Path, *, allow_partial: bool = False,
                   progress: bool = False, workers: int | None = None) -> BenchmarkTable:
    """Build from a directory of public exports or from an official archive (auto-detected).

    A ``natsbench_sss`` directory that holds both uses the public exports (complete); an
    official archive directory (``meta.pickle.pbz2`` + records), its ``.tar`` or the
    single-file archive is read record by record (``workers`` processes).
    """
    src = Path(source).expanduser()
    if not src.exists():
        raise DataNotFoundError(f"{src} does not exist; {HOW_TO_GET_DATA}")
    if src.is_dir() and has_public_exports(src):
        return build_from_public_exports(src)
    if is_official_archive(src):
        return build_from_official_archive(src, allow_partial=allow_partial, progress=progress,
                                           workers=workers)
    present = [rel for rel in PUBLIC_FILES if (src / rel).is_file()] if src.is_dir() else []
    if present:  # public exports with files missing: name them
        missing = [rel for rel in PUBLIC_FILES if rel not in present]
        raise DataNotFoundError(
            f"{src} lacks {len(missing)} of the public export files: {', '.join(missing)}; "
            f"{FIX_HINT}"
        )
    raise DataNotFoundError(
        f"{src} holds neither the public exports (monet/*.csv and "
        "lightonai_contrastive_embeddings/*.npy) nor an official NATS-Bench SSS archive "
        f"(meta.pickle.pbz2 + NNNNNN.pickle.pbz2, or its .tar); {HOW_TO_GET_DATA}"
    )


def load_table(data_dir: str | Path | None = None,
               cache_dir: str | Path | None = None) -> BenchmarkTable:
    """The benchmark table: cached if its sources still match, otherwise built and cached.

    A table the user built explicitly from an official archive (``nas-harness data build``)
    is kept as long as its checksum holds; a public-export table is rebuilt when the source
    files under ``data_dir``/``NAS_HARNESS_DATA`` differ from the ones it was built from.
    Results are memoised per process, so worker processes pay for loading once.

    Raises:
        DataNotFoundError: no cached table and no data anywhere (the message says how to
            get it).
        DataIntegrityError: a corrupted cache or source file.
    """
    from nas_harness.benchmarks.data.paths import cache_dir as resolve_cache

    cache = resolve_cache(cache_dir).resolve()
    src = resolve_source_dir(data_dir, cache)
    source = None if src is None else str(src.resolve())
    key = (source, str(cache), _stamps(cache))
    if key in _MEMO:
        return _MEMO[key]
    table = _load_or_build(source, str(cache))
    if len(_MEMO) >= _MEMO_SIZE:
        _MEMO.pop(next(iter(_MEMO)))
    _MEMO[(source, str(cache), _stamps(cache))] = table  # the files as they are now
    return table


_MEMO: dict[tuple, BenchmarkTable] = {}
_MEMO_SIZE = 8


def _stamps(cache: str | Path) -> tuple:
    """(mtime, size) of the cached table's files: a rewrite invalidates the memo."""
    return tuple((p.stat().st_mtime_ns, p.stat().st_size) if p.is_file() else None
                 for p in table_files(cache))


def _load_or_build(src: str | None, cache: str) -> BenchmarkTable:

    meta = read_sidecar(cache)
    parquet = table_files(cache)[0]
    if meta is not None and not parquet.is_file():  # the table was deleted, its sidecar kept
        if src is None:
            raise DataNotFoundError(f"the cached table {parquet} is missing (its sidecar "
                                    f"remains); {REBUILD_HINT}")
        meta = None  # rebuilt from the sources below, as with no cache at all
    if meta is not None:
        if meta["builder"] in (OFFICIAL, SYNTHETIC_BUILDER) or src is None:
            return read_table(cache)
        if has_public_exports(src) and public_sources(src) == meta["sources"]:
            return read_table(cache)
    if src is None:
        raise DataNotFoundError(f"no benchmark table and no source data found; "
                                f"{HOW_TO_GET_DATA}")
    return save_table(build_from_dir(src), cache, source_dir=src)


def clear_memo() -> None:
    """Forget the tables memoised in this process (the files on disk stay)."""
    _MEMO.clear()


def cached_table_path(cache: str | Path | None = None) -> Path:
    """The Parquet file of the cached table (it may not exist yet)."""
    return table_files(cache_dir(cache))[0]
