"""Validate a file of scores someone computed elsewhere (ZiCo, synflow, ...).

Format (CSV or Parquet, one row per architecture):

* ``arch``: the channel string ``c0:c1:c2:c3:c4`` (e.g. ``8:16:64:32:40``), or ``index``:
  the NATS-Bench size-space index 0..32767 (one of the two; both: they must agree);
* ``score``: the proxy's value, larger = better;
* ``dataset`` (optional): the dataset of each row; without it the whole file is the one
  dataset named on the command line (``--dataset``).

Every rejection is one line naming the fix. A file must score every architecture unless a
subset is declared (``subset=True``), and may hold NaN/inf (stored as missing) only when
missing values are declared (``allow_missing=True``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nas_harness.benchmarks.datasets import DATASET_NAMES, get_dataset
from nas_harness.benchmarks.errors import (
    DataIntegrityError,
    InvalidArchitectureError,
    UnknownNameError,
)
from nas_harness.benchmarks.proxies.columns import BUILTIN
from nas_harness.benchmarks.space import SSS

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
SUFFIXES = (".csv", ".parquet", ".pq")


@dataclass(frozen=True)
class ScoreFile:
    """A validated file: per dataset, a dense float64 column (NaN = not scored)."""

    name: str
    columns: dict[str, np.ndarray]
    subset: bool
    allow_missing: bool


def check_name(name: str) -> str:
    """A new proxy's name: lower-case identifier, not a built-in's."""
    if not NAME_PATTERN.match(name):
        raise DataIntegrityError(f"proxy name {name!r} must be a lower-case identifier "
                                 "(letters, digits, _; at most 32), e.g. zico")
    if name in BUILTIN:
        raise DataIntegrityError(f"{name!r} is a built-in proxy; give your scores another "
                                 "name, e.g. my_" + name)
    return name


def read_frame(path: Path) -> Any:
    """The file as a pandas DataFrame (CSV or Parquet by suffix)."""
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataIntegrityError(f"{path.name}: unknown format {suffix or '(no suffix)'}; "
                                 "give a .csv or .parquet file")
    if not path.is_file():
        raise DataIntegrityError(f"{path} does not exist or is not a file")
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        return pd.read_parquet(path)
    except Exception as exc:  # pandas raises many types on malformed input
        raise DataIntegrityError(f"{path.name} is not a readable {suffix[1:]} file "
                                 f"({type(exc).__name__}: {str(exc)[:120]})") from None


def _indices(frame: Any, where: str) -> np.ndarray:
    """Architecture indices of every row, from ``arch`` and/or ``index``."""
    if "arch" not in frame and "index" not in frame:
        raise DataIntegrityError(f"{where}: needs an 'arch' column (channel strings like "
                                 "8:16:64:32:40) or an 'index' column (0..32767)")
    from_index = None
    if "index" in frame:
        raw = frame["index"].to_numpy()
        if raw.dtype.kind not in "iu":
            raise DataIntegrityError(f"{where}: the 'index' column must hold integers "
                                     "(an empty cell or a fraction in it?)")
        bad = np.flatnonzero((raw < 0) | (raw >= SSS.size))
        if bad.size:
            raise DataIntegrityError(f"{where}: index {int(raw[bad[0]])} (row {int(bad[0])})"
                                     f" is outside 0..{SSS.size - 1}")
        from_index = raw.astype(np.int64)
    if "arch" not in frame:
        assert from_index is not None
        return from_index
    out = np.empty(len(frame), dtype=np.int64)
    for row, arch in enumerate(frame["arch"].tolist()):
        try:
            out[row] = SSS.parse(str(arch).strip())
        except InvalidArchitectureError as exc:
            raise DataIntegrityError(f"{where}: row {row}: {exc}") from None
    if from_index is not None and not np.array_equal(out, from_index):
        row = int(np.flatnonzero(out != from_index)[0])
        raise DataIntegrityError(f"{where}: row {row}: 'arch' {frame['arch'].iloc[row]} is "
                                 f"index {int(out[row])}, but 'index' says "
                                 f"{int(from_index[row])}; drop one of the two columns")
    return out


def _dense(idx: np.ndarray, score: np.ndarray, where: str, subset: bool,
           allow_missing: bool) -> np.ndarray:
    """One dataset's rows as a dense column, after the duplicate/missing/coverage checks."""
    uniq, counts = np.unique(idx, return_counts=True)
    if (counts > 1).any():
        dup = int(uniq[counts > 1][0])
        raise DataIntegrityError(f"{where}: architecture {SSS.format(dup)} (index {dup}) "
                                 f"appears {int(counts[counts > 1][0])} times; keep one row "
                                 "per architecture")
    bad = np.flatnonzero(~np.isfinite(score))
    if bad.size and not allow_missing:
        i = int(idx[bad[0]])
        raise DataIntegrityError(f"{where}: {bad.size} NaN/inf score(s), first for "
                                 f"{SSS.format(i)}; fix them, or declare them missing with "
                                 "--allow-missing")
    if len(uniq) < SSS.size and not subset:
        absent = np.setdiff1d(np.arange(SSS.size), uniq)
        raise DataIntegrityError(f"{where}: scores {len(uniq)} of {SSS.size} architectures "
                                 f"({absent.size} absent, first {SSS.format(int(absent[0]))});"
                                 " score all of them, or declare a subset with --subset")
    column = np.full(SSS.size, np.nan)
    column[idx] = np.where(np.isfinite(score), score, np.nan)
    if np.isnan(column).all():
        raise DataIntegrityError(f"{where}: no finite score at all")
    return column


