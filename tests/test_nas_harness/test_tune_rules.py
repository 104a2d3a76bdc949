"""The tuning protocol's parts, each against values worked out by hand or committed records.

Small toy algorithms (registered only in this process, so the sweeps run with one worker) and
budgets of a few runs of a few queries keep every test fast.
"""

import json
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from sweep_fixtures import synthetic_table

from nas_harness import tune as tuning
from nas_harness import tune_candidates as candidates
from nas_harness.algorithms import registry
from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.params import ParamSpec, check, describe_params, param
from nas_harness.algorithms.registry import Preset
from nas_harness.tune import (
    ConfigScore,
    TuningBudget,
    TuningError,
    TuningResult,
    candidate_configurations,
    tune,
)


@dataclass(frozen=True)
class ToyParams:
    """A finite int range and two choices, a log-spaced float, one parameter never tuned."""

    k: int = param(3, "an int range", low=2, high=4)
    mode: str = param("a", "two choices", choices=("a", "b"))
    lr: float = param(0.1, "log-spaced", low=0.01, high=1.0, log=True)
    fixed: int = param(1, "no range: never tuned")

    def __post_init__(self):
        check(not (self.k == 4 and self.mode == "b"), "k=4 with mode=b is refused")


@dataclass(frozen=True)
class FiniteParams:
    """Six settings in all."""

    k: int = param(3, "an int range", low=2, high=4)
    mode: str = param("a", "two choices", choices=("a", "b"))


@dataclass(frozen=True)
class OnePointParams:
    """A float range of one point: every draw is the same setting."""

    x: float = param(1.0, "a range of one value", low=1.0, high=1.0)


@dataclass(frozen=True)
class UntunedParams:
    """Nothing to tune."""

    x: int = param(1, "no range")


class Toy(Algorithm):
    """Feasible architectures in a fixed order (no randomness: equal settings tie)."""

    Params = ToyParams
    presets: ClassVar[dict[str, Preset]] = {"fast": Preset({"k": 2}),
                                            "fast-again": Preset({"k": 2, "mode": "a"}),
                                            "odd": Preset({"fixed": 5}),
                                            "slow": Preset({"k": 4, "lr": 0.5})}

    def __init__(self, context, rng, params=None):
        super().__init__(context, rng, params)
        self._order = self.order(context)
        self._next = 0

    def order(self, context):
        return np.sort(context.feasible_indices())

    def ask(self, max_batch):
        self._next += 1
        return self._order[self._next - 1:self._next].astype(np.int64)

    def tell(self, indices, valid_acc):
        pass


class ToyV2(Toy):
    """The same space under another registered name."""


class ToyFinite(Toy):
    """A space of six settings; ``k`` picks how far into the feasible list it starts."""

    Params = FiniteParams
    presets: ClassVar[dict[str, Preset]] = {}

    def order(self, context):
        feasible = np.sort(context.feasible_indices())
        return np.roll(feasible, -97 * self.params.k)


class ToyOnePoint(Toy):
    """One setting however it is drawn."""

    Params = OnePointParams
    presets: ClassVar[dict[str, Preset]] = {}


class ToyUntuned(Toy):
    """Nothing to tune."""

    Params = UntunedParams
    presets: ClassVar[dict[str, Preset]] = {}


class ToyInfeasible(ToyFinite):
    """Proposes only architectures over the FLOPs limit: no run has a feasible incumbent."""

    def order(self, context):
        return np.setdiff1d(np.arange(len(context.flops)), context.feasible_indices())


class ToyBroken(ToyFinite):
    """Fails on its first proposal."""

    def ask(self, max_batch):
        raise RuntimeError("broken on purpose")


TOYS = {"tunetoy:v1": Toy, "tunetoy:v2": ToyV2, "tunetoy-finite": ToyFinite,
        "tunetoy-onepoint": ToyOnePoint, "tunetoy-untuned": ToyUntuned,
        "tunetoy-infeasible": ToyInfeasible, "tunetoy-broken": ToyBroken}


@pytest.fixture(scope="module", autouse=True)
def toys():
    for name, cls in TOYS.items():
        registry.register(name)(cls)
    yield
    for name in TOYS:
        registry._forget(name)


@pytest.fixture(scope="module")
def table():
    return synthetic_table("tune-rules")


def _spec(cls, name):
    return next(s for s in describe_params(cls) if s.name == name)


