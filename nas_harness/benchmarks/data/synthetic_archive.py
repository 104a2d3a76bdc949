"""A SYNTHETIC archive in the official NATS-Bench SSS format, for tests and speed measurements.

The official archive (``NATS-sss-v1_0-50262-simple``, ~1 GB) cannot ship with this project,
yet its builder must be tested and timed at full scale. This module writes an archive with
the official layout (``meta.pickle.pbz2`` plus one ``NNNNNN.pickle.pbz2`` per architecture,
optionally tarred under one top directory) and the official record structure (hp ``01``,
``12`` and ``90``; splits ``cifar10-valid``, ``cifar10``, ``cifar100``, ``ImageNet16-120``;
per-epoch accuracies, losses and times; ``flop``, ``params``, ``latency``), so records have
the real ones' size (~35 KB) and cost to read.

Values (all marked synthetic: ``meta['synthetic']`` describes the generator, and a table built
from it has ``provenance.synthetic`` and builder ``synthetic-archive``):

* hp=90 validation and test accuracy: the public hp=90 table (``load_table()``), unchanged;
* FLOPs and params: the exact cost model (so the builder's cost check passes);
* hp=12 validation accuracy of seed s: ``valid90 - GAP[d] + SIGMA[d] * z`` with ``z ~ N(0,1)``
  per (architecture, dataset, seed), clipped to [0, 100]. GAP and SIGMA are rough values read
  off the three official sample records (hp=12 sits ~9/12/5 points below hp=90; seeds differ
  by ~0.3/1.0/0.5 points on CIFAR-10/CIFAR-100/ImageNet16-120): **synthetic noise, not data**;
* for a fraction ``missing_seed_fraction`` of architectures one hp=12 seed of a dataset is
  absent (as a partially-run trial would be), so seed draws meet missing seeds;
* per-epoch training and evaluation times: ``(a + b * MFLOPs) * exp(0.05 z)`` with (a, b)
  again rough fits to the sample, equal for the three seeds as in the official records;
  latency ``0.013 + 2e-4 * MFLOPs`` seconds.

Every random number comes from ``numpy.random.default_rng([seed, dataset])``, so the archive
is the same bytes whatever the number of workers. :func:`synthetic_table` returns the table
those values make directly (what building the full archive gives, bit for bit), for tests
that need a complete hp=12 table without writing 32,768 files.
"""

from __future__ import annotations

import bz2
import io
import pickle
import tarfile
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nas_harness.benchmarks.cost_model import dataset_costs
from nas_harness.benchmarks.data.archive_reader import META_NAME, SYNTHETIC_KEY
from nas_harness.benchmarks.data.build_official import SYNTHETIC_BUILDER, default_workers
from nas_harness.benchmarks.datasets import DATASETS
from nas_harness.benchmarks.errors import ProtocolError
from nas_harness.benchmarks.space import SSS, SearchSpace
from nas_harness.benchmarks.table import HP12_SEEDS, BenchmarkTable, DatasetTable, TableProvenance

GAP = {"cifar10": 9.0, "cifar100": 12.0, "ImageNet16-120": 5.0}
SIGMA = {"cifar10": 0.3, "cifar100": 1.0, "ImageNet16-120": 0.5}
TRAIN_TIME = {"cifar10": (2.8, 0.03), "cifar100": (5.0, 0.05), "ImageNet16-120": (9.5, 0.45)}
EVAL_TIME = {"cifar10": (1.2, 0.01), "cifar100": (0.36, 0.002), "ImageNet16-120": (0.24, 0.005)}
TIME_NOISE = 0.05
EPOCHS = {"01": 1, "12": 12, "90": 90}
SPLITS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
EVAL_NAMES = {"cifar10-valid": ("x-valid", "ori-test"), "cifar10": ("ori-test",),
              "cifar100": ("x-valid", "x-test", "ori-test"),
              "ImageNet16-120": ("x-valid", "x-test", "ori-test")}
GENOTYPE = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
            "nor_conv_3x3~2|")
DEFAULT_NAME = "NATS-sss-SYNTHETIC-simple"
CHUNK = 256


@dataclass(frozen=True)
class SyntheticValues:
    """Per dataset, the numbers every synthetic record is written from (dense over indices)."""

    valid: dict[str, np.ndarray]
    test: dict[str, np.ndarray]
    flops: dict[str, np.ndarray]
    params: dict[str, np.ndarray]
    hp12: dict[str, np.ndarray]        # (n, 3), NaN = seed absent
    train_epoch: dict[str, np.ndarray]  # seconds per training epoch at hp=12
    eval_epoch: dict[str, np.ndarray]   # seconds per evaluation pass at hp=12
    latency: dict[str, np.ndarray]
    description: dict[str, Any]


