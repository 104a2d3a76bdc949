"""Measure table load time and lookup throughput: ``python -m tools.speed.bench_lookup``.

Prints how long loading the cached table takes (from disk, and memoised in-process) and how
many accuracy lookups per second the oracle answers one index at a time and in batches, next
to raw numpy indexing of the table arrays. Uses ``load_table()``, so it needs the data
(``NAS_HARNESS_DATA``, or a table built with ``nas-harness data build`` / ``data fetch``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

import numpy as np


def _best_of(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    """Run the measurements and print one line per quantity."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--singles", type=int, default=20_000, help="single-index queries")
    parser.add_argument("--batch", type=int, default=1000, help="indices per batched query")
    parser.add_argument("--batches", type=int, default=200, help="batched queries")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    from nas_harness.benchmarks.data.store import clear_memo, load_table, read_table
    from nas_harness.benchmarks.oracle import Oracle
    from nas_harness.benchmarks.protocol import Protocol
    import_s = time.perf_counter() - start

    start = time.perf_counter()
    table = load_table()  # may build the table on a first run
    first_s = time.perf_counter() - start
    clear_memo()
    def load_from_cache() -> None:
        clear_memo()
        load_table()

    cached_s = _best_of(load_from_cache, 5)
    read_s = _best_of(read_table, 5)
    memo_s = _best_of(load_table, 50)
    data = table[args.dataset]
    rng = np.random.default_rng(args.seed)
    n = data.num_archs

    singles = rng.integers(0, n, size=args.singles).tolist()
    oracle = Oracle(data, Protocol(args.dataset, budget=args.singles, max_flops_fraction=0.5))
    start = time.perf_counter()
    for index in singles:
        oracle.evaluate(index)
    single_s = time.perf_counter() - start

    batches = rng.integers(0, n, size=(args.batches, args.batch))
    oracle = Oracle(data, Protocol(args.dataset, budget=batches.size, max_flops_fraction=0.5))
    start = time.perf_counter()
    for batch in batches:
        oracle.evaluate(batch)
    batch_s = time.perf_counter() - start

    start = time.perf_counter()
    for batch in batches:
        data.valid_acc[batch]
    raw_s = time.perf_counter() - start

    print(f"table: {table.provenance.builder}, checksum {table.provenance.checksum[:16]}...")
    print(f"import harness modules:                {import_s * 1e3:9.1f} ms")
    print(f"first load_table() in this process:    {first_s * 1e3:9.1f} ms")
    print(f"load_table() from cache (sources hashed): {cached_s * 1e3:6.1f} ms (best of 5)")
    print(f"read_table() Parquet + checksum:       {read_s * 1e3:9.1f} ms (best of 5)")
    print(f"load_table() memoised:                 {memo_s * 1e6:9.1f} us (best of 50)")
    print(f"Oracle.evaluate, 1 index per call:     {args.singles / single_s:12,.0f} lookups/s")
    print(f"Oracle.evaluate, {args.batch} per call:      "
          f"{batches.size / batch_s:12,.0f} lookups/s")
    print(f"raw valid_acc[batch] indexing:         {batches.size / raw_s:12,.0f} lookups/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