# -- the space --------------------------------------------------------------------------------

def test_finite_size_counts_choices_and_int_ranges():
    k, mode, lr = (_spec(ToyParams, n) for n in ("k", "mode", "lr"))
    assert candidates._finite_size([k, mode]) == 6 and candidates._finite_size([mode, k]) == 6
    assert candidates._finite_size([k]) == 3 and candidates._finite_size([]) == 1
    assert candidates._finite_size([k, lr]) is None and candidates._finite_size([lr]) is None
    inner = ParamSpec("k", "int", 3, "", "", None, 2.5, 4.5, False, int)   # 3 and 4
    assert candidates._finite_size([inner]) == 2


def test_enumerate_lists_every_setting_in_order():
    k, mode = _spec(ToyParams, "k"), _spec(ToyParams, "mode")
    assert candidates._enumerate([k, mode]) == [
        {"k": 2, "mode": "a"}, {"k": 2, "mode": "b"}, {"k": 3, "mode": "a"},
        {"k": 3, "mode": "b"}, {"k": 4, "mode": "a"}, {"k": 4, "mode": "b"}]
    inner = ParamSpec("k", "int", 3, "", "", None, 2.5, 4.5, False, int)
    assert candidates._enumerate([inner]) == [{"k": 3}, {"k": 4}]


def test_draws_are_uniform_linear_or_log_and_typed():
    rng = np.random.default_rng(0)
    lr = _spec(ToyParams, "lr")
    logs = [candidates._draw(lr, rng) for _ in range(400)]
    assert all(0.01 <= x <= 1.0 and float(f"{x:.2g}") == x for x in logs)
    assert 0.4 < np.mean(np.array(logs) < 0.1) < 0.6        # log-uniform: 0.1 is the middle
    linear = ParamSpec("x", "float", 2.0, "", "", None, 1.0, 3.0, False, float)
    xs = np.array([candidates._draw(linear, rng) for _ in range(400)])
    assert xs.min() >= 1.0 and xs.max() <= 3.0
    assert 0.4 < np.mean(xs < 2.0) < 0.6 and abs(xs.mean() - 2.0) < 0.1
    assert 0.4 < np.mean(xs > 2.5) * 2 < 0.6                # a quarter above 2.5
    k = _spec(ToyParams, "k")
    ks = [candidates._draw(k, rng) for _ in range(90)]
    assert all(type(v) is int for v in ks) and set(ks) == {2, 3, 4}
    assert all(type(v) is float for v in logs)
    modes = [candidates._draw(_spec(ToyParams, "mode"), rng) for _ in range(40)]
    assert set(modes) == {"a", "b"}


def test_round_sig_and_fmt():
    assert candidates._round_sig(0.123456) == 0.12 and candidates._round_sig(98765.0) == 99000.0
    assert candidates._round_sig(0.0) == 0.0 and math.isinf(candidates._round_sig(float("inf")))
    assert tuning._fmt({}) == "(defaults)" and tuning._fmt({"a": 1, "b": "x"}) == "a=1 b=x"


# -- the candidates ---------------------------------------------------------------------------

def test_candidates_reproduce_the_committed_tuning_records():
    # transcribed from results/tuning/evolution.json and ppo.json (16 configurations, seed
    # 9,000,009): the published presets first, then the seeded draws
    evolution = candidate_configurations("evolution", 16)
    assert [o for o, _ in evolution[:3]] == ["preset evolution:natsbench",
                                             "preset evolution:pyglove", "random"]
    assert [c for _, c in evolution[2:6]] == [
        {"population_size": 5, "tournament_size": 20, "mutation": "resample"},
        {"population_size": 27, "tournament_size": 2, "mutation": "resample"},
        {"population_size": 37, "tournament_size": 24, "mutation": "resample"},
        {"population_size": 7, "tournament_size": 4, "mutation": "different"}]
    assert [c for _, c in candidate_configurations("ppo", 16)[:3]] == [
        {"batch_size": 19, "learning_rate": 0.034, "normalize_advantage": True,
         "avoid_duplicates": False},
        {"batch_size": 26, "learning_rate": 0.015, "normalize_advantage": False,
         "avoid_duplicates": False},
        {"batch_size": 16, "learning_rate": 0.0085, "normalize_advantage": True,
         "avoid_duplicates": True}]