def synthetic_values(public: BenchmarkTable | None = None, *, seed: int = 0,
                     missing_seed_fraction: float = 0.05,
                     space: SearchSpace = SSS) -> SyntheticValues:
    """The synthetic numbers of all architectures (see the module docstring for the model)."""
    if public is None:
        from nas_harness.benchmarks.data.store import load_table

        public = load_table()
    if not 0 <= missing_seed_fraction <= 1:
        raise ProtocolError(f"missing_seed_fraction must be in [0, 1], got "
                            f"{missing_seed_fraction!r}")
    n = space.size
    channels = space.channels(space.all_indices())
    out: dict[str, dict[str, np.ndarray]] = {k: {} for k in (
        "valid", "test", "flops", "params", "hp12", "train_epoch", "eval_epoch", "latency")}
    for d, name in enumerate(DATASETS):
        rng = np.random.default_rng([seed, d])
        table = public[name]
        if not table.is_complete:
            raise ProtocolError("the synthetic archive is derived from a complete hp=90 table; "
                                "load the public one (`nas-harness data fetch`)")
        flops, params = dataset_costs(channels, name)
        acc = table.valid_acc[:, None] - GAP[name] + SIGMA[name] * rng.standard_normal((n, 3))
        acc = np.clip(acc, 0.0, 100.0)
        drop = rng.random(n) < missing_seed_fraction
        which = rng.integers(0, len(HP12_SEEDS), size=n)
        acc[np.flatnonzero(drop), which[drop]] = np.nan
        a, b = TRAIN_TIME[name]
        c, e = EVAL_TIME[name]
        out["valid"][name] = table.valid_acc.astype(np.float64)
        out["test"][name] = table.test_acc.astype(np.float64)
        out["flops"][name] = np.asarray(flops, np.float64)
        out["params"][name] = np.asarray(params, np.int64)
        out["hp12"][name] = acc
        out["train_epoch"][name] = (a + b * flops) * np.exp(TIME_NOISE * rng.standard_normal(n))
        out["eval_epoch"][name] = (c + e * flops) * np.exp(TIME_NOISE * rng.standard_normal(n))
        out["latency"][name] = 0.013 + 2e-4 * np.asarray(flops, np.float64)
    description = {
        "generator": "nas_harness.benchmarks.data.synthetic_archive", "seed": int(seed),
        "missing_seed_fraction": float(missing_seed_fraction),
        "hp90_from": public.provenance.builder, "hp90_checksum": public.provenance.checksum,
        "note": "SYNTHETIC: hp=12 accuracies and times are generated noise, not NATS-Bench data",
    }
    return SyntheticValues(**out, description=description)


def _charge(train_epoch: np.ndarray, eval_epoch: np.ndarray, epochs: int = 12) -> np.ndarray:
    """The reader's ``simulate_train_eval`` time, vectorised in the same summation order."""
    train = np.zeros_like(train_epoch)
    valid = np.zeros_like(eval_epoch)
    for _ in range(epochs):
        train = train + train_epoch
        valid = valid + eval_epoch
    return train + valid / epochs


def synthetic_table(values: SyntheticValues | None = None, **kwargs: Any) -> BenchmarkTable:
    """The complete table a full synthetic archive builds into, made directly (fast)."""
    v = values if values is not None else synthetic_values(**kwargs)
    tables = {}
    for name in DATASETS:
        n = len(v.valid[name])
        charge = _charge(v.train_epoch[name], v.eval_epoch[name])
        hp12 = v.hp12[name]
        time = np.where(np.isnan(hp12), np.nan, charge[:, None])
        has777 = ~np.isnan(hp12[:, 0])
        train = np.zeros(n)
        evals = np.zeros(n)
        for _ in range(EPOCHS["12"]):
            train = train + v.train_epoch[name]
            evals = evals + v.eval_epoch[name]
        # the reader's latency: the mean over the hp=12 trials of the test split, summed in order
        trials = (np.full(n, len(HP12_SEEDS)) if DATASETS[name].test_split == "cifar10"
                  else (~np.isnan(hp12)).sum(axis=1))
        lat = v.latency[name]
        means = {1: lat, 2: (lat + lat) / 2, 3: (lat + lat + lat) / 3}
        latency = np.select([trials == k for k in means], list(means.values()), np.nan)
        tables[name] = DatasetTable(
            dataset=name, valid_acc=v.valid[name].copy(), test_acc=v.test[name].copy(),
            params=v.params[name].copy(), flops=v.flops[name].copy(),
            available=np.ones(n, dtype=bool), hp12_valid_acc=hp12.copy(),
            hp12_train_time=np.where(has777, train, np.nan),
            hp12_eval_time=np.where(has777, evals, np.nan),
            latency=latency, hp12_time=time)
    prov = TableProvenance(builder=SYNTHETIC_BUILDER,
                           sources={f"synthetic (seed {v.description['seed']})":
                                    str(v.description["hp90_checksum"])},
                           synthetic=True)
    return BenchmarkTable(datasets=tables, provenance=prov)


