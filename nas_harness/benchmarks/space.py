"""The NATS-Bench size search space (SSS) and conversions between its encodings.

An architecture has three equivalent encodings:

* ``index``: an integer 0..32767, the position in ``itertools.product(options, repeat=5)``
  with the first layer most significant (``0 = 8:8:8:8:8``, ``32767 = 64:64:64:64:64``); this
  is the official NATS-Bench order (``meta_archs``) and the key of every lookup;
* ``channels``: the tuple of channel counts per layer, e.g. ``(8, 16, 64, 64, 32)``;
* ``string``: the channel tuple joined by ``:``, e.g. ``"8:16:64:64:32"``.

All conversions are vectorised: they accept arrays of indices or ``(n, layers)`` arrays of
channels and return numpy arrays, so algorithms never loop in Python over the space.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from nas_harness.benchmarks.errors import InvalidArchitectureError

CHANNEL_OPTIONS: tuple[int, ...] = (8, 16, 24, 32, 40, 48, 56, 64)
NUM_LAYERS = 5


def place_values(num_options: Sequence[int] | np.ndarray) -> np.ndarray:
    """The weight of each layer's option ordinal in an index: ``index = positions @ weights``.

    The first layer is the most significant digit (the official NATS-Bench order), so the
    weight of layer ``l`` is the product of the option counts of the layers after it. The one
    place the encoding is written: the space, the algorithms' index arithmetic and the
    adapters all use it. Read-only.
    """
    sizes = np.asarray(num_options, dtype=np.int64)
    weights = np.cumprod(np.r_[sizes[1:], 1][::-1])[::-1].astype(np.int64)
    weights.flags.writeable = False
    return weights


@dataclass(frozen=True)
class SearchSpace:
    """A product space: every layer picks one option; options are sorted ascending."""

    options: tuple[tuple[int, ...], ...]
    _weights: np.ndarray = field(init=False, repr=False, compare=False)
    _sizes: np.ndarray = field(init=False, repr=False, compare=False)
    _lookup: tuple[dict[int, int], ...] = field(init=False, repr=False, compare=False)
    _size: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.options or any(len(opts) == 0 for opts in self.options):
            raise ValueError("every layer needs at least one option")
        sizes = np.array([len(opts) for opts in self.options], dtype=np.int64)
        sizes.flags.writeable = False
        object.__setattr__(self, "_sizes", sizes)
        object.__setattr__(self, "_weights", place_values(sizes))
        lookup = tuple({value: pos for pos, value in enumerate(opts)} for opts in self.options)
        object.__setattr__(self, "_lookup", lookup)
        object.__setattr__(self, "_size", int(np.prod(sizes)))  # hot: checked on every query

    @property
    def num_layers(self) -> int:
        """Number of searchable layers."""
        return len(self.options)

    @property
    def num_options(self) -> tuple[int, ...]:
        """Number of options of each layer."""
        return tuple(len(opts) for opts in self.options)

    @property
    def sizes(self) -> np.ndarray:
        """Number of options of each layer as a read-only int64 array."""
        return self._sizes

    @property
    def weights(self) -> np.ndarray:
        """Place value of each layer's option ordinal (:func:`place_values`), read-only."""
        return self._weights

    @property
    def size(self) -> int:
        """Number of architectures in the space."""
        return self._size

    def all_indices(self) -> np.ndarray:
        """Every architecture index, ascending."""
        return np.arange(self.size, dtype=np.int64)

    # -- positions: option ordinal per layer (0..n_options-1) ---------------------------------
    def positions(self, indices: int | Sequence[int] | np.ndarray) -> np.ndarray:
        """Option ordinals per layer, shape ``(n, layers)`` (or ``(layers,)`` for a scalar)."""
        idx = self.check_indices(indices)
        return (idx[..., None] // self._weights) % self._sizes

    def from_positions(self, positions: Sequence[int] | np.ndarray) -> np.ndarray:
        """Indices of option ordinals ``(n, layers)``; inverse of :meth:`positions`."""
        pos = np.asarray(positions, dtype=np.int64)
        if pos.shape[-1] != self.num_layers:
            raise InvalidArchitectureError(
                f"expected {self.num_layers} layer positions, got shape {pos.shape}"
            )
        if np.any(pos < 0) or np.any(pos >= self._sizes):
            raise InvalidArchitectureError(
                f"option positions out of range 0..{int(self._sizes.max()) - 1}")
        return pos @ self._weights

    # -- channels -------------------------------------------------------------------------------
    def channels(self, indices: int | Sequence[int] | np.ndarray) -> np.ndarray:
        """Channel counts per layer, shape ``(n, layers)`` (or ``(layers,)`` for a scalar)."""
        pos = self.positions(indices)
        table = self._option_table()
        return np.take_along_axis(
            np.broadcast_to(table, (*pos.shape[:-1], *table.shape)),
            pos[..., None],
            axis=-1,
        )[..., 0]

    def index_of_channels(self, channels: Sequence[int] | np.ndarray) -> np.ndarray | int:
        """Index of a channel tuple, or indices of an ``(n, layers)`` array of them."""
        arr = np.asarray(channels, dtype=np.int64)
        if arr.ndim == 0 or arr.shape[-1] != self.num_layers:
            raise InvalidArchitectureError(
                f"an architecture has {self.num_layers} layers, got "
                f"{arr.shape[-1] if arr.ndim else 0} channel values: {channels!r}"
            )
        flat = arr.reshape(-1, self.num_layers)
        pos = np.empty_like(flat)
        for layer, opts in enumerate(self.options):
            sorted_opts = np.asarray(opts, dtype=np.int64)
            where = np.searchsorted(sorted_opts, flat[:, layer])
            where = np.minimum(where, len(opts) - 1)
            bad = sorted_opts[where] != flat[:, layer]
            if np.any(bad):
                value = int(flat[:, layer][bad][0])
                raise InvalidArchitectureError(
                    f"layer {layer + 1} has {value} channels; allowed: "
                    f"{', '.join(map(str, opts))}"
                )
            pos[:, layer] = where
        result = pos @ self._weights
        return int(result[0]) if arr.ndim == 1 else result.reshape(arr.shape[:-1])

    # -- strings --------------------------------------------------------------------------------
    def parse(self, arch: str) -> int:
        """Index of an architecture string ``c1:c2:...``; the error names what is wrong."""
        if not isinstance(arch, str):
            raise InvalidArchitectureError(f"expected a string like '8:16:24:32:64', got {arch!r}")
        parts = arch.strip().split(":")
        if len(parts) != self.num_layers:
            raise InvalidArchitectureError(
                f"{arch!r} has {len(parts)} layers; an SSS architecture has {self.num_layers} "
                f"channel counts joined by ':', e.g. '8:16:24:32:64'"
            )
        values = []
        for layer, part in enumerate(parts):
            try:
                values.append(int(part))
            except ValueError:
                raise InvalidArchitectureError(
                    f"layer {layer + 1} of {arch!r} is {part!r}, not an integer channel count"
                ) from None
        for layer, value in enumerate(values):
            if value not in self._lookup[layer]:
                raise InvalidArchitectureError(
                    f"layer {layer + 1} of {arch!r} has {value} channels; allowed: "
                    f"{', '.join(map(str, self.options[layer]))}"
                )
        return int(sum(self._lookup[layer][v] * int(self._weights[layer]) for layer, v in
                       enumerate(values)))

    def format(self, index: int) -> str:
        """The string ``c1:c2:...`` of one index."""
        return ":".join(str(int(c)) for c in self.channels(int(index)))

    def format_many(self, indices: Iterable[int] | np.ndarray) -> list[str]:
        """Strings of many indices (vectorised channel lookup, then one join per index)."""
        chans = self.channels(np.asarray(list(indices) if not isinstance(indices, np.ndarray)
                                         else indices, dtype=np.int64))
        return [":".join(map(str, row)) for row in chans.tolist()]

    def resolve(self, arch: int | str | Sequence[int]) -> int:
        """Index of an architecture given as index, string or channel tuple."""
        if isinstance(arch, str):
            return self.parse(arch)
        if isinstance(arch, (int, np.integer)):
            return int(self.check_indices(int(arch)))
        return int(self.index_of_channels(arch))

    # -- validation -----------------------------------------------------------------------------
    def check_indices(self, indices: int | Sequence[int] | np.ndarray) -> np.ndarray:
        """Indices as an int64 array; raises if any is outside ``0..size-1``."""
        idx = np.asarray(indices)
        if idx.dtype.kind not in "iu":
            if idx.dtype.kind == "f" and np.all(np.mod(idx, 1) == 0):
                idx = idx.astype(np.int64)
            else:
                raise InvalidArchitectureError(
                    f"architecture indices must be integers, got dtype {idx.dtype}"
                )
        idx = idx.astype(np.int64, copy=False)
        if idx.size and (idx.min() < 0 or idx.max() >= self.size):
            bad = int(idx[(idx < 0) | (idx >= self.size)].ravel()[0])
            raise InvalidArchitectureError(
                f"architecture index {bad} is outside 0..{self.size - 1}"
            )
        return idx

    def _option_table(self) -> np.ndarray:
        width = max(self.num_options)
        table = np.zeros((self.num_layers, width), dtype=np.int64)
        for layer, opts in enumerate(self.options):
            table[layer, : len(opts)] = opts
        return table


SSS = SearchSpace(options=tuple(CHANNEL_OPTIONS for _ in range(NUM_LAYERS)))
"""The NATS-Bench size search space: 5 layers x 8 channel options = 32,768 architectures."""
