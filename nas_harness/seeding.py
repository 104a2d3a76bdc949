"""Seeds of runs: a pure function of the master seed and the run's identity.

A run's ``SeedSequence`` is ``SeedSequence(master_seed, spawn_key=(*words, run))`` where
``words`` are the first four 32-bit words of ``sha256("<algorithm>|<dataset>")``. That is what
``SeedSequence.spawn`` would produce for a child keyed by (algorithm, dataset, run), but it
depends on nothing else: not on the other runs of the sweep, their order, the process or
``PYTHONHASHSEED`` (Python's ``hash()`` is never used). The algorithm and the oracle draw from
two separate children (spawn keys ``(..., run, 0)`` and ``(..., run, 1)``), so a change in how
often the oracle draws (hp=12's random seed per query) never shifts the algorithm's stream.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

KEY_WORDS = 4  # 32-bit words of the hash in a spawn key: 128 bits, collisions are negligible
ALGORITHM_STREAM = 0
ORACLE_STREAM = 1


def stable_words(*parts: str) -> tuple[int, ...]:
    """The first ``KEY_WORDS`` big-endian uint32 words of ``sha256("a|b|...")``."""
    if any("|" in part for part in parts):
        raise ValueError(f"key parts may not contain '|': {parts!r}")
    digest = hashlib.sha256("|".join(parts).encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[4 * i: 4 * i + 4], "big") for i in range(KEY_WORDS))


@dataclass(frozen=True)
class RunSeeds:
    """The seed material of one run, as recorded in its sidecar.

    Attributes:
        entropy: the master seed (``SeedSequence`` entropy).
        spawn_key: the run's spawn key, ``(*stable_words(algorithm, dataset), run)``.
    """

    entropy: int
    spawn_key: tuple[int, ...]

    @property
    def sequence(self) -> np.random.SeedSequence:
        """The run's own ``SeedSequence``."""
        return np.random.SeedSequence(self.entropy, spawn_key=self.spawn_key)

    def child(self, stream: int) -> np.random.SeedSequence:
        """A child stream, exactly as ``self.sequence.spawn(stream + 1)[stream]`` would be."""
        return np.random.SeedSequence(self.entropy, spawn_key=(*self.spawn_key, stream))

    def algorithm_rng(self) -> np.random.Generator:
        """The Generator injected into the algorithm."""
        return np.random.Generator(np.random.PCG64(self.child(ALGORITHM_STREAM)))

    def oracle_rng(self) -> np.random.Generator:
        """The Generator of the oracle (hp=12's random seed per query)."""
        return np.random.Generator(np.random.PCG64(self.child(ORACLE_STREAM)))

    def to_dict(self) -> dict[str, object]:
        """JSON-able record of the seed material, for the sidecar."""
        return {
            "entropy": self.entropy,
            "spawn_key": list(self.spawn_key),
            "algorithm_spawn_key": [*self.spawn_key, ALGORITHM_STREAM],
            "oracle_spawn_key": [*self.spawn_key, ORACLE_STREAM],
        }


def run_seeds(master_seed: int, algorithm: str, dataset: str, run: int) -> RunSeeds:
    """The seeds of run ``run`` of ``algorithm`` on ``dataset`` under ``master_seed``."""
    if isinstance(master_seed, bool) or not isinstance(master_seed, (int, np.integer)) \
            or master_seed < 0:
        raise ValueError(f"the master seed must be a non-negative integer, got {master_seed!r}")
    if isinstance(run, bool) or not isinstance(run, (int, np.integer)) or run < 0:
        raise ValueError(f"the run index must be a non-negative integer, got {run!r}")
    return RunSeeds(int(master_seed), (*stable_words(algorithm, dataset), int(run)))
