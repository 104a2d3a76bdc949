"""Optimizer libraries behind the ask/tell interface: ``optuna:*``, ``nevergrad:*``, ``pyglove:*``.

Every module here registers its adapters on import, whether or not its library is installed;
without it, ``nas-harness list`` shows ``not installed: pip install nas-harness[<extra>]`` and a
run fails at planning time with that line. The rules all adapters share (seeding, charging,
infeasible proposals, pickling) live in :mod:`nas_harness.algorithms.adapters._base`; a third party
wraps
another library by subclassing :class:`LibraryAdapter` (docs/wrapping-a-library.md).
"""

from nas_harness.algorithms.adapters._base import (
    AdapterParams,
    InfeasibleLoopError,
    LibraryAdapter,
    private_numpy_global,
)

__all__ = ["AdapterParams", "InfeasibleLoopError", "LibraryAdapter", "private_numpy_global"]