def test_candidates_take_matching_distinct_presets_then_distinct_draws():
    out = candidate_configurations("tunetoy:v1", 60)
    origins = [o for o, _ in out]
    # "fast-again" repeats "fast"; "odd" changes a parameter tuning does not search
    assert origins[:2] == ["preset tunetoy:v1:fast", "preset tunetoy:v1:slow"]
    assert origins[2:] == ["random"] * 58
    assert out[0][1] == {"k": 2, "mode": "a", "lr": 0.1}
    assert out[1][1] == {"k": 4, "mode": "a", "lr": 0.5}
    keys = [tuple(c.values()) for _, c in out]
    assert len(set(keys)) == 60                                   # no setting twice
    assert ("b" not in {c["mode"] for _, c in out if c["k"] == 4})   # refused ones skipped
    assert {c["mode"] for _, c in out} == {"a", "b"}
    assert candidate_configurations("tunetoy:v1", 1) == out[:1]  # presets within the budget


def test_each_registered_name_draws_its_own_settings():
    v1, v2 = candidate_configurations("tunetoy:v1", 8), candidate_configurations("tunetoy:v2", 8)
    assert [c for _, c in v1[:2]] == [c for _, c in v2[:2]]       # the same presets
    assert [c for _, c in v1[2:]] != [c for _, c in v2[2:]]
    assert candidate_configurations("tunetoy:v1", 8, seed=5)[2:] != v1[2:]


def test_a_space_of_exactly_the_budget_is_enumerated_whole():
    out = candidate_configurations("tunetoy-finite", 6)
    assert [o for o, _ in out] == ["enumerated"] * 6 and len({str(c) for _, c in out}) == 6
    assert [o for o, _ in candidate_configurations("tunetoy-finite", 5)] == ["random"] * 5


def test_drawing_gives_up_after_a_thousand_tries_per_configuration(monkeypatch):
    calls = []
    real = candidates._draw

    def counting(spec, rng):
        calls.append(1)
        return real(spec, rng)

    monkeypatch.setattr(candidates, "_draw", counting)
    assert candidate_configurations("tunetoy-onepoint", 3) == [("random", {"x": 1.0})]
    assert len(calls) == 3000


def test_bad_candidate_requests_name_the_fix():
    with pytest.raises(TuningError) as exc:
        candidate_configurations("tunetoy-untuned", 4)
    assert str(exc.value) == ("tunetoy-untuned declares no tunable parameter (no param(..., "
                              "choices= / low=, high=)); give --grid name=v1,v2 instead")
    with pytest.raises(TuningError) as exc:
        candidate_configurations("tunetoy-finite", 4, {"k": ["", " "]})
    assert str(exc.value) == "--grid k= lists no values; give e.g. k=1,2,3"
    assert candidate_configurations("tunetoy-finite", 4, {"k": ["2", "3"], "mode": ["b"]}) == [
        ("grid", {"k": 2, "mode": "b"}), ("grid", {"k": 3, "mode": "b"})]


# -- the budget and the records ---------------------------------------------------------------

@pytest.mark.parametrize("field", ["configurations", "runs", "queries"])
@pytest.mark.parametrize("value", [0, True, "2", 1.0])
def test_budget_numbers_must_be_positive_integers(field, value):
    with pytest.raises(TuningError) as exc:
        TuningBudget(**{field: value})
    assert str(exc.value) == (f"the tuning budget's {field} must be a positive integer, "
                              f"got {value!r}")


def test_budget_describes_itself():
    budget = TuningBudget(configurations=1, runs=1, queries=1, datasets=("cifar10",))
    assert budget.max_queries == 1
    assert TuningBudget().describe() == ("budget: 16 of at most 16 configurations x 20 runs x "
                                         "3 datasets x 500 queries = 480,000 queries")
    assert TuningBudget().describe(2) == ("budget: 2 of at most 16 configurations x 20 runs x "
                                          "3 datasets x 500 queries = 60,000 queries")


def _config(index, score, per, origin="grid"):
    return ConfigScore(index, origin, {"k": index}, per, score)


