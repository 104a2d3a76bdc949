"""The gate's comparison refuses inputs it would otherwise misread.

Per-run values given as text are refused, never converted ("0.9" is not a number the gate
measured), and the significance level must lie strictly between 0 and 1.
"""

import numpy as np
import pandas as pd
import pytest

from nas_harness import gate
from nas_harness.benchmarks.errors import DataIntegrityError


def _frame(values):
    v = [float(x) for x in values]
    return pd.DataFrame([{"algorithm": "a", "dataset": "cifar10", "query": 50,
                          "mean": float(np.mean(v)), "sem": 0.1, "values": list(values)}])


@pytest.mark.parametrize("values", [["90.0", "91.0", "92.0"], [b"1", b"2"], [True, False]])
def test_per_run_values_that_are_not_numbers_are_refused_in_one_line(values):
    good = _frame([90.0, 91.0, 92.0])
    for base, cur in ((_frame(values), good), (good, _frame(values))):
        with pytest.raises(DataIntegrityError) as exc:
            gate.compare(base, cur)
        message = str(exc.value)
        assert "per-run values must be numbers" in message and "nas-harness bless" in message
        assert "\n" not in message


@pytest.mark.parametrize("values", [[90, 91, 92], [90.0, 91.0, 92.0], np.array([90, 91, 92],
                                                                             dtype=np.uint8)])
def test_integer_and_float_values_are_compared_as_numbers(values):
    same = gate.compare(_frame(values), _frame([90.0, 91.0, 92.0]))
    assert list(same.table["status"]) == ["identical"]
    worse = gate.compare(_frame(values), _frame([80.0, 81.0, 82.0]), tolerance=0.2)
    assert list(worse.table["status"]) == ["ok"]  # 3 runs: no p below 0.05 exists


@pytest.mark.parametrize("alpha", [0.0, 1.0, 1.5, float("nan")])
def test_compare_refuses_a_level_outside_zero_one(alpha):
    frame = _frame([90.0, 91.0, 92.0])
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        gate.compare(frame, frame, alpha=alpha)


def test_compare_judges_at_the_level_it_is_given():
    base = _frame(list(np.arange(90.0, 98.0)))
    cur = _frame(list(np.arange(80.0, 88.0)))  # no overlap: one-sided exact p = 1 / C(16, 8)
    assert list(gate.compare(base, cur, alpha=0.05).table["status"]) == ["REGRESSED"]
    assert list(gate.compare(base, cur, alpha=1e-5).table["status"]) == ["ok"]
    assert gate.compare(base, cur, alpha=1e-5).alpha == 1e-5
