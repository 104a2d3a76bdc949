"""LayerNAS's expansion order measured: best-first (the harness's) against the order built.

Run: ``python -m tools.layernas_order [--budget 500] [--fraction 0.5]``. At hp=90 LayerNAS
with its defaults is deterministic given the accuracies, so one run per dataset is the whole
distribution. For each dataset and order it prints the queries charged, the final incumbent
(best feasible validation accuracy), the query at which that incumbent was first evaluated,
and whether the two orders evaluated the same set. Nothing here changes LayerNAS.
"""

from __future__ import annotations

import argparse

import numpy as np

from nas_harness.algorithms.layernas import LayerNAS
from nas_harness.algorithms.testing import drive
from nas_harness.benchmarks.data.store import load_table
from nas_harness.benchmarks.protocol import Protocol, SearchContext


class BuiltOrderLayerNAS(LayerNAS):
    """LayerNAS expanding the kept candidates in the order they were built, not best-first."""

    def _start_step(self) -> None:
        children = getattr(self, "_children", None)
        if self._step > 0 and children is not None and len(self._parents) > 1:
            pos = {int(c): i for i, c in enumerate(children.tolist())}
            self._parents = np.array(sorted(self._parents.tolist(), key=pos.__getitem__),
                                     dtype=np.int64)
        super()._start_step()


def measure(cls: type[LayerNAS], context: SearchContext, acc: np.ndarray, budget: int
            ) -> tuple[int, float, int, frozenset[int]]:
    """(queries, final incumbent accuracy, query reaching it, evaluated set) of one run."""
    asked = drive(cls(context, np.random.default_rng(0)), acc, budget)
    idx = np.concatenate(asked) if asked else np.empty(0, dtype=np.int64)
    feasible = context.flops[idx] <= context.max_flops
    scores = np.where(feasible, acc[idx], -np.inf)
    best = float(scores.max())
    return len(idx), best, int(np.argmax(scores == best)) + 1, frozenset(idx.tolist())


def main() -> None:
    """Print the comparison for every dataset."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=int, default=500)
    parser.add_argument("--fraction", type=float, default=0.5)
    args = parser.parse_args()
    table = load_table()
    print("dataset, order, queries, final best validation, query reaching it, same set")
    for ds in table.names:
        protocol = Protocol(ds, budget=args.budget, max_flops_fraction=args.fraction)
        context = SearchContext.for_protocol(table[ds], protocol)
        acc = np.asarray(table[ds].valid_acc)
        best = measure(LayerNAS, context, acc, args.budget)
        built = measure(BuiltOrderLayerNAS, context, acc, args.budget)
        same = best[3] == built[3]
        for name, r in (("best-first", best), ("built", built)):
            print(f"{ds}, {name}, {r[0]}, {r[1]:.3f}, {r[2]}, {same}")


if __name__ == "__main__":
    main()
