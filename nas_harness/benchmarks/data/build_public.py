"""Build the benchmark table from the public per-architecture exports (see ``sources.py``).

Columns and where they come from (hp=90, seed 777, all 32,768 architectures):

* ``valid_acc``: lightonai ``*_accs.npy`` = ``x-valid@89`` (CIFAR-10: ``cifar10-valid``);
* ``test_acc``: MONET CSV ``accuracy`` = ``get_more_info(..., hp='90')['test-accuracy']``;
* ``params``: MONET CSV ``num_param``, which must equal the closed-form cost model;
* ``flops``: the closed-form cost model (the public exports carry no FLOPs).

Every file is checked before use: sha256, shape, dtype, NaN, and the index order against
``arch_strings.npy``, the official ``meta_archs`` list (when present) and
``nas_harness.benchmarks.space``.
Nothing is guessed or filled in: any disagreement is a ``DataIntegrityError``.
"""

from __future__ import annotations

import bz2
import pickle
from pathlib import Path

import numpy as np

from nas_harness.benchmarks.cost_model import dataset_costs
from nas_harness.benchmarks.data.sources import (
    ARCH_STRINGS,
    FIX_HINT,
    LIGHTON_VALID,
    META_FILE,
    MONET_CSV,
    PUBLIC_FILES,
    sha256_of,
    verify,
)
from nas_harness.benchmarks.datasets import DATASET_NAMES
from nas_harness.benchmarks.errors import DataIntegrityError
from nas_harness.benchmarks.space import SSS, SearchSpace
from nas_harness.benchmarks.table import BenchmarkTable, DatasetTable, TableProvenance

BUILDER = "public-exports"
MONET_COLUMNS = ("index", "num_param", "accuracy")


def expected_arch_strings(space: SearchSpace = SSS) -> np.ndarray:
    """Channel strings of every index, in index order (the reference order)."""
    return np.asarray(space.format_many(space.all_indices()))


def check_order(name: str, strings: np.ndarray | list[str], space: SearchSpace = SSS) -> None:
    """Refuse a list of architecture strings that is not exactly the space's index order."""
    arr = np.asarray(strings)
    if arr.shape != (space.size,):
        raise DataIntegrityError(
            f"{name}: expected {space.size} architecture strings, got shape {arr.shape}; "
            f"{FIX_HINT}"
        )
    expected = expected_arch_strings(space)
    bad = np.flatnonzero(arr != expected)
    if bad.size:
        i = int(bad[0])
        raise DataIntegrityError(
            f"{name}: index order disagrees with the search space at {bad.size} position(s), "
            f"first at index {i}: {arr[i]!r} instead of {expected[i]!r}; {FIX_HINT}"
        )


