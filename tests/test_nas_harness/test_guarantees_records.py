"""Guarantees: experiments are immutable, self-describing records.

Each test reproduces a once-found defect (results silently lost or mixed, names that are
paths, a report written into the committed results/) and shows it fixed. The README's
Guarantees section points here. The benchmark table is synthetic (no NATS-Bench data).
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sweep_fixtures import plugin_path, synthetic_table, tree

import nas_harness
import nas_harness.benchmarks.data.store
import nas_harness.sweep
from nas_harness.analysis.runs import load_results
from nas_harness.benchmarks.errors import ProtocolError
from nas_harness.benchmarks.protocol import Protocol
from nas_harness.benchmarks.run_files import run_paths, sidecar_text
from nas_harness.cli import main
from nas_harness.cli.main import build_parser
from nas_harness.experiment import PAPER_ALGORITHMS, reproduce_spec
from nas_harness.experiment_file import PAPER_EXPERIMENT, load_experiment
from nas_harness.runner import RunTask, protocol_record
from nas_harness.sweep import LOCK_NAME

ROOT = Path(__file__).resolve().parents[2]
TABLE = synthetic_table()
SMALL = ["--runs", "2", "--budget", "12"]


@pytest.fixture(autouse=True)
def synthetic_data(monkeypatch):
    monkeypatch.setattr(nas_harness.sweep, "default_table", lambda: TABLE)
    monkeypatch.setattr(nas_harness.benchmarks.data.store, "load_table", lambda *a, **k: TABLE)


def run(out, *extra):
    return main(["run", "--out", str(out), "--no-progress", "--workers", "1",
                 "--plugin", str(plugin_path()), *extra])


def files_under(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file()}


# -- a run's identity is its whole configuration -----------------------------------------------

@pytest.mark.parametrize("changed", [
    ["-p", "batch=3"],            # another parameter
    ["--budget", "13"],           # another protocol
    ["--master-seed", "5"],       # another master seed
    ["--max-flops-fraction", "none"],
])
def test_another_configuration_is_refused_before_any_work(tmp_path, capsys, changed):
    out = tmp_path / "runs"
    base = ["-a", "t_random", "-d", "cifar10", *SMALL, "-p", "batch=2"]
    assert run(out, *base) == 0
    before = tree(out)
    capsys.readouterr()
    assert run(out, *base, *changed) == 2  # the later flag wins
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1  # one line
    assert "holds 2 complete run(s) of another configuration" in err
    assert "than this sweep" in err and "--label" in err and "--force" in err
    assert tree(out) == before  # nothing replaced, nothing added


def test_the_refusal_names_both_configurations(tmp_path, capsys):
    out = tmp_path / "runs"
    assert run(out, "-a", "t_random", "-d", "cifar10", *SMALL) == 0
    capsys.readouterr()
    assert run(out, "-a", "t_random", "-d", "cifar10", *SMALL, "--master-seed", "5") == 2
    err = capsys.readouterr().err
    assert "(master_seed=0) than this sweep (master_seed=5)" in err


def test_a_new_label_keeps_both_and_force_replaces(tmp_path, capsys):
    out = tmp_path / "runs"
    assert run(out, "-a", "t_random", "-d", "cifar10", "--runs", "3", "--budget", "12") == 0
    assert run(out, "-a", "t_random", "-d", "cifar10", *SMALL, "--master-seed", "5",
               "--label", "t_random-s5") == 0
    df = nas_harness.load_runs(out)
    assert df.groupby("algorithm")["master_seed"].unique().map(list).to_dict() == {
        "t_random": [0], "t_random-s5": [5]}
    # --force replaces every run of the other configuration, run-002 included: none mix
    assert run(out, "-a", "t_random", "-d", "cifar10", *SMALL, "--master-seed", "5",
               "--force") == 0
    df = nas_harness.load_runs(out, algorithms=["t_random"])
    assert sorted(df["run"].unique()) == [0, 1] and set(df["master_seed"]) == {5}


def test_resume_is_kept_for_the_same_configuration(tmp_path, capsys):
    out = tmp_path / "runs"
    args = ["-a", "t_random", "-d", "cifar10", "--runs", "3", "--budget", "12"]
    assert run(out, *args) == 0
    reference = tree(out)
    run_paths(out, "cifar10", "t_random", 1).parquet.unlink()
    capsys.readouterr()
    assert run(out, *args) == 0
    assert "1 runs computed, 2 already complete" in capsys.readouterr().out
    assert tree(out) == reference  # byte-identical to the uninterrupted sweep
    assert run(out, *args[:-4], "--runs", "2", "--budget", "12") == 0  # fewer runs: same config


def test_failed_runs_of_another_configuration_are_not_a_conflict(tmp_path, capsys):
    out = tmp_path / "runs"
    marker = plugin_path().with_name("FAIL")
    marker.touch()
    try:
        assert run(out, "-a", "t_flaky", "-d", "cifar10", "--runs", "4", "--budget", "12",
                   "-p", "p=1.0") == 1
    finally:
        marker.unlink()
    assert run(out, "-a", "t_flaky", "-d", "cifar10", *SMALL, "-p", "p=0.0") == 0
    records = [json.loads(p.read_text()) for p in (out / "cifar10" / "t_flaky").glob("*.json")]
    assert len(records) == 2 and {r["params"]["p"] for r in records} == {0.0}


def test_a_refusal_deletes_nothing_not_even_failures(tmp_path, capsys):
    out = tmp_path / "runs"
    marker = plugin_path().with_name("FAIL")
    marker.touch()
    try:
        assert run(out, "-a", "t_flaky", "-d", "cifar10", "--runs", "8", "--budget", "12",
                   "-p", "p=0.5") == 1
    finally:
        marker.unlink()
    statuses = {json.loads(p.read_text())["status"] for p in out.rglob("run-*.json")}
    assert statuses == {"complete", "failed"}
    before = tree(out)
    assert run(out, "-a", "t_flaky", "-d", "cifar10", *SMALL, "-p", "p=0.0") == 2
    assert tree(out) == before
    assert run(out, "-a", "t_flaky", "-d", "cifar10", *SMALL, "-p", "p=0.0", "--force") == 0
    assert len(list(out.rglob("run-*.json"))) == 2


def test_identity_holds_the_whole_protocol_record():
    task = RunTask("a", "a", (), "cifar10", 0, budget=10)
    assert task.identity("c")["protocol"] == {"budget": 10, "fidelity": "90",
                                              "max_flops_fraction": 0.5}
    # a field added to the Protocol enters the identity without touching the runner
    extended = dataclasses.make_dataclass(
        "Extended", [("seconds", "float | None", dataclasses.field(default=None))],
        bases=(Protocol,), frozen=True)
    assert "seconds" not in protocol_record(extended("cifar10"))  # default: old fingerprints
    assert protocol_record(extended("cifar10", seconds=60.0))["seconds"] == 60.0
    assert task.configuration("c") == {
        "algorithm": "a", "algorithm_name": "a", "params": {}, "dataset": "cifar10",
        "protocol": {"budget": 10, "fidelity": "90", "max_flops_fraction": 0.5},
        "master_seed": 0, "table_checksum": "c"}


def test_the_identity_of_existing_runs_is_unchanged():
    """The fingerprint of a run is what it was before this change: old runs stay complete."""
    task = RunTask("random", "random", (("replace", False),), "cifar10", 3, budget=500)
    old = {"run_id": "cifar10/random/003", "algorithm": "random", "algorithm_name": "random",
           "params": {"replace": False}, "dataset": "cifar10", "run": 3,
           "protocol": {"budget": 500, "fidelity": "90", "max_flops_fraction": 0.5},
           "seed": task.seeds.to_dict(), "table_checksum": "t"}
    import hashlib

    text = json.dumps(old, sort_keys=True, separators=(",", ":"))
    assert task.fingerprint("t") == hashlib.sha256(text.encode()).hexdigest()


# -- report refuses runs of different configurations under one name ---------------------------

def test_report_refuses_mixed_configurations_under_one_label(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(a, "-a", "t_random", "-d", "cifar10", "--runs", "1", "--budget", "12",
               "-p", "batch=1") == 0
    assert run(b, "-a", "t_random", "-d", "cifar10", *SMALL, "-p", "batch=4") == 0
    stray = run_paths(b, "cifar10", "t_random", 1)  # as a concurrent writer used to leave it
    for path in (stray.parquet, stray.sidecar):
        (a / "cifar10" / "t_random" / path.name).write_bytes(path.read_bytes())
    with pytest.raises(ProtocolError, match=r"holds runs of 2 configurations \(params.batch=1 "
                                            r"vs params.batch=4\)"):
        load_results(a)


def test_report_refuses_mixed_master_seeds(tmp_path):
    out = tmp_path / "runs"
    assert run(out, "-a", "t_random", "-d", "cifar10", *SMALL) == 0
    assert run(out, "-a", "t_hill", "-d", "cifar10", *SMALL, "--master-seed", "3") == 0
    with pytest.raises(ProtocolError, match="mix master_seed values"):
        load_results(out)
    assert len(load_results(out, algorithms=["t_hill"]).complete) == 2


# -- one writer per directory -------------------------------------------------------------------

def test_a_second_writer_fails_with_a_clear_line(tmp_path, capsys):
    from filelock import FileLock

    out = tmp_path / "runs"
    out.mkdir()
    with FileLock(str(out / LOCK_NAME)):  # another sweep holds the directory
        assert run(out, "-a", "t_random", "-d", "cifar10", *SMALL) == 2
    err = capsys.readouterr().err
    assert "another sweep is writing to" in err and "another --out" in err
    assert not (out / "cifar10").exists()
    assert run(out, "-a", "t_random", "-d", "cifar10", *SMALL) == 0  # released: runs


# -- names are names ------------------------------------------------------------------------------

@pytest.mark.parametrize("label", ["../../x", "/tmp/abs-label", "a/b", "", " ", ".hidden",
                                   "a\\b", ".."])
def test_label_must_be_a_name(tmp_path, capsys, monkeypatch, label):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "deep" / "er" / "runs"
    assert run(out, "-a", "t_random", "-d", "cifar10", *SMALL, "--label", label) == 2
    err = capsys.readouterr().err
    assert "the label" in err and "a label is one directory name" in err
    assert files_under(tmp_path) == {}


def test_empty_out_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run("", "-a", "t_random", "-d", "cifar10", *SMALL) == 2
    assert "--out is empty" in capsys.readouterr().err
    assert files_under(tmp_path) == {}


# -- experiments as files -------------------------------------------------------------------------

EXPERIMENT = """
name = "study"
output = "out/runs"
datasets = ["c10"]
runs = 2
master_seed = 7
plugins = ["{plugin}"]

