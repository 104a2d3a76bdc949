"""Experiments as files: a TOML file names everything a sweep runs and where it goes.

``nas-harness run FILE.toml`` runs it, ``nas-harness report FILE.toml`` reports exactly its
runs (its algorithms, datasets and run indices, whatever else sits in its output directory),
and ``nas-harness reproduce`` is ``experiments/paper.toml``. Relative paths in a file
(``output``, ``report``, ``plugins``) are relative to the file, so an experiment means the
same thing from any working directory. The format::

    name = "my-study"                  # optional (default: the file's stem)
    output = "../runs/my-study"        # where the runs go (required)
    report = "../reports/my-study"     # optional (default: <output>/report)
    datasets = ["cifar10", "cifar100"] # or "all"
    runs = 100
    master_seed = 0
    plugins = ["../examples/my_algorithm.py"]   # optional

    [protocol]                         # optional; these are the defaults
    budget = 500
    fidelity = "90"
    max_flops_fraction = 0.5           # or "none"

    [[algorithms]]
    name = "evolution"                 # registry name ("family:preset" names a preset)
    preset = "natsbench"               # optional, same as name = "evolution:natsbench"
    label = "evolution-p20"            # optional (default: the name)
    params = { population_size = 20 }  # optional
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas_harness.benchmarks.datasets import DATASET_NAMES
from nas_harness.benchmarks.errors import ProtocolError
from nas_harness.benchmarks.protocol import DEFAULT_BUDGET, DEFAULT_FLOPS_FRACTION
from nas_harness.experiment import AlgorithmSpec, SweepSpec, reproduce_spec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "PAPER_EXPERIMENT",
    "Experiment",
    "load_experiment",
    "paper_experiment",
    "parse_experiment",
]

PAPER_EXPERIMENT = Path(__file__).resolve().parents[1] / "experiments" / "paper.toml"
"""The committed paper experiment (``nas-harness reproduce``)."""

_TOP_KEYS = frozenset({"name", "description", "output", "report", "datasets", "runs",
                       "master_seed", "plugins", "protocol", "algorithms"})
_ALGORITHM_KEYS = frozenset({"name", "preset", "label", "params"})
_PROTOCOL_CORE = ("budget", "fidelity", "max_flops_fraction")


@dataclass(frozen=True)
class Experiment:
    """A sweep with its places: the spec, the runs directory, the report directory, plugins.

    Attributes:
        name: the experiment's name.
        spec: what runs.
        output: the runs directory.
        report_dir: where ``nas-harness report`` writes (default ``<output>/report``).
        plugins: plugin files the algorithms need.
        path: the file it was read from (None for a built-in experiment).
    """

    name: str
    spec: SweepSpec
    output: Path
    report_dir: Path
    plugins: tuple[Path, ...] = ()
    path: Path | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        """The algorithm labels, i.e. the result directories of this experiment."""
        return tuple(a.label for a in self.spec.algorithms)

    def selection(self) -> dict[str, Any]:
        """Keyword arguments that restrict a report to this experiment's runs."""
        return {"algorithms": self.labels, "datasets": self.spec.datasets,
                "runs": self.spec.runs}


def _where(source: str, key: str) -> str:
    return f"{source}: {key}"


