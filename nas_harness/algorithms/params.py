"""Declared algorithm parameters: describe, parse (``name=value``) and record them.

An algorithm declares its parameters as a frozen dataclass ``Params`` whose fields carry
defaults; :func:`param` adds a one-line help and the source of the default as field
metadata, so the CLI can list them and the results can record them.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

import numpy as np

from nas_harness.benchmarks.errors import HarnessError, UnknownNameError

if TYPE_CHECKING:  # typing only: the import graph at run time stays as it was
    from nas_harness.algorithms.base import Algorithm

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f"}


class ParamError(HarnessError, ValueError):
    """A parameter value that cannot be converted to its declared type or is out of range."""


def param(default: Any, help: str, source: str = "", *, choices: Sequence[Any] | None = None,
          low: float | None = None, high: float | None = None, log: bool = False) -> Any:
    """A dataclass field with a default, a one-line ``help`` and the ``source`` of the default.

    ``choices`` or ``low``/``high`` (log-spaced with ``log``) declare the range the tuning
    protocol (``nas-harness tune``) may search; a field without a range is never tuned.
    ``bool`` and ``Literal`` fields may give ``choices=()`` to mean "every value of the type".
    """
    if (low is None) != (high is None):
        raise ParamError("param(): give both low and high, or neither")
    if low is not None and high is not None and (not low <= high or (log and low <= 0)):
        raise ParamError(f"param(): bad range low={low!r}, high={high!r}, log={log}")
    metadata: dict[str, Any] = {"help": help, "source": source}
    if choices is not None:
        metadata["choices"] = tuple(choices)
    if low is not None:
        metadata["range"] = (low, high, bool(log))
    return dataclasses.field(default=default, metadata=metadata)


class _Required:
    """The default of a field declared without one (prints as ``<required>``)."""

    def __repr__(self) -> str:
        return "<required>"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class ParamSpec:
    """One declared parameter, as the CLI lists it."""

    name: str
    type_name: str
    default: Any
    help: str
    source: str
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    annotation: Any = None

    @property
    def tunable(self) -> bool:
        """Whether the declaration gives a range the tuning protocol may search."""
        return self.choices is not None or self.low is not None

    def values(self) -> tuple[Any, ...] | None:
        """The finite set of values of a ``choices`` range (``()``: every value of the type)."""
        if self.choices is None:
            return None
        if self.choices:
            return self.choices
        if self.annotation is bool:
            return (False, True)
        if get_origin(self.annotation) is Literal:
            return tuple(get_args(self.annotation))
        raise ParamError(f"{self.name}: choices=() needs a bool or Literal type")


def _hints(params_cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(params_cls)
    except Exception:  # unresolvable annotation: fall back to the raw strings
        return {f.name: f.type for f in dataclasses.fields(params_cls)}


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return "{" + ",".join(str(a) for a in get_args(tp)) + "}"
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in get_args(tp))
    if origin is tuple:
        args = [a for a in get_args(tp) if a is not Ellipsis]
        return f"tuple[{_type_name(args[0]) if args else 'Any'}, ...]"
    if tp is type(None):
        return "None"
    return getattr(tp, "__name__", str(tp))


def describe_params(params_cls: type) -> list[ParamSpec]:
    """The declared parameters of a ``Params`` dataclass, in declaration order."""
    if not dataclasses.is_dataclass(params_cls):
        return []
    hints = _hints(params_cls)
    specs = []
    for f in dataclasses.fields(params_cls):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = REQUIRED
        low, high, log = f.metadata.get("range", (None, None, False))
        specs.append(ParamSpec(f.name, _type_name(hints.get(f.name, Any)), default,
                               str(f.metadata.get("help", "")), str(f.metadata.get("source", "")),
                               f.metadata.get("choices"), low, high, log,
                               hints.get(f.name, Any)))
    return specs


def default_text(default: Any) -> str:
    """``default 0.1``, or ``required (no default)`` for a field declared without one."""
    if default is REQUIRED:
        return "required (no default)"
    return f"default {default!r}"


def _convert(value: Any, tp: Any, name: str) -> Any:
    """``value`` (a CLI string or a Python value) converted to the declared type ``tp``."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if type(None) in args and (value is None or (isinstance(value, str)
                                                     and value.strip().lower() == "none")):
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, name)
            except ParamError as exc:
                errors.append(str(exc))
        raise ParamError(errors[0] if errors else f"{name}: cannot convert {value!r}")
    if origin is Literal:
        choices = get_args(tp)
        for choice in choices:
            if value == choice or (isinstance(value, str) and str(choice) == value.strip()):
                return choice
        raise ParamError(f"{name} must be one of {', '.join(map(str, choices))}; got {value!r}")
    if origin is tuple:
        item_args = [a for a in get_args(tp) if a is not Ellipsis]
        item_tp = item_args[0] if item_args else str
        items = ([s for s in value.split(",") if s.strip()] if isinstance(value, str)
                 else list(value))
        return tuple(_convert(item, item_tp, name) for item in items)
    if tp is bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ParamError(f"{name} must be true or false; got {value!r}")
    if tp is int:
        if isinstance(value, (bool, np.bool_)):
            raise ParamError(f"{name} must be an integer; got {value!r}")
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ParamError(f"{name} must be an integer; got {value!r}")
    if tp is float:
        if isinstance(value, (bool, np.bool_)):
            raise ParamError(f"{name} must be a number; got {value!r}")
        number = None
        if isinstance(value, (int, float, np.integer, np.floating)):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                pass
        if number is None:
            raise ParamError(f"{name} must be a number; got {value!r}")
        if not math.isfinite(number):  # inf/nan would only surface as NaN results later
            raise ParamError(f"{name} must be a finite number; got {value!r}")
        return number
    if tp is str:
        if isinstance(value, str):
            return value.strip()
        raise ParamError(f"{name} must be a string; got {value!r}")
    return value  # an undeclared or exotic type: passed through unchanged


