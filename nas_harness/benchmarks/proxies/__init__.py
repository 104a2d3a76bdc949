"""Training-free proxies: per-architecture scores kept beside the benchmark table, never in it.

Built-in columns (``ntk``, ``naswot``, ``nasi`` from MONET's exports; ``params`` and ``flops``
from the table) and scores users bring (``nas-harness proxies add``) live in their own files
with their own sha256, so the table's checksum, and with it every stored run, is unchanged.
"""

from nas_harness.benchmarks.proxies.columns import (
    BUILTIN,
    ProxyColumn,
    ProxyMissingError,
    builtin_column,
)

__all__ = ["BUILTIN", "ProxyColumn", "ProxyMissingError", "builtin_column"]
