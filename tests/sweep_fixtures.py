"""Shared helpers of the sweep tests: a synthetic table and a plugin file of tiny algorithms.

The table is random but seeded (no benchmark data), so the sweep tests run anywhere; the
plugin is a real ``.py`` file so worker processes (pool, Dask) load it like a user's plugin.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import textwrap
from functools import lru_cache
from pathlib import Path

import numpy as np

from nas_harness.benchmarks.space import SSS
from nas_harness.benchmarks.table import BenchmarkTable, DatasetTable, TableProvenance

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


def synthetic_table(checksum: str = "synthetic-0") -> BenchmarkTable:
    """A full three-dataset table of random accuracies and channel-sum FLOPs."""
    n = SSS.size
    flops = SSS.channels(SSS.all_indices()).sum(axis=1).astype(np.float64)
    tables = {}
    for k, name in enumerate(DATASETS):
        rng = np.random.default_rng(100 + k)
        valid = rng.uniform(50, 90, n)
        tables[name] = DatasetTable(
            dataset=name, valid_acc=valid, test_acc=valid + rng.normal(0, 1, n),
            params=np.arange(n, dtype=np.int64) * 10, flops=flops,
            available=np.ones(n, dtype=bool),
            hp12_valid_acc=rng.uniform(40, 80, (n, 3)),
        )
    return BenchmarkTable(tables, TableProvenance("synthetic", {}, checksum=checksum))


PLUGIN_SOURCE = '''
"""Tiny algorithms for the sweep tests."""
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.registry import register


@register("t_random")
class TRandom(Algorithm):
    """Uniform proposals, ``batch`` at a time; ``sleep`` seconds per ask (to slow a sweep)."""

    @dataclass(frozen=True)
    class Params:
        batch: int = 1
        sleep: float = 0.0

    def ask(self, max_batch):
        if self.params.sleep:
            time.sleep(self.params.sleep)
        return self.rng.integers(0, 32768, size=min(self.params.batch, max_batch))

    def tell(self, indices, valid_acc):
        pass


@register("t_hill")
class THill(Algorithm):
    """Mutates the best architecture seen so far (uses what it is told)."""

    def __init__(self, context, rng, params=None):
        super().__init__(context, rng, params)
        self.best, self.best_acc = int(rng.integers(0, 32768)), -1.0

    def ask(self, max_batch):
        pos = self.context.space.positions(self.best).copy()
        layer = self.rng.integers(0, len(pos))
        pos[layer] = self.rng.integers(0, 8)
        return np.array([self.context.space.from_positions(pos)], dtype=np.int64)

    def tell(self, indices, valid_acc):
        i = int(np.argmax(valid_acc))
        if valid_acc[i] > self.best_acc and self.context.is_feasible(indices[i]):
            self.best, self.best_acc = int(indices[i]), float(valid_acc[i])


@register("t_flaky")
class TFlaky(Algorithm):
    """Raises on runs whose first draw is below ``p`` while a file FAIL lies beside this one."""

    @dataclass(frozen=True)
    class Params:
        p: float = 0.3

    def ask(self, max_batch):
        failing = Path(__file__).with_name("FAIL").exists()
        if self.rng.random() < self.params.p and failing:
            raise RuntimeError("t_flaky failed on purpose")
        return self.rng.integers(0, 32768, size=max_batch)

    def tell(self, indices, valid_acc):
        pass
'''


HOSTILE_PLUGIN_SOURCE = '''
"""An algorithm that breaks the rules in the way its ``mode`` names (isolation tests)."""
import os
import random
import signal
import sys
import time
from dataclasses import dataclass

import numpy as np

from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.registry import register


@register("t_hostile")
class THostile(Algorithm):
    """Uniform proposals, after doing ``mode`` on the first ask."""

    @dataclass(frozen=True)
    class Params:
        mode: str = "none"

    def ask(self, max_batch):
        mode = self.params.mode
        if mode == "sys_exit":
            sys.exit(3)
        if mode == "os_exit":
            os._exit(4)
        if mode == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "hang":
            while True:
                time.sleep(0.02)
        if mode == "np_random":
            np.random.seed(1)
        if mode == "py_random":
            random.random()
        if mode == "overflow":
            np.exp(np.array([1000.0]))
        if mode == "nan":
            np.array([np.inf]) - np.array([np.inf])
        return self.rng.integers(0, 32768, size=max_batch)

    def tell(self, indices, valid_acc):
        pass
'''


@lru_cache(maxsize=1)
def hostile_plugin_path() -> Path:
    """The file of ``t_hostile`` (its ``mode`` parameter picks the misbehaviour)."""
    directory = Path(tempfile.mkdtemp(prefix="nas-harness-test-hostile-"))
    atexit.register(shutil.rmtree, directory, True)
    path = directory / "hostile_algorithm.py"
    path.write_text(textwrap.dedent(HOSTILE_PLUGIN_SOURCE), encoding="utf-8")
    return path


@lru_cache(maxsize=1)
def plugin_path() -> Path:
    """The tiny algorithms' plugin file: one per test process, as the registry is global.

    Creating a file ``FAIL`` beside it makes ``t_flaky`` raise (remove it when done).
    """
    directory = Path(tempfile.mkdtemp(prefix="nas-harness-test-plugin-"))
    atexit.register(shutil.rmtree, directory, True)
    path = directory / "tiny_algorithms.py"
    path.write_text(textwrap.dedent(PLUGIN_SOURCE), encoding="utf-8")
    return path


def tree(out_dir: Path) -> dict[str, bytes]:
    """Every run file under ``out_dir`` (relative path -> bytes), sidecars without timing.

    The directory's lock file (``.nas-harness.lock``, empty, left in place) is not a result.
    """
    import json

    from nas_harness.benchmarks.run_files import TIMING_FIELD, sidecar_text

    files = {}
    for path in sorted(Path(out_dir).rglob("*")):
        if path.is_file() and path.name != ".nas-harness.lock":
            data = path.read_bytes()
            if path.suffix == ".json":
                record = json.loads(data)
                record.pop(TIMING_FIELD, None)
                data = sidecar_text(record).encode()
            files[str(path.relative_to(out_dir))] = data
    return files