def _split_assignments(assignments: Sequence[str] | Mapping[str, object]) -> dict[str, object]:
    if isinstance(assignments, Mapping):
        return dict(assignments)
    if isinstance(assignments, str):
        assignments = [assignments]
    out: dict[str, object] = {}
    for item in assignments:
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip():
            raise ParamError(f"parameter assignments look like name=value; got {item!r}")
        out[key.strip().replace("-", "_")] = value
    return out


def parse_params(algorithm_cls: type[Algorithm],
                 assignments: Sequence[str] | Mapping[str, object]) -> Any:
    """``["population_size=20"]`` (or a mapping) -> ``algorithm_cls.Params(...)``, type-checked.

    Raises:
        UnknownNameError: a name that is not a declared parameter (the message lists them).
        ParamError: a value that does not convert or that the dataclass refuses.
    """
    params_cls = algorithm_cls.Params
    label = getattr(algorithm_cls, "name", "") or algorithm_cls.__name__
    specs = {s.name: s for s in describe_params(params_cls)}
    valid = ", ".join(f"{s.name} ({s.type_name}, {default_text(s.default)})"
                      for s in specs.values()) or "none"
    hints = _hints(params_cls) if dataclasses.is_dataclass(params_cls) else {}
    values = {}
    for key, raw in _split_assignments(assignments).items():
        if key not in specs:
            raise UnknownNameError(
                f"{label} has no parameter {key!r}; its parameters are: {valid}"
            )
        try:
            values[key] = _convert(raw, hints.get(key, Any), key)
        except ParamError as exc:
            raise ParamError(f"{label}: {exc}. Parameters: {valid}") from None
    required = [s.name for s in specs.values()
                if s.default is REQUIRED and s.name not in values]
    if required:
        raise ParamError(f"{label}: parameter {', '.join(required)} has no default; give it "
                         f"with --param {required[0]}=VALUE (or give the field a default in "
                         f"its Params). Parameters: {valid}")
    try:
        return params_cls(**values)
    except (TypeError, ValueError) as exc:
        raise ParamError(f"{label}: invalid parameters ({exc}). Parameters: {valid}") from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (tuple, list, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def params_to_dict(params: Any) -> dict[str, object]:
    """A JSON-friendly ``{name: value}`` of a ``Params`` instance (for results metadata)."""
    if params is None:
        return {}
    if not dataclasses.is_dataclass(params):
        raise ParamError(f"expected a Params dataclass instance, got {type(params).__name__}")
    return {f.name: _jsonable(getattr(params, f.name)) for f in dataclasses.fields(params)}


def check(condition: bool, message: str) -> None:
    """Raise ``ParamError(message)`` unless ``condition``; for ``Params.__post_init__``."""
    if not condition:
        raise ParamError(message)
