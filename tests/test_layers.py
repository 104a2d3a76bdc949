"""The import contracts cover the whole package: no application module escapes the layers."""

from __future__ import annotations

import pkgutil
from pathlib import Path

import tomllib

import nas_harness

ROOT = Path(__file__).resolve().parents[1]


def _layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    assert contract["containers"] == ["nas_harness"]
    return contract["layers"]


def test_every_top_level_module_sits_in_a_layer():
    listed = {name.strip() for layer in _layers() for name in layer.replace("|", ":").split(":")}
    present = {info.name for info in pkgutil.iter_modules(nas_harness.__path__)}
    assert present - listed == set(), "add these modules to a layer in pyproject.toml"
    assert listed - present == set(), "these layers name modules that do not exist"


def test_the_layers_run_application_then_algorithms_and_analysis_then_benchmarks():
    layers = _layers()
    assert layers[-2:] == ["algorithms | analysis", "benchmarks"]
    assert layers[0] == "cli"


def test_an_install_has_one_top_level_name():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["tool"]["setuptools"]["packages"]["find"]["include"] == ["nas_harness*"]
    assert not [p for p in ROOT.iterdir() if (p / "__init__.py").exists()
                and p.name not in {"nas_harness", "tools"}]