def _check_keys(table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ProtocolError(f"{where} has unknown key(s) {', '.join(map(repr, unknown))}; "
                            f"the keys are: {', '.join(sorted(allowed))}")


def _path(value: Any, base: Path, where: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise ProtocolError(f"{where} must be a non-empty path (relative to the experiment "
                            f"file), got {value!r}")
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path(os.path.normpath(base / path))


def _algorithm(item: Any, index: int, source: str) -> AlgorithmSpec:
    where = _where(source, f"algorithms[{index}]")
    if isinstance(item, str):
        return AlgorithmSpec(item)
    if not isinstance(item, Mapping):
        raise ProtocolError(f"{where} must be a table with a name, got {item!r}")
    _check_keys(item, _ALGORITHM_KEYS, where)
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ProtocolError(f"{where} needs name = \"<algorithm>\" (see `nas-harness list`)")
    preset = item.get("preset")
    if preset is not None:
        if not isinstance(preset, str) or not preset.strip() or ":" in name:
            raise ProtocolError(f"{where}: preset must be a name, given once (preset = "
                                f"\"natsbench\" or name = \"{name}:natsbench\")")
        name = f"{name}:{preset.strip()}"
    params = item.get("params", {})
    if not isinstance(params, Mapping):
        raise ProtocolError(f"{where}: params must be a table like {{ population_size = 20 }}")
    label = item.get("label", "")
    if not isinstance(label, str):
        raise ProtocolError(f"{where}: label must be a string, got {label!r}")
    return AlgorithmSpec(name.strip(), tuple(sorted(params.items())), label)


def _fraction(value: Any, where: str) -> float | None:
    if isinstance(value, str) and value.strip().lower() in {"none", "off"}:
        return None
    if value is False:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProtocolError(f"{where} must be a number in (0, 1] or \"none\", got {value!r}")
    return float(value)


def parse_experiment(data: Mapping[str, Any], base: Path, source: str = "experiment",
                     default_name: str = "experiment") -> Experiment:
    """An :class:`Experiment` from parsed TOML; relative paths are taken from ``base``."""
    _check_keys(data, _TOP_KEYS, source)
    algorithms = data.get("algorithms")
    if not isinstance(algorithms, list) or not algorithms:
        raise ProtocolError(f"{source} needs at least one [[algorithms]] table with a name")
    specs = tuple(_algorithm(item, i, source) for i, item in enumerate(algorithms))
    datasets = data.get("datasets", list(DATASET_NAMES))
    if isinstance(datasets, str):
        datasets = [datasets]
    if not isinstance(datasets, list) or not all(isinstance(d, str) for d in datasets):
        raise ProtocolError(f"{_where(source, 'datasets')} must be a list of names or \"all\"")
    if any(d.lower() == "all" for d in datasets):
        datasets = list(DATASET_NAMES)
    protocol = data.get("protocol", {})
    if not isinstance(protocol, Mapping):
        raise ProtocolError(f"{_where(source, 'protocol')} must be a table ([protocol])")
    fraction = _fraction(protocol.get("max_flops_fraction", DEFAULT_FLOPS_FRACTION),
                         _where(source, "protocol.max_flops_fraction"))
    options = {k: v for k, v in protocol.items() if k not in _PROTOCOL_CORE}
    if "output" not in data:
        raise ProtocolError(f"{source} needs output = \"<runs directory>\" (relative to the "
                            "file), e.g. output = \"../runs/my-study\"")
    output = _path(data["output"], base, _where(source, "output"))
    report = (_path(data["report"], base, _where(source, "report")) if "report" in data
              else output / "report")
    plugins = data.get("plugins", [])
    if not isinstance(plugins, list):
        raise ProtocolError(f"{_where(source, 'plugins')} must be a list of .py files")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise ProtocolError(f"{_where(source, 'name')} must be a non-empty string")
    spec = SweepSpec(
        algorithms=specs, datasets=tuple(datasets), runs=data.get("runs", 100),
        budget=protocol.get("budget", DEFAULT_BUDGET),
        fidelity=str(protocol.get("fidelity", "90")), max_flops_fraction=fraction,
        master_seed=data.get("master_seed", 0),
        protocol_options=tuple(sorted(options.items())),
    )
    return Experiment(name.strip(), spec, output, report,
                      tuple(_path(p, base, _where(source, "plugins")) for p in plugins))


def load_experiment(path: Path | str) -> Experiment:
    """Read an experiment TOML file; any problem is one ProtocolError naming the file."""
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProtocolError(f"experiment file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"cannot read experiment file {str(path)!r}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(f"{file} is not valid TOML: {exc}") from None
    try:
        experiment = parse_experiment(data, file.resolve().parent, str(file), file.stem)
    except ProtocolError as exc:
        message = str(exc)
        if not message.startswith(str(file)):
            message = f"{file}: {message}"
        raise ProtocolError(message) from None
    return Experiment(experiment.name, experiment.spec, experiment.output,
                      experiment.report_dir, experiment.plugins, file)


def paper_experiment() -> Experiment:
    """``experiments/paper.toml``; the same experiment built in when the file is not there.

    A non-editable install has no ``experiments/`` directory; ``reproduce_spec()`` is that
    file's content (a test keeps the two equal), with ``results/runs`` and ``results``
    relative to the working directory.
    """
    if PAPER_EXPERIMENT.is_file():
        return load_experiment(PAPER_EXPERIMENT)
    return Experiment("paper", reproduce_spec(), Path("results/runs"), Path("results"))