[protocol]
budget = 12

[[algorithms]]
name = "t_random"
label = "rand-b3"
params = {{ batch = 3 }}

[[algorithms]]
name = "t_hill"
"""


def test_experiment_file_runs_into_its_output_and_reports_exactly_its_runs(tmp_path, capsys,
                                                                          monkeypatch):
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # paths in the file are relative to the file
    exp = tmp_path / "exp" / "study.toml"
    exp.parent.mkdir()
    exp.write_text(EXPERIMENT.format(plugin=plugin_path()))
    assert main(["run", str(exp), "--no-progress", "--workers", "1"]) == 0
    assert f"nas-harness report {exp}" in capsys.readouterr().out
    runs = tmp_path / "exp" / "out" / "runs"
    df = nas_harness.load_runs(runs)
    assert set(df["algorithm"]) == {"rand-b3", "t_hill"} and set(df["master_seed"]) == {7}
    assert set(df.loc[df["algorithm"] == "rand-b3", "param_batch"]) == {3}
    # another sweep in the same directory: the experiment's report ignores it
    assert run(runs, "-a", "t_flaky", "-d", "cifar10", *SMALL, "--master-seed", "7") == 0
    assert main(["report", str(exp), "--no-progress", "--checkpoints", "5,12"]) == 0
    summary = pd.read_csv(runs / "report" / "tables" / "summary.csv")
    assert set(summary["algorithm"]) == {"rand-b3", "t_hill"}
    assert files_under(elsewhere) == {}


@pytest.mark.parametrize(("text", "message"), [
    ("output = 'o'\n[[algorithms]]\nname = 'x'\nbudget = 3\n[oops", "is not valid TOML"),
    ("output = 'o'\nrun = 3\n[[algorithms]]\nname = 'x'\n", "unknown key(s) 'run'"),
    ("[[algorithms]]\nname = 'x'\n", "needs output"),
    ("output = ''\n[[algorithms]]\nname = 'x'\n", "output must be a non-empty path"),
    ("output = 'o'\n", "at least one [[algorithms]]"),
    ("output = 'o'\n[[algorithms]]\nname = 'x'\nlabel = '../x'\n", "is a path"),
    ("output = 'o'\n[protocol]\nbudgets = 3\n[[algorithms]]\nname = 'x'\n",
     "unknown protocol field(s) budgets"),
])
def test_a_bad_experiment_file_is_one_line(tmp_path, capsys, text, message):
    exp = tmp_path / "bad.toml"
    exp.write_text(text)
    assert main(["run", str(exp), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err and str(exp) in err and len(err.strip().splitlines()) == 1
    assert files_under(tmp_path) == {"bad.toml": text.encode()}


def test_a_preset_is_part_of_the_algorithm_name(tmp_path):
    from nas_harness.experiment_file import parse_experiment

    data = {"output": "o", "algorithms": [
        {"name": "evolution", "preset": "natsbench"},
        {"name": "random:wide", "label": "rw", "params": {"replace": True}}]}
    experiment = parse_experiment(data, tmp_path)
    names = [(a.name, a.label, a.params) for a in experiment.spec.algorithms]
    assert names == [("evolution:natsbench", "evolution:natsbench", ()),
                     ("random:wide", "rw", (("replace", True),))]
    task = RunTask("rw", "random:wide", (("replace", True),), "cifar10", 0, budget=10)
    assert task.configuration("c")["algorithm_name"] == "random:wide"  # in the identity
    with pytest.raises(ProtocolError, match="given once"):
        parse_experiment({"output": "o", "algorithms": [{"name": "a:b", "preset": "c"}]},
                         tmp_path)


def test_paper_experiment_is_the_paper_spec():
    experiment = load_experiment(PAPER_EXPERIMENT)
    assert experiment.spec == reproduce_spec()
    assert experiment.output == ROOT / "results" / "runs"
    assert experiment.report_dir == ROOT / "results"
    assert experiment.labels == PAPER_ALGORITHMS


def test_readme_plugin_flow_leaves_results_alone_and_reproduce_reports_only_the_paper(
        tmp_path, capsys, monkeypatch):
    """``run ... --plugin`` then ``report`` then ``reproduce`` (README, 'Add an algorithm')."""
    monkeypatch.chdir(tmp_path)
    runs, results = tmp_path / "results" / "runs", tmp_path / "results"
    results.mkdir()
    (results / "summary.md").write_text("committed\n")
    assert run(runs, "-a", "t_random", "-d", "all", *SMALL) == 0
    assert main(["report", "--runs-dir", str(runs), "--no-progress"]) == 0
    assert (runs / "report" / "report.html").is_file()
    assert (results / "summary.md").read_text() == "committed\n"  # not overwritten
    assert sorted(p.name for p in results.iterdir()) == ["runs", "summary.md"]
    capsys.readouterr()
    assert main(["reproduce", "--out", str(runs), "--report-dir", str(tmp_path / "rep"),
                 "--no-progress", "--workers", "1", *SMALL]) == 0
    paper_runs = len(PAPER_ALGORITHMS) * 3 * 2  # algorithms x datasets x runs; t_random not counted
    assert f"{paper_runs} runs computed" in capsys.readouterr().out
    summary = pd.read_csv(tmp_path / "rep" / "tables" / "summary.csv")
    assert set(summary["algorithm"]) == set(PAPER_ALGORITHMS)
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "t_random" not in html and "Produced by" in html
    assert "paper.toml" in html and f"nas-harness {nas_harness.__version__}" in html


# -- provenance and comfort -------------------------------------------------------------------

def test_report_stamp_is_in_report_html_only(tmp_path):
    from nas_harness.analysis.report import build_report

    runs = tmp_path / "runs"
    assert run(runs, "-a", "t_random", "-d", "cifar10", *SMALL) == 0
    one = build_report(runs, tmp_path / "one", table=TABLE, checkpoints=(12,),
                       stamp={"command": "nas-harness report X", "date": "2026-01-01"})
    two = build_report(runs, tmp_path / "two", table=TABLE, checkpoints=(12,))
    html = one.report.read_text()
    assert re.search(r"Produced by.*nas-harness report X.*2026-01-01", html, re.S)
    assert "Produced by" not in two.report.read_text()
    assert one.summary.read_bytes() == two.summary.read_bytes()


def test_progress_is_plain_lines_when_not_a_terminal(tmp_path, capsys):
    assert main(["run", "--out", str(tmp_path / "r"), "--workers", "1", "--plugin",
                 str(plugin_path()), "-a", "t_random", "-d", "cifar10", *SMALL]) == 0
    err = capsys.readouterr().err
    assert "loading the benchmark table" in err and "runs: 2/2 (100%)" in err
    assert "\r" not in err


def test_sidecars_hold_no_float32_artefacts():
    text = sidecar_text({"a": np.float32(0.1), "b": [np.float32(89.82)], "c": np.float64(0.1),
                         "d": 0.30000000000000004})
    record = json.loads(text)
    assert record == {"a": 0.1, "b": [89.82], "c": 0.1, "d": 0.30000000000000004}


def test_load_runs_has_parameters_as_columns(tmp_path):
    out = tmp_path / "runs"
    assert run(out, "-a", "t_random", "-d", "cifar10", *SMALL, "-p", "batch=2") == 0
    df = nas_harness.load_runs(out)
    assert {"param_batch", "param_sleep", "algorithm_name", "master_seed", "budget"} \
        <= set(df.columns)
    assert set(df["param_batch"]) == {2} and len(df) == 2 * 12


def test_readme_commands_parse_as_written():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Commands\n.*?```bash\n(.*?)```", readme, re.S)
    assert block
    lines = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    parser = build_parser()
    for line in filter(None, lines):
        words = shlex.split(line)
        assert words[0] == ".venv/bin/nas-harness", line
        parser.parse_args(words[1:])  # exits (fails the test) on an unknown flag


def test_every_help_shows_its_defaults(capsys):
    import argparse

    def parsers(parser):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield name, sub
                    yield from parsers(sub)

    missing = []
    for name, sub in parsers(build_parser()):
        text = " ".join(sub.format_help().split())
        for action in sub._actions:
            if action.option_strings and action.default not in (None, False, [],
                                                                 argparse.SUPPRESS):
                help_text = " ".join((sub._get_formatter()._get_help_string(action)
                                      or "").split())
                if "default" not in help_text.lower():
                    missing.append(f"{name} {action.option_strings[0]}")
        assert "%(default)" not in text
    assert missing == []


def test_readme_experiment_example_is_a_valid_experiment(tmp_path):
    from nas_harness.experiment_file import parse_experiment, tomllib  # tomli on 3.10

    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Commands\n.*?```toml\n(.*?)```", readme, re.S)
    assert block
    text = "\n".join(line.strip() for line in block.group(1).splitlines())
    experiment = parse_experiment(tomllib.loads(text), tmp_path / "experiments")
    assert experiment.output == tmp_path / "runs" / "evolution-study"
    assert experiment.spec.algorithms[0].params == (("population_size", 20),)
