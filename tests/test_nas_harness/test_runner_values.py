"""A run's identity and trajectory by value (synthetic table).

The protocol record, the fingerprint's text, the run id, protocol options, the time column.
"""

import hashlib
import json

import numpy as np
from sweep_fixtures import synthetic_table

from nas_harness.benchmarks.protocol import Protocol
from nas_harness.runner import RunTask, protocol_record, trajectory_table
from nas_harness.seeding import run_seeds

TABLE = synthetic_table()


def task(**kw):
    base = dict(algorithm="walk-a", algorithm_name="walk", params=(("b", 2), ("a", 1)),
                dataset="cifar100", run=4, budget=50)
    return RunTask(**{**base, **kw})


def test_the_protocol_record_keeps_the_core_fields_and_others_only_off_default():
    assert protocol_record(Protocol("cifar10")) == {"budget": 500, "fidelity": "90",
                                                    "max_flops_fraction": 0.5}
    assert protocol_record(Protocol("cifar10", budget=7, max_flops_fraction=None)) == \
        {"budget": 7, "fidelity": "90", "max_flops_fraction": None}
    timed = Protocol("cifar10", fidelity="12", budget_seconds=300.0)
    assert protocol_record(timed) == {"budget": 500, "fidelity": "12",
                                      "max_flops_fraction": 0.5, "budget_seconds": 300.0}


def test_the_identity_is_every_field_that_determines_the_result():
    t = task(master_seed=3)
    assert t.identity("chk") == {
        "run_id": "cifar100/walk-a/004", "algorithm": "walk-a", "algorithm_name": "walk",
        "params": {"b": 2, "a": 1}, "dataset": "cifar100", "run": 4,
        "protocol": {"budget": 50, "fidelity": "90", "max_flops_fraction": 0.5},
        "seed": run_seeds(3, "walk-a", "cifar100", 4).to_dict(), "table_checksum": "chk"}
    assert t.params_dict == {"b": 2, "a": 1}
    assert t.seeds == run_seeds(3, "walk-a", "cifar100", 4)


def test_the_fingerprint_is_the_sha256_of_the_sorted_compact_identity():
    t = task()
    text = json.dumps(t.identity("chk"), sort_keys=True, separators=(",", ":"))
    assert t.fingerprint("chk") == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_run_ids_pad_the_run_index_to_three_digits():
    assert task(run=0).run_id == "cifar100/walk-a/000"
    assert task(run=1234).run_id == "cifar100/walk-a/1234"


def test_protocol_options_given_as_a_mapping_are_sorted_pairs_and_reach_the_protocol():
    t = task(fidelity="12", protocol_options={"budget_seconds": 120.0})
    assert t.protocol_options == (("budget_seconds", 120.0),)
    assert t.protocol == Protocol("cifar100", budget=50, fidelity="12",
                                  budget_seconds=120.0)
    assert t.identity("x")["protocol"]["budget_seconds"] == 120.0
    assert task().protocol == Protocol("cifar100", budget=50)


def test_configuration_is_shared_by_the_runs_of_one_label_only():
    assert task(run=1).configuration("c") == task(run=2).configuration("c")
    assert task().configuration("c") != task(params=(("a", 3),)).configuration("c")
    assert task().configuration("c")["algorithm"] == "walk-a"


def _log():
    index = np.array([5, 0, 9, 5])
    table = TABLE["cifar10"]
    return table, index, table.valid_acc[index], np.array([True, True, False, True]), \
        np.array([False, False, False, True])


def test_a_trajectory_without_a_clock_has_nan_seconds_and_the_table_s_values():
    table, index, valid, feasible, duplicate = _log()
    traj = trajectory_table(task(dataset="cifar10"), table, index, valid, feasible, duplicate)
    assert np.isnan(traj.column("elapsed_s").to_numpy()).all()
    assert traj.column("query").to_pylist() == [1, 2, 3, 4]
    assert traj.column("run").to_pylist() == [4] * 4
    assert traj.column("params").to_pylist() == table.params[index].tolist()
    assert traj.column("duplicate").to_pylist() == [False, False, False, True]
    best = 5 if table.valid_acc[5] >= table.valid_acc[0] else 0
    assert traj.column("incumbent_index").to_pylist()[1:] == [best] * 3
    assert traj.column("incumbent_test_acc").to_pylist()[-1] == table.test_acc[best]


def test_a_trajectory_with_a_clock_records_it():
    table, index, valid, feasible, duplicate = _log()
    traj = trajectory_table(task(dataset="cifar10"), table, index, valid, feasible, duplicate,
                            elapsed=[10, 20.5, 31, 40])
    assert traj.column("elapsed_s").to_pylist() == [10.0, 20.5, 31.0, 40.0]


def test_an_infeasible_first_query_has_no_incumbent_test_accuracy():
    table = TABLE["cifar10"]
    index = np.array([3, 4])
    traj = trajectory_table(task(dataset="cifar10"), table, index, table.valid_acc[index],
                            np.array([False, True]), np.array([False, False]))
    inc = traj.column("incumbent_test_acc").to_pylist()
    assert np.isnan(inc[0]) and inc[1] == table.test_acc[4]
    assert traj.column("incumbent_index").to_pylist() == [-1, 4]


def test_the_configuration_names_the_table():
    assert task().configuration("c1")["table_checksum"] == "c1"
    assert task().configuration("c1") != task().configuration("c2")


def test_search_gives_the_algorithm_its_context_and_parameters():
    from nas_harness.algorithms.random_search import RandomSearch
    from nas_harness.benchmarks.oracle import Oracle
    from nas_harness.runner import search

    table = TABLE["cifar10"]
    for params in (RandomSearch.Params(replace=True), RandomSearch.Params(replace=False)):
        t = task(dataset="cifar10", budget=30)
        traj = search(t, table, RandomSearch, params)
        oracle = Oracle(table, t.protocol, rng=t.seeds.oracle_rng())
        expected = RandomSearch(oracle.context, t.seeds.algorithm_rng(), params)._sequence
        assert traj.column("arch_index").to_pylist() == expected[:30].tolist()
        assert all(traj.column("feasible").to_pylist())  # drawn among the feasible only


def test_search_under_a_time_budget_records_the_clock():
    from dataclasses import replace

    from nas_harness.runner import search

    base = TABLE["cifar10"]
    n = base.num_archs
    table = replace(base, hp12_time=np.full((n, 3), 10.0))

    t = task(dataset="cifar10", budget=100, fidelity="12",
             protocol_options={"budget_seconds": 45.0})
    traj = search(t, table, Walk, None)
    assert traj.column("elapsed_s").to_pylist() == [10.0, 20.0, 30.0, 40.0]


def test_every_architecture_string_of_the_space_by_index():
    from nas_harness.benchmarks.records import arch_strings
    from nas_harness.benchmarks.space import SSS
    from nas_harness.runner import warm_up

    warm_up()  # builds the cached strings; the same call in a run must then agree
    strings = arch_strings(np.arange(SSS.size, dtype=np.int64)).to_pylist()
    assert len(strings) == SSS.size and strings[:2] == ["8:8:8:8:8", "8:8:8:8:16"]
    assert strings[12345] == SSS.format(12345) and strings[-1] == "64:64:64:64:64"


class Walk:
    """Proposes random architectures one at a time (stands in for an algorithm)."""

    def __init__(self, context, rng, params=None):
        self.context, self.rng = context, rng

    def ask(self, max_batch):
        return self.rng.integers(0, self.context.space.size, size=1)

    def tell(self, indices, valid_acc):
        pass
