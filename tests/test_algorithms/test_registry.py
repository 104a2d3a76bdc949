"""The registry: built-ins, clashes, plugin files, entry points, drop-in modules, params."""

import json
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

import nas_harness.algorithms as algorithms
from nas_harness.algorithms import registry
from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.params import ParamError
from nas_harness.algorithms.registry import (
    RegistryError,
    available_algorithms,
    get_algorithm,
    load_plugin,
    params_to_dict,
    parse_params,
    register,
)
from nas_harness.algorithms.testing import AlgorithmConformance
from nas_harness.benchmarks.errors import UnknownNameError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "my_algorithm.py"
BUILTIN = {"random", "evolution", "layernas", "ppo", "reinforce"}


class _Dummy(Algorithm):
    def ask(self, max_batch):
        return np.empty(0, np.int64)

    def tell(self, indices, valid_acc):
        pass


@pytest.fixture
def scratch_names():
    names: list[str] = []
    yield names
    for name in names:
        registry._forget(name)


def test_builtins_are_discovered_and_named():
    algos = available_algorithms()
    assert BUILTIN <= set(algos)
    for name in BUILTIN:
        assert algos[name].name == name
        assert get_algorithm(name) is algos[name]


def test_unknown_name_lists_known_names_and_plugin():
    with pytest.raises(UnknownNameError, match=r"known: .*layernas.*--plugin"):
        get_algorithm("no-such-algo")


def test_clash_raises_but_same_class_is_fine(scratch_names):
    scratch_names.append("scratch-a")
    first = register("scratch-a")(type("A", (_Dummy,), {}))
    assert register("scratch-a")(first) is first          # same class again: no error
    with pytest.raises(RegistryError, match="already taken"):
        register("scratch-a")(type("B", (_Dummy,), {}))
    with pytest.raises(RegistryError, match="already taken"):
        register("random")(type("C", (_Dummy,), {}))


def test_bad_registrations():
    with pytest.raises(RegistryError, match="not a subclass"):
        register("scratch-b")(object)
    with pytest.raises(RegistryError, match="lower-case"):
        register("Bad Name")


def test_load_plugin_registers_and_is_idempotent():
    names = load_plugin(EXAMPLE)
    assert names == ["hill-climbing"]
    assert load_plugin(str(EXAMPLE)) == names
    cls = get_algorithm("hill-climbing")
    assert cls.__name__ == "HillClimbing"


def test_plugin_errors_name_the_file(tmp_path, scratch_names):
    with pytest.raises(RegistryError, match="does not exist"):
        load_plugin(tmp_path / "missing.py")
    broken = tmp_path / "broken_plugin.py"
    broken.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(RegistryError, match=r"broken_plugin\.py.*boom"):
        load_plugin(broken)
    empty = tmp_path / "empty_plugin.py"
    empty.write_text("X = 1\n")
    with pytest.raises(RegistryError, match="registered no algorithm"):
        load_plugin(empty)
    clash = tmp_path / "clash_plugin.py"
    clash.write_text(
        "from nas_harness.algorithms.registry import register\n"
        "from nas_harness.algorithms.random_search import RandomSearch\n"
        "@register('random')\nclass Mine(RandomSearch):\n    pass\n"
    )
    with pytest.raises(RegistryError, match="already taken"):
        load_plugin(clash)


def test_dropping_a_module_in_the_package_adds_a_name(tmp_path, monkeypatch, scratch_names):
    (tmp_path / "zz_dropped_algo.py").write_text(
        "import numpy as np\n"
        "from nas_harness.algorithms.registry import register\n"
        "from nas_harness.algorithms.random_search import RandomSearch\n"
        "@register('dropped-in')\nclass Dropped(RandomSearch):\n    pass\n"
    )
    (tmp_path / "_private_helper.py").write_text("raise RuntimeError('never imported')\n")
    scratch_names.append("dropped-in")
    monkeypatch.setattr(algorithms, "__path__", [*algorithms.__path__, str(tmp_path)])
    monkeypatch.setattr(registry, "_discovered", False)
    try:
        assert "dropped-in" in available_algorithms()
    finally:
        sys.modules.pop("nas_harness.algorithms.zz_dropped_algo", None)


def test_entry_points_are_loaded(tmp_path, monkeypatch, scratch_names):
    (tmp_path / "ep_provider_mod.py").write_text(
        "from nas_harness.algorithms.random_search import RandomSearch\n"
        "class FromEntryPoint(RandomSearch):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = metadata.EntryPoint(name="from-ep", value="ep_provider_mod:FromEntryPoint",
                             group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry.metadata, "entry_points", lambda group=None: [ep])
    monkeypatch.setattr(registry, "_discovered", False)
    scratch_names.append("from-ep")
    assert get_algorithm("from-ep").__name__ == "FromEntryPoint"

    bad = metadata.EntryPoint(name="bad-ep", value="no_such_module_xyz:Thing",
                              group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry.metadata, "entry_points", lambda group=None: [bad])
    monkeypatch.setattr(registry, "_discovered", False)
    with pytest.raises(RegistryError, match="bad-ep"):
        available_algorithms()
    monkeypatch.setattr(registry, "_discovered", True)