def test_config_score_record_rounds_and_writes_nan_as_null():
    per = {"cifar10": {"mean": 80.1234567, "stderr": 0.3}, "cifar100": {"mean": float("nan"),
                                                                       "stderr": 0.4}}
    config = _config(2, float("nan"), per)
    assert config.stderr == pytest.approx(0.25)              # sqrt(0.09 + 0.16) / 2
    assert config.to_dict() == {
        "index": 2, "origin": "grid", "params": {"k": 2},
        "per_dataset": {"cifar10": {"mean": 80.123457, "stderr": 0.3},
                        "cifar100": {"mean": None, "stderr": 0.4}},
        "score": None, "score_stderr": 0.25}
    assert math.isnan(ConfigScore(0, "grid", {}, {}, 1.0).stderr)


def test_tuning_result_record_and_summary():
    budget = TuningBudget(configurations=3, runs=2, queries=5, datasets=("cifar10",))
    configs = (_config(0, 70.0, {"cifar10": {"mean": 70.0, "stderr": 0.5},
                                 "cifar100": {"mean": 70.0, "stderr": 0.0}}, "enumerated"),
               _config(1, 71.5, {"cifar10": {"mean": 71.5, "stderr": 0.25},
                                 "cifar100": {"mean": 71.5, "stderr": 0.0}}, "random"))
    result = TuningResult("toy", budget, {"fidelity": "90", "budget": 5}, 11, {"fixed": 1},
                          configs, 1, "sum", {"note": "x"})
    assert result.chosen_params() == {"fixed": 1, "k": 1}
    record = json.loads(json.dumps(result.to_dict()))
    assert record == {
        "algorithm": "toy", "score": tuning.SCORE,
        "rule": "highest score; ties go to the earlier configuration",
        "budget": {"configurations": 3, "runs": 2, "queries": 5, "datasets": ["cifar10"],
                   "max_queries": 30},
        "configurations_evaluated": 2, "protocol": {"fidelity": "90", "budget": 5},
        "master_seed": 11,
        "seeds": "labels tune-cNN under the tuning master seed: disjoint from every reported "
                 "run (labels = algorithm names, master seed 0 by default)",
        "fixed_params": {"fixed": 1}, "configurations": [c.to_dict() for c in configs],
        "chosen": {"index": 1, "params": {"k": 1}, "full_params": {"fixed": 1, "k": 1},
                   "score": 71.5},
        "table_checksum": "sum", "nas_harness": tuning.__version__, "note": "x"}
    assert result.describe().splitlines() == [
        "tuning toy -- budget: 2 of at most 3 configurations x 2 runs x 1 datasets x 5 "
        "queries = 20 queries",
        f"score: {tuning.SCORE}",
        "  c00 k=0    70.000 +- 0.250  (cifar10 70.00  cifar100 70.00; enumerated)",
        "* c01 k=1    71.500 +- 0.125  (cifar10 71.50  cifar100 71.50; random)",
        "chosen: c01 k=1"]


def _frame(rows):
    """Trajectory rows (dataset, algorithm, run, query, incumbent_valid_acc)."""
    return pd.DataFrame(rows, columns=["dataset", "algorithm", "run", "query",
                                       "incumbent_valid_acc"])


def test_scores_read_the_final_incumbent_of_every_run():
    rows = []
    for run, final in enumerate([70.0, 72.0, 74.0]):      # a: mean 72, s.e. 2 / sqrt(3)
        rows += [("cifar10", "a", run, 1, 10.0), ("cifar10", "a", run, 2, final)]
    rows += [("cifar100", "a", run, 1, v) for run, v in enumerate([50.0, 53.0, 56.0])]
    rows += [("cifar10", "b", run, 3, v) for run, v in enumerate([60.0, np.nan, 62.0])]
    rows += [("cifar100", "b", run, 2, v) for run, v in enumerate([40.0, 41.0])]  # a run lost
    (per_a, score_a), (per_b, score_b) = tuning._scores(_frame(rows), ["a", "b"],
                                                        ["cifar10", "cifar100"], 3)
    assert per_a["cifar10"]["mean"] == 72.0 and per_a["cifar100"]["mean"] == 53.0
    assert per_a["cifar10"]["stderr"] == pytest.approx(2 / math.sqrt(3))
    assert per_a["cifar100"]["stderr"] == pytest.approx(3 / math.sqrt(3))
    assert score_a == 62.5
    assert math.isnan(per_b["cifar10"]["mean"]) and math.isnan(per_b["cifar100"]["mean"])
    assert per_b["cifar100"]["stderr"] == pytest.approx(math.sqrt(0.5) / math.sqrt(2))
    assert math.isnan(score_b)


