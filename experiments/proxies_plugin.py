"""Registers the proxy-guided algorithms: guided-random, guided-evolution, guided-layernas.

They need a protocol with free signals (``--free-signals ntk``), so they stay out of the
default registry, whose every built-in the baseline sweep runs without any; load them with
``nas-harness run --plugin experiments/proxies_plugin.py`` (``experiments/proxies.toml``
does). The algorithms themselves are in ``nas_harness.algorithms.guided``.
"""

from nas_harness.algorithms.guided import GuidedEvolution, GuidedLayerNAS, GuidedRandom
from nas_harness.algorithms.registry import register


@register("guided-random")
class GuidedRandomSearch(GuidedRandom):
    """Random search over a uniform feasible sample, evaluated best-by-proxy first."""


@register("guided-evolution")
class GuidedRegularizedEvolution(GuidedEvolution):
    """Regularized evolution warm-started from the proxy's top feasible architectures."""


@register("guided-layernas")
class GuidedLayerNASSearch(GuidedLayerNAS):
    """LayerNAS expanding each layer's children in proxy order."""
