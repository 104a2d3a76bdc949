"""The store of scores users bring: ``<cache>/proxies/<name>.parquet`` + ``<name>.json``.

The Parquet file holds one row per scored architecture and dataset (``dataset, index,
score``); the JSON sidecar records where the scores came from (the file's path and sha256),
the stored file's sha256 (re-checked on every load), and per dataset how many architectures
are scored. Files are written atomically, and an existing name is never overwritten unless
asked, so nothing already stored is lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nas_harness.benchmarks.atomic import replace_atomically
from nas_harness.benchmarks.data.paths import cache_dir
from nas_harness.benchmarks.data.sources import sha256_of
from nas_harness.benchmarks.errors import DataIntegrityError
from nas_harness.benchmarks.proxies.columns import ProxyColumn, ProxyMissingError
from nas_harness.benchmarks.proxies.user_scores import ScoreFile
from nas_harness.benchmarks.space import SSS

STORE_FORMAT = 1


@dataclass(frozen=True)
class StoredProxy:
    """What ``proxies list`` shows about one stored proxy (its sidecar)."""

    name: str
    datasets: dict[str, int]
    source: str
    source_sha256: str
    sha256: str
    subset: bool
    allow_missing: bool


def store_dir(cache: str | Path | None = None) -> Path:
    """Where user proxies live."""
    return cache_dir(cache) / "proxies"


def _files(name: str, cache: str | Path | None) -> tuple[Path, Path]:
    folder = store_dir(cache)
    return folder / f"{name}.parquet", folder / f"{name}.json"


def save_scores(scores: ScoreFile, source: Path, cache: str | Path | None = None, *,
                replace: bool = False) -> StoredProxy:
    """Store validated scores; refuses an existing name unless ``replace``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet, sidecar = _files(scores.name, cache)
    if sidecar.exists() and not replace:
        raise DataIntegrityError(f"a proxy called {scores.name!r} is already stored "
                                 f"({sidecar}); add with --replace to overwrite it, or pick "
                                 "another name")
    parquet.parent.mkdir(parents=True, exist_ok=True)
    datasets, index, score = [], [], []
    for ds, column in sorted(scores.columns.items()):
        rows = np.flatnonzero(~np.isnan(column))
        datasets += [ds] * len(rows)
        index.append(rows.astype(np.int32))
        score.append(column[rows])
    arrow = pa.table({"dataset": pa.array(datasets, pa.string()),
                      "index": pa.array(np.concatenate(index)),
                      "score": pa.array(np.concatenate(score))})
    replace_atomically(parquet, lambda tmp: pq.write_table(arrow, tmp, compression="zstd"))
    record = StoredProxy(
        name=scores.name,
        datasets={ds: int((~np.isnan(c)).sum()) for ds, c in sorted(scores.columns.items())},
        source=str(source.resolve()), source_sha256=sha256_of(source),
        sha256=sha256_of(parquet), subset=scores.subset, allow_missing=scores.allow_missing)
    text = json.dumps({"format": STORE_FORMAT, **record.__dict__}, indent=2) + "\n"
    replace_atomically(sidecar, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return record


def list_stored(cache: str | Path | None = None) -> list[StoredProxy]:
    """Every stored proxy, by name."""
    folder = store_dir(cache)
    if not folder.is_dir():
        return []
    return [_read_sidecar(p) for p in sorted(folder.glob("*.json"))]


def _read_sidecar(path: Path) -> StoredProxy:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        meta.pop("format")
        return StoredProxy(**meta)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataIntegrityError(f"{path} is not a proxy sidecar ({exc}); add the proxy "
                                 "again with `nas-harness proxies add --replace`") from None


def load_stored(name: str, dataset: str, cache: str | Path | None = None) -> ProxyColumn:
    """A stored proxy's column on ``dataset``, after re-checking the stored file's sha256."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    parquet, sidecar = _files(name, cache)
    if not sidecar.is_file():
        raise ProxyMissingError(f"no proxy called {name!r}; `nas-harness proxies list` shows "
                                "what there is, `nas-harness proxies add` stores new scores")
    record = _read_sidecar(sidecar)
    if dataset not in record.datasets:
        raise ProxyMissingError(f"proxy {name!r} has no scores on {dataset} (it has "
                                f"{', '.join(record.datasets)}); add them with "
                                f"`nas-harness proxies add {name} FILE --dataset {dataset}`")
    if not parquet.is_file() or sha256_of(parquet) != record.sha256:
        raise DataIntegrityError(f"{parquet} is missing or changed since it was stored "
                                 f"(sha256 differs from {sidecar.name}); add it again with "
                                 "--replace")
    arrow = pq.read_table(parquet)
    rows = arrow.filter(pc.equal(arrow["dataset"], dataset))
    values = np.full(SSS.size, np.nan)
    values[rows["index"].to_numpy()] = rows["score"].to_numpy()
    return ProxyColumn(name, dataset, values, f"user scores from {record.source}",
                       record.sha256)
