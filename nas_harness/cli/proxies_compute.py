"""``nas-harness proxies compute synflow``: resumable computation, stored as the proxy synflow.

Scores go to a work file per dataset (``<cache>/proxies/work/synflow-<dataset>.csv``) one
architecture at a time, so an interrupted run loses at most the architecture in progress and
the same command continues. After each dataset, everything computed so far is validated like
any user file and stored as the proxy ``synflow`` (a declared subset until all 32,768 are
done).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nas_harness.benchmarks.datasets import get_dataset
from nas_harness.benchmarks.errors import UnknownNameError
from nas_harness.benchmarks.proxies import synflow as sf
from nas_harness.benchmarks.proxies.store import StoredProxy, save_scores, store_dir
from nas_harness.benchmarks.proxies.user_scores import validate_scores
from nas_harness.benchmarks.space import SSS

COMPUTABLE = ("synflow",)


def work_file(dataset: str, cache: str | Path | None = None) -> Path:
    """The resumable work file of one dataset."""
    return store_dir(cache) / "work" / f"synflow-{get_dataset(dataset).name}.csv"


def _timed(index: int, dataset: str) -> tuple[int, float, float]:
    """One architecture's score and the seconds it took (runs in a worker process)."""
    start = time.perf_counter()
    score = sf.synflow(index, dataset)
    return index, score, time.perf_counter() - start


def _one_thread() -> None:
    """Worker initialiser: one torch thread per process, so workers do not oversubscribe."""
    torch, _ = sf.require()
    if torch is not None:
        torch.set_num_threads(1)


def compute(name: str, datasets: Sequence[str], limit: int | None, *, progress: bool = True,
            cache: str | Path | None = None, workers: int = 1,
            scheduler: Any = None) -> tuple[StoredProxy, dict[str, float]]:
    """Compute what is missing of the first ``limit`` architectures (all: None), then store.

    ``workers`` > 1 spreads architectures over that many processes (one torch thread each);
    ``scheduler`` (a Dask scheduler address, or a ``distributed.Client``) sends them to a
    Dask cluster instead, whose workers need nas-harness, torch and xautodl. Scores are
    written as they arrive, so the work file is resumable either way, and each
    score is the same whatever the worker count (every network is seeded on its own).
    Returns the stored proxy and, per dataset, the mean seconds per architecture computed now.
    """
    from nas_harness.progress import progress_bar

    if name not in COMPUTABLE:
        raise UnknownNameError(f"only {', '.join(COMPUTABLE)} can be computed here; add "
                               f"scores computed elsewhere with `nas-harness proxies add "
                               f"{name} FILE`")
    sf.require()
    order = sf.compute_order() if limit is None else sf.compute_order()[:limit]
    timing: dict[str, float] = {}
    for ds in (get_dataset(d).name for d in datasets):
        path = work_file(ds, cache)
        done = sf.read_work(path)
        todo = [int(i) for i in order if int(i) not in done]
        bar = progress_bar(len(todo), f"synflow {ds}", enabled=progress)
        spent = 0.0
        results = (_dask_results(todo, ds, scheduler) if scheduler is not None
                   else _results(todo, ds, workers))
        for index, score, seconds in results:
            spent += seconds
            sf.append_work(path, index, score, seconds)
            bar.update(1)
        bar.close()
        if todo:
            timing[ds] = spent / len(todo)
    return store_computed(cache), timing


def _results(todo: list[int], dataset: str, workers: int) -> Iterator[tuple[int, float, float]]:
    """``(index, score, seconds)`` of every architecture, in this process or in ``workers``."""
    if workers <= 1 or len(todo) <= 1:
        _one_thread()  # torch's own threads slow a shared machine down (measured: 8x)
        yield from (_timed(i, dataset) for i in todo)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=workers, initializer=_one_thread) as pool:
        futures = [pool.submit(_timed, i, dataset) for i in todo]
        for future in as_completed(futures):
            yield future.result()


def _dask_results(todo: list[int], dataset: str,
                  scheduler: Any) -> Iterator[tuple[int, float, float]]:
    """``(index, score, seconds)`` of every architecture, computed on a Dask cluster."""
    from distributed import Client, as_completed

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        futures = client.map(_timed, todo, dataset=dataset, pure=False)
        for _, result in as_completed(futures, with_results=True):
            yield result
    finally:
        if client is not scheduler:
            client.close()


def store_computed(cache: str | Path | None = None) -> StoredProxy:
    """Validate every work file together and store it as the proxy ``synflow``."""
    frames = []
    for path in sorted((store_dir(cache) / "work").glob("synflow-*.csv")):
        scores = sf.read_work(path)
        dataset = path.stem.removeprefix("synflow-")
        frames.append(pd.DataFrame({"dataset": dataset, "index": list(scores),
                                    "score": list(scores.values())}))
    combined = store_dir(cache) / "work" / "synflow.csv"
    pd.concat(frames).to_csv(combined, index=False, float_format="%.17g", lineterminator="\n")
    frame = pd.read_csv(combined)
    complete = frame.groupby("dataset").size().min() == SSS.size
    validated = validate_scores("synflow", combined, subset=not complete)
    return save_scores(validated, combined, cache, replace=True)


def write_record(path: Path, datasets: Sequence[str], limit: int,
                 cache: str | Path | None = None) -> list[Path]:
    """The committed record: the first ``limit`` architectures' scores, timing, versions."""
    rows = []
    seconds = {}
    order = sf.compute_order()[:limit]
    for ds in (get_dataset(d).name for d in datasets):
        work = pd.read_csv(work_file(ds, cache)).drop_duplicates("index").set_index("index")
        picked = work.loc[order]
        seconds[ds] = float(picked["seconds"].median())
        rows += [{"dataset": ds, "index": int(i), "arch": SSS.format(int(i)),
                  "score": float(picked.at[int(i), "score"])} for i in order]
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False, float_format="%.17g", lineterminator="\n")
    meta = {"proxy": "synflow", "architectures": limit, "order_seed": sf.ORDER_SEED,
            "init_seed": sf.SEED, **sf.versions(),
            "median_seconds_per_architecture": {k: round(v, 3) for k, v in seconds.items()},
            "definition": "nas_harness.benchmarks.proxies.synflow"}
    side = path.with_suffix(".json")
    side.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return [path, side]


def record_scores(path: Path) -> dict[str, np.ndarray]:
    """A record's scores as dense columns per dataset (NaN outside the record)."""
    frame = pd.read_csv(path)
    out = {}
    for ds, rows in frame.groupby("dataset"):
        column = np.full(SSS.size, np.nan)
        column[rows["index"].to_numpy()] = rows["score"].to_numpy()
        out[str(ds)] = column
    return out
