"""The settings a tuning evaluates: a grid, or published presets then random draws.

``grid`` gives every combination (at most the budget's configurations); otherwise the
algorithm's published presets whose values lie in the tunable parameters come first (so
published settings compete on the same terms), then settings drawn from the declared ranges
(``param(..., choices=... / low=, high=, log=)``) with the tuning's own seed, until there are
enough; a space with fewer settings than that is enumerated whole.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nas_harness.algorithms.params import (
    ParamError,
    ParamSpec,
    describe_params,
    params_to_dict,
    parse_params,
)
from nas_harness.algorithms.registry import presets_of, resolve_algorithm
from nas_harness.benchmarks.errors import HarnessError
from nas_harness.seeding import stable_words

__all__ = ["TUNING_MASTER_SEED", "TuningError", "candidate_configurations", "tunable_params"]

TUNING_MASTER_SEED = 9_000_009
"""Master seed of every tuning run; reported runs use another (0 by default, which is refused)."""


class TuningError(HarnessError, ValueError):
    """A tuning request that cannot be honoured (bad grid, budget, seed)."""


def tunable_params(cls: Any) -> list[ParamSpec]:
    """The parameters of ``cls`` that declare a range (the ones tuning may change)."""
    return [s for s in describe_params(cls.Params) if s.tunable]


def _round_sig(x: float, digits: int = 2) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return float(f"{x:.{digits}g}")


def _draw(spec: ParamSpec, rng: np.random.Generator) -> Any:
    values = spec.values()
    if values is not None:
        return values[int(rng.integers(0, len(values)))]
    assert spec.low is not None and spec.high is not None
    lo, hi = float(spec.low), float(spec.high)
    u = rng.random()
    x = math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo))) if spec.log \
        else lo + u * (hi - lo)
    if spec.annotation is int:
        return int(min(max(round(x), math.ceil(lo)), math.floor(hi)))
    return min(max(_round_sig(x), lo), hi)


def _finite_size(specs: Sequence[ParamSpec]) -> int | None:
    """How many settings the tunable space has, if every range is finite."""
    total = 1
    for spec in specs:
        values = spec.values()
        if values is not None:
            total *= len(values)
        elif spec.annotation is int and spec.low is not None and spec.high is not None:
            total *= int(math.floor(spec.high) - math.ceil(spec.low) + 1)
        else:
            return None
    return total


def _enumerate(specs: Sequence[ParamSpec]) -> list[dict[str, Any]]:
    axes = []
    for spec in specs:
        values = spec.values()
        if values is None:
            assert spec.low is not None and spec.high is not None
            values = tuple(range(math.ceil(spec.low), math.floor(spec.high) + 1))
        axes.append(values)
    return [dict(zip([s.name for s in specs], combo, strict=True))
            for combo in itertools.product(*axes)]


def _grid_configurations(cls: Any, grid: Mapping[str, Sequence[str]],
                         configurations: int) -> list[tuple[str, dict[str, Any]]]:
    keys = list(grid)
    axes = []
    for key in keys:
        values = [v for v in grid[key] if str(v).strip()]
        if not values:
            raise TuningError(f"--grid {key}= lists no values; give e.g. {key}=1,2,3")
        axes.append(values)
    combos = [dict(zip(keys, c, strict=True)) for c in itertools.product(*axes)]
    if len(combos) > configurations:
        raise TuningError(
            f"the grid has {len(combos)} configurations, more than the tuning budget's "
            f"{configurations} (--configs, the same for every algorithm); shrink the grid")
    out = []
    for combo in combos:
        typed = params_to_dict(parse_params(cls, combo))   # checks names and values
        out.append(("grid", {k: typed[k] for k in keys}))
    return out


def candidate_configurations(name: str, configurations: int,
                             grid: Mapping[str, Sequence[str]] | None = None,
                             seed: int = TUNING_MASTER_SEED) -> list[tuple[str, dict[str, Any]]]:
    """``[(origin, {param: value})]``: the settings a tuning of ``name`` evaluates, in order.

    Raises:
        TuningError: an empty or too large grid, or an algorithm with nothing to tune.
    """
    cls, _ = resolve_algorithm(name)
    if grid:
        return _grid_configurations(cls, grid, configurations)
    specs = tunable_params(cls)
    if not specs:
        raise TuningError(f"{name} declares no tunable parameter (no param(..., choices= / "
                          "low=, high=)); give --grid name=v1,v2 instead")
    names = [s.name for s in specs]
    size = _finite_size(specs)
    if size is not None and size <= configurations:
        return [("enumerated", c) for c in _enumerate(specs)]
    out: list[tuple[str, dict[str, Any]]] = []
    seen: set[tuple[Any, ...]] = set()
    defaults = params_to_dict(cls.Params())
    family = getattr(cls, "name", "") or name.partition(":")[0]
    for preset_name, preset in presets_of(cls).items():
        values = params_to_dict(parse_params(cls, dict(preset.params)))
        fixed_ok = all(values[k] == defaults[k] for k in values if k not in names)
        config = {k: values[k] for k in names}
        key = tuple(config.values())
        if fixed_ok and key not in seen and len(out) < configurations:
            seen.add(key)
            out.append((f"preset {family}:{preset_name}", config))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=stable_words("tune",
                                                                                    family)))
    tries = 0
    while len(out) < configurations and tries < 1000 * configurations:
        tries += 1
        config = {s.name: _draw(s, rng) for s in specs}
        try:
            typed = params_to_dict(parse_params(cls, config))
        except ParamError:
            continue                                           # a combination Params refuses
        config = {k: typed[k] for k in names}
        key = tuple(config.values())
        if key not in seen:
            seen.add(key)
            out.append(("random", config))
    return out