# -- records ------------------------------------------------------------------------------------
def _epoch_keys(name: str, epochs: int) -> list[str]:
    return [f"{name}@{e}" for e in range(epochs)]


def _curve(final: float, epochs: int) -> list[float]:
    """A rising curve that ends exactly at ``final`` (the last epoch is what gets read)."""
    return [final * (0.5 + 0.5 * (e + 1) / epochs) for e in range(epochs - 1)] + [final]


def _result(split: str, seed: int, hp: str, finals: dict[str, float], t_train: float,
            t_eval: float, flop: float, params: int, latency: float, arch: str,
            classes: int) -> dict[str, Any]:
    epochs = EPOCHS[hp]
    train_final = min(100.0, max(finals.values()) + 5.0)
    eval_acc: dict[str, float] = {}
    eval_times: dict[str, float] = {}
    eval_losses: dict[str, float] = {}
    for set_name in EVAL_NAMES[split]:
        keys = _epoch_keys(set_name, epochs)
        curve = _curve(finals[set_name], epochs)
        eval_acc.update(zip(keys, curve, strict=True))
        eval_times.update(dict.fromkeys(keys, t_eval))
        eval_losses.update(zip(keys, [3.0 - 0.02 * x for x in curve], strict=True))
    train_curve = _curve(train_final, epochs)
    return {
        "name": split,
        "train_acc1es": dict(enumerate(train_curve)),
        "train_acc5es": dict(enumerate([min(100.0, x + 20.0) for x in train_curve])),
        "train_losses": dict(enumerate([3.0 - 0.02 * x for x in train_curve])),
        "train_times": dict.fromkeys(range(epochs), t_train),
        "arch_config": {"name": "infer.shape.tiny", "channels": arch, "arch_str": arch,
                        "genotype": GENOTYPE, "class_num": classes},
        "params": params / 1e6, "flop": flop, "seed": seed, "epochs": epochs,
        "latency": [latency], "eval_names": list(EVAL_NAMES[split]),
        "eval_acc1es": eval_acc, "eval_times": eval_times, "eval_losses": eval_losses,
        "net_state_dict": None,
    }


def _dataset_of(split: str) -> str:
    return "cifar10" if split in ("cifar10-valid", "cifar10") else split


def make_record(values: dict[str, dict[str, Any]], index: int, arch: str) -> dict[str, Any]:
    """One architecture's record in the official structure, from its per-dataset numbers.

    ``values[dataset]`` holds ``valid, test, flops, params, hp12 (3 floats, NaN = absent),
    train_epoch, eval_epoch, latency`` of this architecture.
    """
    record: dict[str, Any] = {}
    for hp in ("01", "12", "90"):
        all_results: dict[tuple[str, int], Any] = {}
        dataset_seed: dict[str, list[int]] = {}
        for split in SPLITS:
            dname = _dataset_of(split)
            v = values[dname]
            classes = DATASETS[dname].num_classes
            if hp == "12":
                accs = list(v["hp12"])
                if split == "cifar10":  # trained on train+valid: its own (unused) numbers
                    base = [a for a in accs if a == a] or [v["valid"] - GAP[dname]]
                    accs = [min(100.0, base[0] + 0.5)] * len(HP12_SEEDS)
                seeds = [s for s, a in zip(HP12_SEEDS, accs, strict=True) if a == a]
                finals_by_seed = {s: a for s, a in zip(HP12_SEEDS, accs, strict=True) if a == a}
            elif hp == "90":
                seeds = [HP12_SEEDS[0]]
                finals_by_seed = {HP12_SEEDS[0]: v["valid"]}
            else:
                seeds = [HP12_SEEDS[0]]
                finals_by_seed = {HP12_SEEDS[0]: max(0.0, v["valid"] - 30.0)}
            dataset_seed[split] = seeds
            for s in seeds:
                acc = finals_by_seed[s]
                if hp == "90":
                    test = v["test"]
                    finals = {"x-valid": v["valid"], "x-test": test,
                              "ori-test": test if split == "cifar10" else (v["valid"] + test) / 2}
                else:
                    finals = {"x-valid": acc, "x-test": acc, "ori-test": acc}
                all_results[(split, s)] = _result(
                    split, s, hp, finals, v["train_epoch"], v["eval_epoch"], v["flops"],
                    v["params"], v["latency"], arch, classes)
        record[hp] = {"arch_index": index, "arch_str": arch, "all_results": all_results,
                      "dataset_seed": dataset_seed, "clear_net_done": True}
    return record