def check_accuracy(name: str, values: np.ndarray, n: int) -> np.ndarray:
    """A float64 accuracy column of length ``n``, in percent, without NaN."""
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise DataIntegrityError(f"{name}: expected shape ({n},), got {arr.shape}; {FIX_HINT}")
    if arr.dtype.kind != "f":
        raise DataIntegrityError(f"{name}: expected float accuracies, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    nan = np.flatnonzero(~np.isfinite(arr))
    if nan.size:
        raise DataIntegrityError(
            f"{name}: {nan.size} missing (NaN/inf) accuracies, first at index {int(nan[0])}; "
            f"{FIX_HINT}"
        )
    if arr.min() < 0 or arr.max() > 100:
        raise DataIntegrityError(
            f"{name}: accuracies must be percentages in [0, 100], got "
            f"{arr.min():.4g}..{arr.max():.4g}"
        )
    return arr


def check_index_column(name: str, index: np.ndarray, n: int) -> None:
    """Refuse a CSV whose ``index`` column is not exactly ``0..n-1`` in order."""
    idx = np.asarray(index)
    if len(idx) != n:
        raise DataIntegrityError(f"{name}: expected {n} rows, got {len(idx)}; {FIX_HINT}")
    if idx.dtype.kind not in "iu":
        raise DataIntegrityError(f"{name}: the index column must be integers (NaN in it?)")
    uniq, counts = np.unique(idx, return_counts=True)
    if (counts > 1).any():
        dup = int(uniq[counts > 1][0])
        raise DataIntegrityError(f"{name}: index {dup} appears {int(counts.max())} times")
    missing = np.setdiff1d(np.arange(n), idx)
    if missing.size:
        raise DataIntegrityError(
            f"{name}: {missing.size} architecture index(es) missing, first {int(missing[0])}"
        )
    if not np.array_equal(idx, np.arange(n)):
        first = int(np.flatnonzero(idx != np.arange(n))[0])
        raise DataIntegrityError(
            f"{name}: rows are not in index order (row {first} holds index {int(idx[first])})"
        )


def read_monet_csv(path: Path, name: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(test_acc, num_param)`` of a MONET CSV after checking index, NaN and dtypes."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, usecols=list(MONET_COLUMNS))
    except ValueError as exc:  # a missing column
        raise DataIntegrityError(f"{name}: {exc}; {FIX_HINT}") from None
    for column in MONET_COLUMNS:
        if frame[column].isna().any():
            first = int(np.flatnonzero(frame[column].isna().to_numpy())[0])
            raise DataIntegrityError(
                f"{name}: column {column!r} has missing values (first in row {first}); "
                f"{FIX_HINT}"
            )
    check_index_column(name, frame["index"].to_numpy(), n)
    params = frame["num_param"].to_numpy()
    if params.dtype.kind not in "iu" or (params <= 0).any():
        raise DataIntegrityError(f"{name}: num_param must be positive integers")
    acc = check_accuracy(f"{name} accuracy", frame["accuracy"].to_numpy(), n)
    return acc, params.astype(np.int64)


def load_npy(path: Path) -> np.ndarray:
    """A ``.npy`` array without pickled objects."""
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise DataIntegrityError(f"{path}: not a plain numpy array ({exc}); {FIX_HINT}") from None


def load_meta_archs(path: Path) -> list[str]:
    """The official ``meta_archs`` list of a (checksum-verified) ``meta.pickle.pbz2``."""
    with bz2.open(path, "rb") as handle:
        # only sha256-verified files (or an archive the user chose) are unpickled
        meta = pickle.load(handle)
    if not isinstance(meta, dict) or "meta_archs" not in meta:
        raise DataIntegrityError(f"{path}: not a NATS-Bench meta file (no 'meta_archs')")
    return list(meta["meta_archs"])


def public_sources(data_dir: str | Path, *, checksums: bool = True) -> dict[str, str]:
    """``{relpath: sha256}`` of the files the public build reads (verified when asked)."""
    root = Path(data_dir)
    files = list(PUBLIC_FILES) + ([META_FILE] if (root / META_FILE).is_file() else [])
    if checksums:
        return verify(root, files)
    absent = [rel for rel in files if not (root / rel).is_file()]
    if absent:
        verify(root, absent)  # raises DataNotFoundError naming them
    return {rel: sha256_of(root / rel) for rel in files}


def build_from_public_exports(
    data_dir: str | Path, *, checksums: bool = True, space: SearchSpace = SSS
) -> BenchmarkTable:
    """The full hp=90 table of all three datasets from the public exports under ``data_dir``.

    Args:
        data_dir: the ``natsbench_sss`` directory (``monet/``, ``lightonai_.../``, optionally
            ``official_nats_bench_sample/``).
        checksums: verify each file's sha256 against the manifest. Turn off only for exports
            you produced yourself; every structural check still runs.
        space: the search space whose index order the files must follow.

    Raises:
        DataNotFoundError: a required file is missing.
        DataIntegrityError: a checksum, shape, NaN, index-order or params check failed.
    """
    root = Path(data_dir)
    sources = public_sources(root, checksums=checksums)
    n = space.size
    check_order(ARCH_STRINGS, load_npy(root / ARCH_STRINGS), space)
    if META_FILE in sources:
        check_order(f"{META_FILE} meta_archs", np.asarray(load_meta_archs(root / META_FILE)),
                    space)
    channels = space.channels(space.all_indices())
    tables: dict[str, DatasetTable] = {}
    for dataset in DATASET_NAMES:
        valid_name = LIGHTON_VALID[dataset]
        valid = check_accuracy(valid_name, load_npy(root / valid_name), n)
        csv_name = MONET_CSV[dataset]
        test, params = read_monet_csv(root / csv_name, csv_name, n)
        flops, model_params = dataset_costs(channels, dataset)
        wrong = np.flatnonzero(model_params != params)
        if wrong.size:
            i = int(wrong[0])
            raise DataIntegrityError(
                f"{csv_name}: num_param disagrees with the cost model for {wrong.size} "
                f"architecture(s), first index {i} ({space.format(i)}): {int(params[i])} in "
                f"the file, {int(model_params[i])} computed; {FIX_HINT}"
            )
        tables[dataset] = DatasetTable(
            dataset=dataset,
            valid_acc=valid.copy(),
            test_acc=test.copy(),
            params=params.copy(),
            flops=np.asarray(flops, dtype=np.float64).copy(),
            available=np.ones(n, dtype=bool),
        )
    provenance = TableProvenance(builder=BUILDER, sources=dict(sorted(sources.items())))
    return BenchmarkTable(datasets=tables, provenance=provenance)