def test_parse_params_converts_and_explains():
    evo = get_algorithm("evolution")
    params = parse_params(evo, ["population_size=20"])
    assert params.population_size == 20 and params.tournament_size == evo.Params().tournament_size
    assert parse_params(evo, {"tournament_size": 5}).tournament_size == 5
    with pytest.raises(UnknownNameError, match="population_size"):
        parse_params(evo, ["popsize=3"])
    with pytest.raises(ParamError, match=r"integer.*population_size"):
        parse_params(evo, ["population_size=ten"])
    with pytest.raises(ParamError, match="at least 1"):
        parse_params(evo, ["population_size=0"])
    with pytest.raises(ParamError, match="name=value"):
        parse_params(evo, ["population_size"])
    lnas = get_algorithm("layernas")
    assert parse_params(lnas, ["unsearched=min", "bucketing=linear"]).unsearched == "min"
    with pytest.raises(ParamError, match="one of"):
        parse_params(lnas, ["bucketing=cubic"])
    with pytest.raises(ParamError, match="layer_order"):
        parse_params(lnas, ["layer_order=1,1,2"])
    assert parse_params(get_algorithm("random"), ["replace=yes"]).replace is True
    assert parse_params(get_algorithm("ppo"), ["learning_rate=1e-2"]).learning_rate == 0.01


def test_params_to_dict_is_json_friendly():
    # the shipped algorithms: a plugin that another test loaded may declare a required parameter
    shipped = [cls for cls in available_algorithms().values()
               if cls.__module__.startswith("nas_harness.algorithms.")]
    assert len(shipped) >= 6
    for cls in shipped:
        as_dict = params_to_dict(cls.Params())
        json.dumps(as_dict)
        assert parse_params(cls, as_dict) == cls.Params()


def test_cli_list_shows_every_algorithm_with_parameters(capsys):
    from nas_harness.cli import main

    assert main(["list", "--plugin", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    for name in [*BUILTIN, "hill-climbing"]:
        assert f"\n{name}: " in "\n" + out
    for param in ("population_size", "num_buckets", "top_k", "clip", "ema_momentum",
                  "neighbours_per_step"):
        assert param in out


def test_cli_unknown_plugin_is_a_clear_error(capsys, tmp_path):
    from nas_harness.cli import main

    assert main(["list", "--plugin", str(tmp_path / "nope.py")]) == 2
    assert "does not exist" in capsys.readouterr().err


class TestExamplePluginConformance(AlgorithmConformance):
    """The README's example plugin, loaded as `--plugin` would, passes the kit."""

    @pytest.fixture
    def algorithm_class(self):
        load_plugin(EXAMPLE)
        return get_algorithm("hill-climbing")


def test_presets_resolve_with_their_published_values():
    from nas_harness.algorithms.registry import presets_of, resolve_algorithm, resolve_params

    cls, params = resolve_algorithm("evolution:natsbench")
    assert cls is get_algorithm("evolution") is get_algorithm("evolution:pyglove")
    assert params == {"population_size": 10, "tournament_size": 3, "mutation": "resample"}
    pyglove = resolve_params("evolution:pyglove")
    assert (pyglove.population_size, pyglove.tournament_size) == (50, 10)
    assert resolve_params("random:natsbench").replace is True
    reinforce = resolve_params("reinforce:natsbench", {"batch_size": 2})
    assert (reinforce.learning_rate, reinforce.ema_momentum, reinforce.batch_size) == \
        (0.01, 0.9, 2)                                   # explicit values win over the preset
    assert resolve_algorithm("layernas") == (get_algorithm("layernas"), {})
    with pytest.raises(UnknownNameError, match=r"evolution:natsbench, evolution:pyglove"):
        resolve_algorithm("evolution:nope")
    with pytest.raises(UnknownNameError, match="unknown algorithm 'nope:x'"):
        resolve_algorithm("nope:x")
    for algo in available_algorithms().values():        # every preset parses, has a source
        for preset in presets_of(algo).values():
            parse_params(algo, dict(preset.params))
            assert preset.source


def test_a_registered_name_with_a_colon_wins_over_a_preset(scratch_names, monkeypatch):
    from nas_harness.algorithms.registry import resolve_algorithm

    # the adapters' names look like family:variant; registering one is their business, so
    # put it in the registry directly
    adapter = type("Adapter", (_Dummy,), {})
    monkeypatch.setitem(registry._REGISTRY, "evolution:natsbench", adapter)
    assert resolve_algorithm("evolution:natsbench") == (adapter, {})


def test_sweep_plan_merges_presets_under_explicit_params():
    from sweep_fixtures import synthetic_table

    from nas_harness.experiment import AlgorithmSpec, SweepSpec
    from nas_harness.sweep import plan_sweep

    spec = SweepSpec(algorithms=(AlgorithmSpec("evolution:natsbench",
                                               (("population_size", 20),)),),
                     datasets=("cifar10",), runs=1, budget=20)
    task = plan_sweep(spec, synthetic_table()).tasks[0]
    assert task.params_dict == {"population_size": 20, "tournament_size": 3,
                                "mutation": "resample"}
    assert task.algorithm == "evolution:natsbench"


def test_cli_list_shows_presets_with_sources(capsys):
    from nas_harness.cli import main

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("evolution:natsbench", "evolution:pyglove", "random:natsbench",
                 "reinforce:natsbench", "layernas:stand-in"):
        assert f"preset {name}" in out
    assert "regularized_ea.py" in out and "PyGlove" in out