def validate_scores(name: str, path: str | Path, dataset: str | None = None, *,
                    subset: bool = False, allow_missing: bool = False) -> ScoreFile:
    """Read and check a score file; every problem is a one-line ``DataIntegrityError``.

    Args:
        name: the proxy's name (``check_name``).
        path: a CSV or Parquet file (format in the module docstring).
        dataset: the dataset of a file without a ``dataset`` column (aliases accepted).
        subset: the file scores a declared subset of the architectures.
        allow_missing: NaN/inf scores are declared missing (stored as NaN).
    """
    check_name(name)
    file = Path(path).expanduser()
    frame = read_frame(file)
    where = file.name
    if "score" not in frame:
        raise DataIntegrityError(f"{where}: needs a 'score' column (larger = better); it has "
                                 f"{', '.join(map(str, frame.columns)) or 'no columns'}")
    if len(frame) == 0:
        raise DataIntegrityError(f"{where}: has no rows")
    score_raw = frame["score"].to_numpy()
    if score_raw.dtype.kind not in "fiu":
        raise DataIntegrityError(f"{where}: the 'score' column must be numbers (got "
                                 f"{score_raw.dtype}; a text cell in it?)")
    score = score_raw.astype(np.float64)
    idx = _indices(frame, where)
    if "dataset" in frame:
        labels = frame["dataset"].astype(str).to_numpy()
        names = np.empty(len(labels), dtype=object)
        for value in np.unique(labels):
            names[labels == value] = _known(value, where)
        if dataset is not None and {get_dataset(dataset).name} != set(names):
            raise DataIntegrityError(f"{where}: --dataset {dataset} disagrees with its "
                                     "'dataset' column; drop --dataset")
    elif dataset is None:
        raise DataIntegrityError(f"{where}: say which dataset it scores with --dataset "
                                 f"({', '.join(DATASET_NAMES)}) or a 'dataset' column")
    else:
        names = np.full(len(frame), _known(dataset, "--dataset"), dtype=object)
    columns = {}
    for ds in sorted(set(names)):
        rows = names == ds
        columns[ds] = _dense(idx[rows], score[rows], f"{where} ({ds})", subset, allow_missing)
    return ScoreFile(name, columns, subset, allow_missing)


def _known(value: str, where: str) -> str:
    try:
        return get_dataset(value).name
    except UnknownNameError as exc:
        raise DataIntegrityError(f"{where}: {exc}") from None