def test_scores_of_one_or_two_runs():
    one = _frame([("cifar10", "a", 0, 1, 70.0)])
    assert tuning._scores(one, ["a"], ["cifar10"], 1) == [
        ({"cifar10": {"mean": 70.0, "stderr": 0.0}}, 70.0)]
    two = _frame([("cifar10", "a", 0, 1, 70.0), ("cifar10", "a", 1, 1, 72.0)])
    assert tuning._scores(two, ["a"], ["cifar10"], 2) == [
        ({"cifar10": {"mean": 71.0, "stderr": 1.0}}, 71.0)]    # std sqrt(2), / sqrt(2)


# -- tune() end to end, small -----------------------------------------------------------------

SMALL = TuningBudget(configurations=6, runs=2, queries=5, datasets=("cifar10",))


def test_tune_records_the_protocol_it_ran(table, tmp_path, capsys):
    result = tune("tunetoy-finite", budget=SMALL, table=table, workers=1, fidelity="12",
                  max_flops_fraction=0.3, master_seed=5, runs_dir=tmp_path / "runs")
    assert result.algorithm == "tunetoy-finite" and result.master_seed == 5
    assert result.protocol == {"fidelity": "12", "max_flops_fraction": 0.3, "budget": 5}
    assert [c.origin for c in result.configurations] == ["enumerated"] * 6
    assert all(list(c.per_dataset) == ["cifar10"] for c in result.configurations)
    sidecars = sorted((tmp_path / "runs").rglob("*.json"))
    assert len(sidecars) == 12                        # 6 settings x 2 runs, kept where asked
    assert json.loads(sidecars[0].read_text())["protocol"] == {
        "budget": 5, "fidelity": "12", "max_flops_fraction": 0.3}
    assert capsys.readouterr().err == ""              # no progress unless asked


def test_tune_seeds_candidates_and_runs_from_its_master_seed(table):
    small = TuningBudget(configurations=3, runs=2, queries=5, datasets=("cifar10",))
    a = tune("tunetoy-finite", budget=small, table=table, workers=1, master_seed=5)
    b = tune("tunetoy-finite", budget=small, table=table, workers=1, master_seed=6)
    for result, seed in ((a, 5), (b, 6)):
        assert [(c.origin, dict(c.params)) for c in result.configurations] == \
            candidate_configurations("tunetoy-finite", 3, seed=seed)
    grid = {"population_size": ["4", "12"]}
    runs_a = tune("evolution", budget=small, grid=grid, table=table, workers=1, master_seed=5)
    runs_b = tune("evolution", budget=small, grid=grid, table=table, workers=1, master_seed=6)
    assert [c.score for c in runs_a.configurations] != [c.score for c in runs_b.configurations]


def test_ties_go_to_the_earlier_setting(table):
    # the toy ignores its random stream and mode: k=2 with mode a and b score the same
    small = TuningBudget(configurations=2, runs=1, queries=3, datasets=("cifar10",))
    result = tune("tunetoy-finite", budget=small, grid={"mode": ["b", "a"]}, table=table,
                  workers=1)
    assert result.configurations[0].score == result.configurations[1].score
    assert result.chosen == 0 and result.best.params == {"mode": "b"}


@pytest.mark.parametrize("seed", [-1, True, "5"])
def test_tune_refuses_a_master_seed_that_is_not_a_natural_number(seed, table):
    with pytest.raises(TuningError) as exc:
        tune("tunetoy-finite", budget=SMALL, table=table, workers=1, master_seed=seed)
    assert str(exc.value) == ("the tuning master seed must be a non-negative integer, got "
                              f"{seed!r}")


def test_tune_stops_on_failed_runs_and_on_no_feasible_incumbent(table):
    one = TuningBudget(configurations=1, runs=1, queries=3, datasets=("cifar10",))
    with pytest.raises(TuningError) as exc:
        tune("tunetoy-broken", budget=one, grid={"k": ["2"]}, table=table, workers=1)
    assert str(exc.value).startswith("1 tuning runs failed (first: ")
    assert "broken on purpose" in str(exc.value)
    assert str(exc.value).endswith("; nothing was chosen")
    with pytest.raises(TuningError) as exc:
        tune("tunetoy-infeasible", budget=one, grid={"k": ["2"]}, table=table, workers=1)
    assert str(exc.value) == ("no setting of tunetoy-infeasible found a feasible architecture "
                              "in every run; raise the queries per run")
