"""The algorithm registry: built-in modules, plugin files and entry points, by name.

``@register("name")`` puts a class in the registry. :func:`available_algorithms` imports
every module of the ``algorithms`` package and of its ``nas_harness.algorithms.adapters``
sub-package (so
dropping a file there adds a name) and the entry points of the group ``nas_harness.algorithms``;
:func:`load_plugin` imports a ``.py`` file from anywhere (the CLI's ``--plugin``).

Names are lower-case words, optionally ``family:variant`` (``optuna:tpe``, ``nevergrad:NGOpt``:
the variant keeps the library's own spelling). A family may also resolve variants on demand
(:func:`register_family`, e.g. any optimizer of Nevergrad's registry). A class whose optional
library is missing stays registered; :meth:`Algorithm.unavailable` says how to install it and
:func:`get_algorithm` refuses it with that one line.

A class may declare named parameter presets (``presets = {"natsbench": Preset({...},
"source")}``), usable wherever a name is as ``family:preset`` (e.g. ``evolution:natsbench``);
a registered name containing ``:`` (a library adapter such as ``optuna:tpe``) wins over a
preset of the same spelling.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import pkgutil
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.params import ParamError, params_to_dict, parse_params
from nas_harness.benchmarks.errors import HarnessError, UnknownNameError

__all__ = [
    "ENTRY_POINT_GROUP",
    "AlgorithmUnavailableError",
    "ParamError",
    "Preset",
    "RegistryError",
    "available_algorithms",
    "get_algorithm",
    "load_plugin",
    "params_to_dict",
    "parse_params",
    "presets_of",
    "register",
    "register_family",
    "resolve_algorithm",
    "resolve_params",
]

ENTRY_POINT_GROUP = "nas_harness.algorithms"
# modules of the package that hold no algorithm (besides private ``_*`` modules)
NON_ALGORITHM_MODULES = frozenset({"base", "registry", "params", "testing", "search_loop"})
# sub-packages whose modules are algorithm modules too (optional libraries behind ask/tell)
ALGORITHM_SUBPACKAGES = ("adapters",)
_NAME_RE = re.compile(r"^[a-z][a-z0-9_\-]*(:[A-Za-z][A-Za-z0-9_\-]*)?$")

_REGISTRY: dict[str, type[Algorithm]] = {}
_FAMILIES: dict[str, Callable[[str], type[Algorithm]]] = {}
_PLUGINS: dict[Path, list[str]] = {}
_discovered = False


class RegistryError(HarnessError, ValueError):
    """A name clash, a plugin that fails to import, or a class that is not an Algorithm."""


@dataclass(frozen=True)
class Preset:
    """A named set of parameter values with where they come from (a paper, a code base).

    Attributes:
        params: ``{name: value}`` overrides of the algorithm's defaults.
        source: where the values are published, shown by ``nas-harness list``.
    """

    params: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", dict(self.params))


def presets_of(cls: type[Algorithm]) -> dict[str, Preset]:
    """The presets an algorithm class declares (its ``presets`` class attribute), by name."""
    presets = getattr(cls, "presets", None) or {}
    return dict(presets)


class AlgorithmUnavailableError(RegistryError):
    """A registered algorithm whose optional library is not installed."""


def _source_of(cls: type) -> tuple[str, str] | None:
    try:
        return str(Path(inspect.getfile(cls)).resolve()), cls.__qualname__
    except (TypeError, OSError):
        return None


def register(name: str) -> Callable[[type[Algorithm]], type[Algorithm]]:
    """Class decorator: make an :class:`Algorithm` available under ``name``.

    Registering the same class again (or the same class from the same file imported under a
    second module name) is a no-op; a different class under a taken name raises.
    """
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise RegistryError(
            f"algorithm names are lower-case letters, digits, '_' and '-', starting with a "
            f"letter, optionally followed by ':variant' (e.g. optuna:tpe); got {name!r}"
        )

    def decorator(cls: type[Algorithm]) -> type[Algorithm]:
        if not (isinstance(cls, type) and issubclass(cls, Algorithm)):
            raise RegistryError(
                f"@register({name!r}) decorates {cls!r}, which is not a subclass of "
                "nas_harness.algorithms.base.Algorithm"
            )
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not cls:
            same_source = _source_of(existing) is not None and _source_of(existing) == \
                _source_of(cls)
            if not same_source:
                raise RegistryError(
                    f"algorithm name {name!r} is already taken by "
                    f"{existing.__module__}.{existing.__qualname__}; register "
                    f"{cls.__module__}.{cls.__qualname__} under another name"
                )
            return cls  # the same file imported twice: keep the first class
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorator


def register_family(family: str, resolve: Callable[[str], type[Algorithm]]) -> None:
    """Let ``family:<variant>`` names that are not registered be made on demand.

    ``resolve(variant)`` returns the class for ``family:variant`` (which is then registered)
    or raises a HarnessError naming the valid variants.
    """
    _FAMILIES[family] = resolve


def _algorithm_modules() -> list[str]:
    import nas_harness.algorithms as package_root

    names = []
    for info in pkgutil.iter_modules(package_root.__path__):
        if info.name.startswith("_") or info.name in NON_ALGORITHM_MODULES:
            continue
        if info.ispkg and info.name in ALGORITHM_SUBPACKAGES:
            package = importlib.import_module(f"nas_harness.algorithms.{info.name}")
            names += [f"nas_harness.algorithms.{info.name}.{sub.name}"
                      for sub in pkgutil.iter_modules(package.__path__)
                      if not sub.name.startswith("_")]
        elif not info.ispkg:
            names.append(f"nas_harness.algorithms.{info.name}")
    return names


def _discover_builtin() -> None:
    for full in _algorithm_modules():
        try:
            importlib.import_module(full)
        except HarnessError:
            raise
        except Exception as exc:
            raise RegistryError(f"algorithm module {full} failed to import: {exc!r}") from exc


def _discover_entry_points() -> None:
    # the ``group=`` selection exists from Python 3.10, the oldest the project supports
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:
            raise RegistryError(
                f"entry point {ep.name!r} = {ep.value!r} of group {ENTRY_POINT_GROUP!r} failed "
                f"to load: {exc!r}; fix or uninstall the package that declares it"
            ) from exc
        # a module registers itself on import; a class may come undecorated
        if isinstance(obj, type) and issubclass(obj, Algorithm) and obj not in _REGISTRY.values():
            register(ep.name)(obj)


def available_algorithms() -> dict[str, type[Algorithm]]:
    """Every registered algorithm by name (built-ins, entry points, loaded plugins), sorted."""
    global _discovered
    if not _discovered:
        _discover_builtin()
        _discover_entry_points()
        _discovered = True
    return dict(sorted(_REGISTRY.items()))


def get_algorithm(name: str) -> type[Algorithm]:
    """The class registered as ``name`` (of its family for ``family:preset``).

    The error lists the known names. Use :func:`resolve_algorithm` to get the preset's
    parameters too.

    Raises:
        UnknownNameError: no such algorithm or preset (the message lists the known names).
        AlgorithmUnavailableError: its optional library is missing (the message says how to
            install it).
    """
    return resolve_algorithm(name)[0]


def _usable(name: str, cls: type[Algorithm]) -> type[Algorithm]:
    """``cls``, unless its optional library is missing (then the install hint, one line)."""
    missing = cls.unavailable()
    if missing:
        raise AlgorithmUnavailableError(f"algorithm {name!r} is {missing}")
    return cls


def resolve_algorithm(name: str) -> tuple[type[Algorithm], dict[str, Any]]:
    """``name`` -> (class, preset parameters); ``{}`` for a plain registered name.

    ``family:preset`` names a preset of the family's class unless ``family:preset`` itself is
    registered (a library adapter), which wins; a family with a resolver
    (:func:`register_family`) makes its unregistered variants on demand.
    """
    algos = available_algorithms()
    family, sep, preset = name.partition(":") if isinstance(name, str) else ("", "", "")
    if name not in algos and sep and preset and family in _FAMILIES:
        register(name)(_FAMILIES[family](preset))
        algos = available_algorithms()
    if name in algos:
        return _usable(name, algos[name]), {}
    if sep and family in algos:
        presets = presets_of(algos[family])
        if preset not in presets:
            known = ", ".join(f"{family}:{p}" for p in presets) or "none"
            raise UnknownNameError(
                f"{family} has no preset {preset!r}; its presets: {known} "
                "(`nas-harness list` shows them with their sources)"
            )
        return _usable(family, algos[family]), dict(presets[preset].params)
    raise UnknownNameError(
        f"unknown algorithm {name!r}; known: {', '.join(algos) or 'none'}. An algorithm "
        "defined in your own file needs `--plugin path/to/file.py`"
    )


def resolve_params(name: str, overrides: Mapping[str, object] | None = None) -> Any:
    """The full ``Params`` of ``name`` (preset included) with ``overrides`` on top."""
    cls, preset = resolve_algorithm(name)
    return parse_params(cls, {**preset, **dict(overrides or {})})


class _PrefixedLines:
    """A text stream that writes each complete line to ``target`` with ``prefix`` in front."""

    def __init__(self, target: Any, prefix: str) -> None:
        self.target, self.prefix, self.pending = target, prefix, ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self.target.write(f"{self.prefix}{line}\n")
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.target.write(f"{self.prefix}{self.pending}\n")
            self.pending = ""
        self.target.flush()


def _exec_plugin(module: Any, loader: Any, file: Path) -> None:
    """Import the plugin; what it prints goes to stderr as ``plugin <file name>: <line>``."""
    import contextlib

    out = _PrefixedLines(sys.stderr, f"plugin {file.name}: ")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            loader.exec_module(module)
    finally:
        out.flush()


def load_plugin(path: str | Path) -> list[str]:
    """Import a plugin ``.py`` file; returns the names it registered (idempotent per file).

    The module is kept in ``sys.modules`` under a stable name, so its classes pickle within
    this process and in forked workers. What the plugin prints while it is imported is shown
    on stderr as its own (``plugin <file name>: ...``), apart from the harness's output; a
    plugin that exits (``sys.exit``) or fails at import is one RegistryError naming the file.
    """
    available_algorithms()  # built-ins first, so a plugin cannot shadow them silently
    file = Path(path).expanduser().resolve()
    if file in _PLUGINS:
        return list(_PLUGINS[file])
    if file.is_dir():
        raise RegistryError(f"plugin {str(path)!r} is a directory; give the Python (.py) file "
                            "that registers the algorithm")
    if not file.is_file():
        raise RegistryError(f"plugin file {str(path)!r} does not exist")
    if file.suffix != ".py":
        raise RegistryError(f"plugin {str(path)!r} is not a Python (.py) file")
    digest = hashlib.sha1(str(file).encode()).hexdigest()[:10]
    module_name = f"nas_harness_plugin_{re.sub(r'[^0-9a-zA-Z_]', '_', file.stem)}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:  # pragma: no cover - .py files always get a spec
        raise RegistryError(f"cannot import plugin {str(file)!r}")
    module = importlib.util.module_from_spec(spec)
    before = dict(_REGISTRY)

    def forget() -> None:
        sys.modules.pop(module_name, None)
        for name in set(_REGISTRY) - set(before):
            del _REGISTRY[name]

    sys.modules[module_name] = module
    try:
        _exec_plugin(module, spec.loader, file)
    except HarnessError:
        sys.modules.pop(module_name, None)
        raise
    except SystemExit as exc:
        forget()
        raise RegistryError(
            f"plugin {str(file)!r} exited at import (sys.exit({exc.code!r})); a plugin only "
            "defines and registers algorithms: remove the exit from its top level") from None
    except Exception as exc:
        forget()
        raise RegistryError(f"plugin {str(file)!r} failed to import: {exc!r}") from exc
    # names whose class comes from this file (also when it was imported before as a module)
    names = sorted(name for name, cls in _REGISTRY.items()
                   if (src := _source_of(cls)) is not None and src[0] == str(file))
    if not names:
        raise RegistryError(
            f"plugin {str(file)!r} registered no algorithm; decorate your Algorithm subclass "
            "with @register('name') from nas_harness.algorithms.registry"
        )
    _PLUGINS[file] = names
    return list(names)


def _forget(name: str) -> None:
    """Remove a name (tests only)."""
    _REGISTRY.pop(name, None)
