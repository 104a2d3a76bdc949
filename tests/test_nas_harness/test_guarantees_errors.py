"""Guarantees: every error is one line naming the fix, before work starts where it can be.

Each test reproduces a once-found defect (a raw traceback or a misleading message) and
checks the one line that replaces it; nothing uses the benchmark data (synthetic table).
"""

from __future__ import annotations

import errno
import json
import os
import re
import textwrap
from functools import lru_cache
from pathlib import Path

import pytest
from sweep_fixtures import plugin_path, synthetic_table

import nas_harness.sweep
import nas_harness.task
from nas_harness.algorithms.params import ParamError
from nas_harness.algorithms.registry import get_algorithm, load_plugin, parse_params
from nas_harness.benchmarks.data.paths import table_files
from nas_harness.benchmarks.data.sources import PUBLIC_FILES
from nas_harness.benchmarks.data.store import build_from_dir, clear_memo, load_table, save_table
from nas_harness.benchmarks.errors import DataIntegrityError, DataNotFoundError, ProtocolError
from nas_harness.benchmarks.run_files import load_runs
from nas_harness.cli import main
from nas_harness.sweep import SweepSpec, run_sweep

TABLE = synthetic_table()


@pytest.fixture(autouse=True)
def synthetic_data(monkeypatch):
    monkeypatch.setattr(nas_harness.sweep, "default_table", lambda: TABLE)


def run(out, *extra, workers="1"):
    return main(["run", "--out", str(out), "--no-progress", "--workers", workers,
                 "--plugin", str(plugin_path()), *extra])


def one_line(err: str) -> str:
    """The single error line of a command (no traceback, nothing else)."""
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


SMALL = ("-a", "t_random", "-d", "cifar10", "--runs", "3", "--budget", "5")


# -- the output directory ------------------------------------------------------------------

def test_out_that_is_a_file_is_refused_before_work(tmp_path, capsys):
    target = tmp_path / "runs"
    target.write_text("not a directory")
    assert run(target, *SMALL) == 2
    line = one_line(capsys.readouterr().err)
    assert "is a file" in line and "--out" in line
    assert target.read_text() == "not a directory"


def test_out_below_a_file_is_refused_before_work(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert run(tmp_path / "f" / "runs", *SMALL) == 2
    assert "is a file" in one_line(capsys.readouterr().err)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into read-only directories")
def test_read_only_out_is_refused_before_work(tmp_path, capsys):
    out = tmp_path / "runs"
    out.mkdir()
    out.chmod(0o555)
    try:
        assert run(out, *SMALL) == 2
    finally:
        out.chmod(0o755)
    assert "not writable" in one_line(capsys.readouterr().err)


def test_a_full_disk_after_work_started_stops_with_one_line_and_keeps_the_runs(
        tmp_path, capsys, monkeypatch):
    real, calls = nas_harness.task.write_complete, []

    def filling_up(paths, parquet, record):
        calls.append(paths)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(paths.parquet))
        real(paths, parquet, record)

    monkeypatch.setattr(nas_harness.task, "write_complete", filling_up)
    out = tmp_path / "runs"
    assert run(out, *SMALL) == 2
    line = one_line(capsys.readouterr().err)
    assert "No space left on device" in line and "re-run the same command" in line
    assert load_runs(out)["run_id"].nunique() == 2  # what was stored is kept
    monkeypatch.setattr(nas_harness.task, "write_complete", real)
    assert run(out, *SMALL) == 0  # and the same command finishes the sweep
    assert load_runs(out)["run_id"].nunique() == 3


def test_an_unwritable_run_directory_in_the_pool_stops_with_one_line(tmp_path, capsys):
    out = tmp_path / "runs"
    (out / "cifar10").mkdir(parents=True)
    (out / "cifar10" / "t_random").write_text("in the way")  # writing a run there fails
    assert run(out, *SMALL, workers="2") == 2
    line = one_line(capsys.readouterr().err)
    assert "cannot write run cifar10/t_random/" in line and "re-run" in line


# -- data -------------------------------------------------------------------------------------

def test_a_table_sidecar_without_its_builder_names_the_key(tmp_path):
    cache = tmp_path / "cache"
    save_table(TABLE, cache)
    sidecar = table_files(cache)[1]
    meta = json.loads(sidecar.read_text())
    del meta["builder"]
    sidecar.write_text(json.dumps(meta))
    clear_memo()
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataIntegrityError, match=r"lacks builder.*rebuild it with"):
        load_table(tmp_path / "empty", cache)


def test_a_deleted_table_does_not_ask_to_export_what_is_set(tmp_path, capsys, monkeypatch):
    cache = tmp_path / "cache"
    save_table(TABLE, cache)
    table_files(cache)[0].unlink()
    data = tmp_path / "natsbench_sss"
    data.mkdir()
    monkeypatch.setenv("NAS_HARNESS_CACHE", str(cache))
    monkeypatch.setenv("NAS_HARNESS_DATA", str(data))
    assert main(["data", "info"]) == 2
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if x.startswith("nas-harness: error:"))
    assert "export NAS_HARNESS_DATA" not in line and "is set" in line
    assert f"data build --from {data}" in line
    monkeypatch.delenv("NAS_HARNESS_DATA")
    clear_memo()
    with pytest.raises(DataNotFoundError, match=r"is missing \(its sidecar remains\)"):
        load_table(None, cache)


def test_one_missing_data_file_is_named(tmp_path):
    data = tmp_path / "natsbench_sss"
    gone = "monet/Cifar100-NATS.csv"
    for rel in PUBLIC_FILES:
        if rel != gone:
            (data / rel).parent.mkdir(parents=True, exist_ok=True)
            (data / rel).write_bytes(b"")
    with pytest.raises(DataNotFoundError, match="lacks 1 of the public export files") as info:
        build_from_dir(data)
    assert gone in str(info.value) and "neither" not in str(info.value)