def _record_inputs(v: SyntheticValues, index: int) -> dict[str, dict[str, Any]]:
    return {name: {"valid": float(v.valid[name][index]), "test": float(v.test[name][index]),
                   "flops": float(v.flops[name][index]), "params": int(v.params[name][index]),
                   "hp12": v.hp12[name][index].tolist(),
                   "train_epoch": float(v.train_epoch[name][index]),
                   "eval_epoch": float(v.eval_epoch[name][index]),
                   "latency": float(v.latency[name][index])}
            for name in DATASETS}


def _encode(obj: Any) -> bytes:
    return bz2.compress(pickle.dumps(obj, protocol=4), 9)


def _make_chunk(items: list[tuple[int, str, dict[str, dict[str, Any]]]]) -> list[bytes]:
    """Worker task: the compressed records of a chunk of architectures."""
    return [_encode(make_record(inputs, index, arch)) for index, arch, inputs in items]


def spread_indices(count: int, space: SearchSpace = SSS) -> np.ndarray:
    """``count`` indices spread evenly over the index range (0 and the last included)."""
    if not 1 <= count <= space.size:
        raise ProtocolError(f"count must be in 1..{space.size}, got {count}")
    return np.unique(np.linspace(0, space.size - 1, count).round().astype(np.int64))


def write_archive(dest: str | Path, indices: Sequence[int] | np.ndarray | None = None, *,
                  tar: bool = False, workers: int | None = None,
                  values: SyntheticValues | None = None, space: SearchSpace = SSS,
                  progress: bool = False, **kwargs: Any) -> Path:
    """Write a synthetic archive and return its path.

    Args:
        dest: the archive directory to create (its name is the tar's top directory), or,
            with ``tar=True``, the ``.tar`` file to write.
        indices: architectures to include (default: all 32,768).
        tar: write one ``.tar`` (members ``<top>/meta.pickle.pbz2``, ``<top>/NNNNNN...``)
            instead of a directory.
        workers: processes compressing records (default: the CPU cores).
        values: the numbers (default: :func:`synthetic_values` with ``kwargs``).
        space: the search space.
        progress: show a tqdm bar.
        **kwargs: passed to :func:`synthetic_values` when ``values`` is not given.
    """
    v = values if values is not None else synthetic_values(space=space, **kwargs)
    idx = space.all_indices() if indices is None else np.unique(np.asarray(indices, np.int64))
    archs = space.format_many(space.all_indices())
    meta = {"meta_archs": list(archs), "total_archs": space.size, "arch2infos": None,
            "evaluated_indexes": set(), SYNTHETIC_KEY: dict(v.description)}
    dest = Path(dest)
    top = dest.name[:-4] if tar and dest.name.endswith(".tar") else dest.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    writer = _TarWriter(dest, top) if tar else _DirWriter(dest)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(idx), desc="synthetic records", unit="arch")
    try:
        writer.add(META_NAME, _encode(meta))
        for chunk, blobs in _generate(v, idx, archs, workers):
            for index, blob in zip(chunk, blobs, strict=True):
                writer.add(f"{int(index):06d}.pickle.pbz2", blob)
            if bar is not None:
                bar.update(len(chunk))
    finally:
        writer.close()
        if bar is not None:
            bar.close()
    return dest


def _generate(v: SyntheticValues, idx: np.ndarray, archs: Sequence[str],
              workers: int | None) -> Iterator[tuple[np.ndarray, list[bytes]]]:
    chunks = [idx[i:i + CHUNK] for i in range(0, len(idx), CHUNK)]
    tasks = ([(int(i), archs[int(i)], _record_inputs(v, int(i))) for i in chunk]
             for chunk in chunks)
    n_workers = default_workers() if workers is None else int(workers)
    if n_workers <= 1 or len(chunks) <= 1:
        for chunk, items in zip(chunks, tasks, strict=True):
            yield chunk, _make_chunk(items)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("forkserver")
    window = 2 * n_workers  # chunks in flight: bounds memory (~9 MB of records per chunk)
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=context) as pool:
        pending: deque = deque()
        for chunk, items in zip(chunks, tasks, strict=True):
            pending.append((chunk, pool.submit(_make_chunk, items)))
            if len(pending) >= window:
                done_chunk, future = pending.popleft()
                yield done_chunk, future.result()
        while pending:
            done_chunk, future = pending.popleft()
            yield done_chunk, future.result()


class _DirWriter:
    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root

    def add(self, name: str, data: bytes) -> None:
        (self.root / name).write_bytes(data)

    def close(self) -> None:
        pass


class _TarWriter:
    def __init__(self, path: Path, top: str) -> None:
        self.tar = tarfile.open(path, "w", format=tarfile.PAX_FORMAT)
        self.top = top

    def add(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(f"{self.top}/{name}")
        info.size = len(data)
        info.mode = 0o644
        info.mtime = 0  # same bytes on every run
        self.tar.addfile(info, io.BytesIO(data))

    def close(self) -> None:
        self.tar.close()
