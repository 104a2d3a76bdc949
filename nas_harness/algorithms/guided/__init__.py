"""Proxy-guided variants of random search, regularized evolution and LayerNAS.

Each reads one training-free proxy through ``context.signal(proxy)``, so it runs only under a
protocol that declares that proxy (``--free-signals``); otherwise its first ``ask`` fails
with a ``ProtocolError`` naming the flag. They are not in the default registry (the harness's
baseline sweep runs every registered built-in without free signals, which they refuse):
``experiments/proxies_plugin.py`` registers them as ``guided-random``, ``guided-evolution``
and ``guided-layernas`` for ``nas-harness run --plugin`` and ``experiments/proxies.toml``.
"""

from nas_harness.algorithms.guided.evolution import GuidedEvolution
from nas_harness.algorithms.guided.layernas import GuidedLayerNAS
from nas_harness.algorithms.guided.random_search import GuidedRandom

__all__ = ["GuidedEvolution", "GuidedLayerNAS", "GuidedRandom"]
