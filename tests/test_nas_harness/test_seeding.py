"""Run seeds depend only on (master seed, algorithm, dataset, run), through a stable hash."""

import subprocess
import sys

import numpy as np
import pytest

from nas_harness.seeding import run_seeds, stable_words

# sha256(b"evolution|cifar10") = 9c4d4ee9 c5ab7ce1 dcbe5998 704c4cbc ... (from `sha256sum`)
EVOLUTION_CIFAR10 = (0x9C4D4EE9, 0xC5AB7CE1, 0xDCBE5998, 0x704C4CBC)


def test_spawn_key_is_sha256_words_plus_run():
    # pinned literals: the key of a run must never change between releases
    assert EVOLUTION_CIFAR10 == (2622312169, 3316350177, 3703462296, 1884048572)
    seeds = run_seeds(7, "evolution", "cifar10", 3)
    assert seeds.entropy == 7
    assert seeds.spawn_key == (*EVOLUTION_CIFAR10, 3)
    assert stable_words("evolution", "cifar10") == EVOLUTION_CIFAR10
    assert stable_words("ppo", "ImageNet16-120") == (3017693409, 2919406102, 4179921991,
                                                     413547419)


def test_seed_streams_are_pinned_literals():
    """The first draws of both streams of one run, pinned: any change shifts every result."""
    seeds = run_seeds(7, "evolution", "cifar10", 3)
    assert seeds.algorithm_rng().integers(0, 2**32, 3).tolist() == [
        14129776, 969885451, 1422156826]
    assert seeds.oracle_rng().integers(0, 2**32, 3).tolist() == [
        3997225195, 559561809, 543857868]


def test_sidecar_record_is_pinned():
    key = [*EVOLUTION_CIFAR10, 3]
    assert run_seeds(7, "evolution", "cifar10", 3).to_dict() == {
        "entropy": 7, "spawn_key": key,
        "algorithm_spawn_key": [*key, 0], "oracle_spawn_key": [*key, 1],
    }
    record = run_seeds(7, "evolution", "cifar10", 3).to_dict()
    assert type(record["spawn_key"]) is list  # JSON-able, not a tuple


def test_children_are_what_spawn_would_give():
    seeds = run_seeds(0, "ppo", "cifar100", 12)
    spawned = seeds.sequence.spawn(2)
    for stream in (0, 1):
        np.testing.assert_array_equal(seeds.child(stream).generate_state(4),
                                      spawned[stream].generate_state(4))


def test_algorithm_and_oracle_streams_differ():
    seeds = run_seeds(0, "ppo", "cifar100", 12)
    a = seeds.algorithm_rng().integers(0, 2**62, 8)
    o = seeds.oracle_rng().integers(0, 2**62, 8)
    assert not np.array_equal(a, o)
    np.testing.assert_array_equal(a, run_seeds(0, "ppo", "cifar100", 12)
                                  .algorithm_rng().integers(0, 2**62, 8))


@pytest.mark.parametrize("other", [(1, "ppo", "cifar10", 0), (0, "reinforce", "cifar10", 0),
                                   (0, "ppo", "cifar100", 0), (0, "ppo", "cifar10", 1)])
def test_every_part_of_the_key_matters(other):
    base = run_seeds(0, "ppo", "cifar10", 0).algorithm_rng().random(4)
    assert not np.array_equal(base, run_seeds(*other).algorithm_rng().random(4))


def test_no_concatenation_ambiguity():
    assert stable_words("ab", "c") != stable_words("a", "bc")
    with pytest.raises(ValueError, match="may not contain"):
        stable_words("a|b", "c")


def test_independent_of_python_hash_seed():
    code = ("from nas_harness.seeding import run_seeds;"
            "print(run_seeds(3, 'layernas', 'ImageNet16-120', 99).algorithm_rng().integers(1<<60))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout
            for seed in ("1", "2")}
    assert len(outs) == 1
    assert outs.pop().strip() == str(run_seeds(3, "layernas", "ImageNet16-120", 99)
                                     .algorithm_rng().integers(1 << 60))


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_bad_master_seed(bad):
    with pytest.raises(ValueError, match="master seed"):
        run_seeds(bad, "a", "b", 0)


@pytest.mark.parametrize("bad", [-1, -100, 1.5, True, False, "3", None])
def test_bad_run_index(bad):
    with pytest.raises(ValueError, match="run index must be a non-negative integer"):
        run_seeds(0, "a", "b", bad)


@pytest.mark.parametrize("run", [0, 1, np.int64(5), 2**40])
def test_good_run_indices_are_accepted_as_plain_ints(run):
    seeds = run_seeds(np.uint32(3), "a", "b", run)
    assert seeds.spawn_key[-1] == int(run) and type(seeds.spawn_key[-1]) is int
    assert seeds.entropy == 3 and type(seeds.entropy) is int


def test_master_seed_zero_is_valid_and_differs_from_one():
    assert run_seeds(0, "a", "b", 0).entropy == 0
    assert not np.array_equal(run_seeds(0, "a", "b", 0).oracle_rng().random(4),
                              run_seeds(1, "a", "b", 0).oracle_rng().random(4))