# -- runs directories -------------------------------------------------------------------------

def test_a_stray_or_torn_sidecar_stops_the_report_naming_it_and_the_sweep_goes_on(tmp_path):
    from nas_harness.analysis.runs import load_results

    out = tmp_path / "runs"
    spec = SweepSpec(algorithms=("t_random",), datasets=("cifar10",), runs=2, budget=5)
    assert run_sweep(spec, out, plugins=[plugin_path()], table=TABLE, progress=False,
                     workers=1).ok
    stray = out / "cifar10" / "t_random" / "run-099.json"
    stray.write_text("")
    with pytest.raises(DataIntegrityError, match=(
            f"^{re.escape(str(stray))} is empty, so it cannot be counted as a run; delete or "
            "move it, then re-run")):
        load_results(out)
    (out / "cifar10" / "t_random" / "run-098.json").write_text('{"run_id": 1}')
    again = run_sweep(spec, out, plugins=[plugin_path()], table=TABLE, progress=False,
                      workers=1)
    assert again.skipped == 2 and not again.outcomes  # a sweep only redoes its own runs
    stray.unlink()
    (out / "cifar10" / "t_random" / "run-098.json").unlink()
    torn = out / "cifar10" / "t_random" / "run-001.json"
    torn.write_text(torn.read_text()[:40])
    with pytest.raises(DataIntegrityError, match=f"^{re.escape(str(torn))} is not valid JSON"):
        load_results(out)
    assert [o.run_id for o in run_sweep(spec, out, plugins=[plugin_path()], table=TABLE,
                                        progress=False, workers=1).outcomes] == [
        "cifar10/t_random/001"]  # the sweep redoes the torn run
    assert sorted(load_results(out).inventory["run"]) == [0, 1]


# -- messages that misled ---------------------------------------------------------------------

REQUIRED_PLUGIN = '''
from dataclasses import dataclass

from nas_harness.algorithms.base import Algorithm
from nas_harness.algorithms.registry import register


@register("t_required")
class TRequired(Algorithm):
    """A parameter without a default."""

    @dataclass(frozen=True)
    class Params:
        width: int
        batch: int = 1

    def ask(self, max_batch):
        return self.rng.integers(0, 32768, size=1)

    def tell(self, indices, valid_acc):
        pass
'''


@lru_cache(maxsize=1)
def required_plugin(directory: str) -> str:
    path = Path(directory) / "required_plugin.py"
    path.write_text(textwrap.dedent(REQUIRED_PLUGIN))
    load_plugin(path)
    return str(path)


def test_a_parameter_without_a_default_says_so(tmp_path_factory, capsys):
    from nas_harness.cli.algorithms import format_algorithms

    required_plugin(str(tmp_path_factory.mktemp("plugin")))
    cls = get_algorithm("t_required")
    with pytest.raises(ParamError) as info:
        parse_params(cls, {"batch": "2"})
    message = str(info.value)
    assert "_MISSING_TYPE" not in message and "object at" not in message
    assert "width has no default" in message and "--param width=VALUE" in message
    assert "width (int, required (no default))" in message
    assert parse_params(cls, {"width": "3"}).width == 3
    listing = format_algorithms()
    assert "_MISSING_TYPE" not in listing and "width  int = <required>" in listing


def test_a_budget_above_the_space_names_the_real_limit():
    spec = SweepSpec(algorithms=("random",), datasets=("cifar10",), runs=1, budget=40000)
    with pytest.raises(ProtocolError, match="use --budget 32768 or less"):
        nas_harness.sweep.plan_sweep(spec, TABLE)


@pytest.mark.parametrize("value", ["inf", "nan", "Infinity"])
def test_max_flops_fraction_inf_is_not_no_constraint(tmp_path, capsys, value):
    with pytest.raises(SystemExit) as info:
        run(tmp_path / "runs", *SMALL, "--max-flops-fraction", value)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "'none' for no constraint" in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("value", ["0", "1.5", "-0.5"])
def test_max_flops_fraction_out_of_range_is_one_line(tmp_path, capsys, value):
    assert run(tmp_path / "runs", *SMALL, "--max-flops-fraction", value) == 2
    assert "for no constraint" in one_line(capsys.readouterr().err)
    assert not (tmp_path / "runs").exists()
    with pytest.raises(ProtocolError, match="for no constraint"):
        SweepSpec(algorithms=("random",), datasets=("cifar10",), runs=1,
                  max_flops_fraction=float("inf"))


def test_max_flops_fraction_none_is_no_constraint(tmp_path):
    assert run(tmp_path / "runs", *SMALL, "--max-flops-fraction", "none") == 0
    sidecar = json.loads((tmp_path / "runs" / "cifar10" / "t_random" / "run-000.json")
                         .read_text())
    assert sidecar["protocol"]["max_flops_fraction"] is None


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_a_non_finite_parameter_is_one_line_before_work(tmp_path, capsys, value):
    out = tmp_path / "runs"
    assert main(["run", "--out", str(out), "--no-progress", "--workers", "1", "-a",
                 "reinforce", "-d", "cifar10", "--runs", "2", "--budget", "5",
                 "-p", f"learning_rate={value}"]) == 2
    line = one_line(capsys.readouterr().err)
    assert "learning_rate must be a finite number" in line
    assert not out.exists()


@pytest.mark.parametrize("value", ["0", "-1", "inf", "soon"])
def test_run_timeout_must_be_positive_seconds(tmp_path, capsys, value):
    with pytest.raises(SystemExit):
        run(tmp_path / "runs", *SMALL, "--run-timeout", value)
    assert "positive number of seconds" in capsys.readouterr().err
