"""Adapter names in the registry, with or without their libraries installed (no library needed)."""

import importlib.util

import pytest
from sweep_fixtures import synthetic_table

from nas_harness.algorithms import registry
from nas_harness.algorithms.adapters import LibraryAdapter
from nas_harness.algorithms.registry import (
    AlgorithmUnavailableError,
    RegistryError,
    available_algorithms,
    get_algorithm,
    register,
)
from nas_harness.cli.algorithms import format_algorithms
from nas_harness.gate import builtin_algorithms
from nas_harness.sweep import SweepSpec, run_sweep

ADAPTERS = {
    "optuna": ["optuna:tpe", "optuna:gp", "optuna:random", "optuna:qmc", "optuna:nsga2"],
    "nevergrad": ["nevergrad:NGOpt", "nevergrad:DiscreteOnePlusOne",
                  "nevergrad:PortfolioDiscreteOnePlusOne", "nevergrad:DiscreteLenglerOnePlusOne"],
    "pyglove": ["pyglove:evolution", "pyglove:random"],
}


def test_every_adapter_is_registered_installed_or_not():
    algos = available_algorithms()
    for library, names in ADAPTERS.items():
        for name in names:
            assert name in algos and algos[name].name == name
            assert algos[name].library == library


def test_adapters_stay_out_of_the_regression_gate():
    gated = set(builtin_algorithms())
    assert "random" in gated and not any(":" in name for name in gated)


@pytest.mark.parametrize("name", ["optuna:tpe", "nevergrad:CMA", "a-b:c_d-e", "x:Y1"])
def test_family_variant_names_are_valid(name):
    assert registry._NAME_RE.match(name)


@pytest.mark.parametrize("name", ["Optuna:tpe", "optuna:", ":tpe", "a:b:c", "optuna:1x",
                                  "optuna tpe"])
def test_malformed_names_are_refused(name):
    with pytest.raises(RegistryError, match="optionally followed by ':variant'"):
        register(name)


@pytest.fixture
def without(monkeypatch):
    """Pretend some modules are not installed."""
    real = importlib.util.find_spec

    def hide(*modules):
        monkeypatch.setattr(importlib.util, "find_spec",
                            lambda name, *a, **k: None if name in modules else real(name, *a, **k))

    return hide


@pytest.mark.parametrize("library", sorted(ADAPTERS))
def test_a_missing_library_is_listed_with_the_install_hint_and_refused(library, without):
    without(library)
    hint = f"not installed: pip install nas-harness[{library}]"
    text = format_algorithms()
    for name in ADAPTERS[library]:
        if name == "optuna:gp":
            continue  # its own extra, below
        block = text.split(f"\n{name}: ", 1)[1].split("\n\n", 1)[0]
        assert f"({hint})" in block
        with pytest.raises(AlgorithmUnavailableError) as err:
            get_algorithm(name)
        assert str(err.value) == f"algorithm {name!r} is {hint}"
        assert "\n" not in str(err.value)


def test_optuna_gp_names_its_own_extra(without):
    pytest.importorskip("optuna", reason="needs optuna (pip install -e '.[optuna]') to tell the "
                                         "missing torch apart from a missing optuna")
    without("torch")
    assert get_algorithm("optuna:tpe")  # optuna itself is not needed to say so
    with pytest.raises(AlgorithmUnavailableError, match=r"pip install nas-harness\[optuna-gp\]"):
        get_algorithm("optuna:gp")


def test_planning_a_sweep_with_a_missing_library_fails_before_any_run(tmp_path, without):
    without("pyglove")
    spec = SweepSpec(algorithms=("random", "pyglove:evolution"), runs=1, budget=5)
    with pytest.raises(AlgorithmUnavailableError, match=r"nas-harness\[pyglove\]"):
        run_sweep(spec, tmp_path / "out", workers=1, table=synthetic_table(), progress=False)
    assert not (tmp_path / "out").exists()


def test_cli_run_says_the_one_line(tmp_path, without, capsys, monkeypatch):
    from nas_harness import sweep
    from nas_harness.cli import main

    monkeypatch.setattr(sweep, "default_table", synthetic_table)  # no data needed
    without("optuna")
    code = main(["run", "-a", "optuna:tpe", "-d", "cifar10", "--runs", "1", "--budget", "5",
                 "--out", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err
    assert code != 0 and "not installed: pip install nas-harness[optuna]" in err
    assert "Traceback" not in err


class _Missing(LibraryAdapter):
    """An adapter of a library that does not exist."""

    library = "nas_harness_no_such_library"
    extra = "nothing"


class _ThirdParty(_Missing):
    """A third party's adapter says its own install command."""

    install = "pip install nas-harness-nothing"


def test_a_third_party_adapter_uses_the_same_hook():
    name = "nothing:at-all"
    try:
        register(name)(_Missing)
        assert _Missing.unavailable() == "not installed: pip install nas-harness[nothing]"
        assert _Missing.provenance() == {"nas_harness_no_such_library": "not installed"}
        with pytest.raises(AlgorithmUnavailableError, match="nas-harness\\[nothing\\]"):
            get_algorithm(name)
    finally:
        registry._forget(name)
    assert _ThirdParty.unavailable() == "not installed: pip install nas-harness-nothing"


def test_the_libraries_experiment_names_every_adapter_but_gp_and_the_paper_algorithms():
    from pathlib import Path

    from nas_harness.experiment import PAPER_ALGORITHMS
    from nas_harness.experiment_file import load_experiment

    root = Path(__file__).resolve().parents[2]
    experiment = load_experiment(root / "experiments" / "libraries.toml")
    names = [a.name for a in experiment.spec.algorithms]
    expected = [n for ns in ADAPTERS.values() for n in ns if n != "optuna:gp"]
    assert set(names) == set(PAPER_ALGORITHMS) | set(expected)
    assert experiment.spec.runs == 100 and experiment.spec.budget == 500
    assert len(experiment.spec.datasets) == 3
