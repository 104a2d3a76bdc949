"""``nas-harness run`` / ``reproduce``: clear errors before any work, exit codes, resume."""

import sys
import types

import pytest
from sweep_fixtures import plugin_path, synthetic_table

import nas_harness.sweep
from nas_harness.benchmarks.run_files import load_runs
from nas_harness.cli import main

TABLE = synthetic_table()


@pytest.fixture(autouse=True)
def synthetic_data(monkeypatch):
    monkeypatch.setattr(nas_harness.sweep, "default_table", lambda: TABLE)


def run(out, *extra):
    return main(["run", "--out", str(out), "--no-progress", "--workers", "1",
                 "--plugin", str(plugin_path()), *extra])


def test_run_then_rerun_does_no_work(tmp_path, capsys):
    out = tmp_path / "runs"
    args = ["-a", "t_random", "-d", "c10", "-d", "cifar100", "--runs", "3", "--budget", "15",
            "--param", "batch=2"]
    assert run(out, *args) == 0
    assert "6 runs computed" in capsys.readouterr().out
    df = load_runs(out)
    assert len(df) == 6 * 15 and set(df["dataset"]) == {"cifar10", "cifar100"}
    assert run(out, *args) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert run(out, *args, "--force") == 0
    assert "6 runs computed" in capsys.readouterr().out


def test_label_keeps_a_parameter_variant_apart(tmp_path):
    out = tmp_path / "runs"
    assert run(out, "-a", "t_random", "-d", "cifar10", "--runs", "1", "--budget", "5",
               "-p", "batch=5", "--label", "t_random-b5") == 0
    assert (out / "cifar10" / "t_random-b5" / "run-000.json").is_file()


def test_failures_exit_non_zero_with_a_summary(tmp_path, capsys):
    marker = plugin_path().with_name("FAIL")
    marker.touch()
    try:
        code = run(tmp_path / "runs", "-a", "t_flaky,t_random", "-d", "cifar10", "--runs", "6",
                   "--budget", "10")
    finally:
        marker.unlink()
    err = capsys.readouterr().err
    assert code == 1
    assert "failed" in err and "cifar10/t_flaky/" in err and "t_flaky failed on purpose" in err
    assert "re-run the same command" in err
    assert run(tmp_path / "runs", "-a", "t_flaky,t_random", "-d", "cifar10", "--runs", "6",
               "--budget", "10") == 0


@pytest.mark.parametrize(("args", "message"), [
    (["-a", "no_such_algo", "-d", "cifar10"], "unknown algorithm 'no_such_algo'"),
    (["-a", "t_random", "-d", "mnist"], "unknown dataset 'mnist'"),
    (["-a", "t_random", "-d", "cifar10", "--budget", "0"], "positive integer"),
    (["-a", "t_random", "-d", "cifar10", "--budget", "40000"], "exceeds the 32768"),
    (["-a", "t_random", "-d", "cifar10", "--runs", "0"], "runs must be"),
    (["-a", "t_random", "-d", "cifar10", "--max-flops-fraction", "0.1"],
     "no architecture with data satisfies"),
    (["-a", "t_random", "-d", "cifar10", "--max-flops-fraction", "2"], "max_flops_fraction"),
    (["-a", "t_random", "-d", "cifar10", "--fidelity", "200"], "unknown fidelity"),
    (["-a", "t_random", "-d", "cifar10", "-p", "nope=1"], "no parameter 'nope'"),
    (["-a", "t_random", "-d", "cifar10", "-p", "batch=many"], "must be an integer"),
    (["-a", "t_random", "-d", "cifar10", "-p", "batch"], "name=value"),
    (["-a", "t_random,t_hill", "-d", "cifar10", "-p", "batch=2"], "one algorithm"),
    (["-a", "t_random", "-d", "cifar10", "--workers", "0"], "workers must be"),
    (["-a", "t_random", "-d", "cifar10", "--master-seed", "-1"], "master seed"),
])
def test_bad_input_is_a_clear_error_before_any_work(tmp_path, capsys, args, message):
    out = tmp_path / "runs"
    assert run(out, "--runs", "2", *args) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_missing_plugin_is_a_clear_error(tmp_path, capsys):
    code = main(["run", "-a", "x", "-d", "cifar10", "--out", str(tmp_path / "o"),
                 "--plugin", str(tmp_path / "missing.py")])
    assert code == 2 and "does not exist" in capsys.readouterr().err


def test_reproduce_runs_the_paper_sweep_then_the_report_once(tmp_path, capsys, monkeypatch):
    calls = []
    fake = types.ModuleType("nas_harness.analysis.report")
    fake.build_report = lambda runs_dir, out_dir, **kw: calls.append((runs_dir, out_dir, kw)) \
        or types.SimpleNamespace(report=out_dir / "report.html")
    monkeypatch.setitem(sys.modules, "nas_harness.analysis.report", fake)
    out, report = tmp_path / "runs", tmp_path / "report"
    report.mkdir()
    args = ["reproduce", "--out", str(out), "--report-dir", str(report), "--runs", "2",
            "--budget", "12", "--no-progress", "--workers", "1"]
    assert main(args) == 0
    n_paper = len(nas_harness.sweep.PAPER_ALGORITHMS) * 3 * 2  # algorithms x datasets x runs
    text = capsys.readouterr().out
    assert f"{n_paper} runs computed" in text and f"report: {report / 'report.html'}" in text
    df = load_runs(out)
    assert set(df["dataset"]) == {"cifar10", "cifar100", "ImageNet16-120"}
    assert set(df["algorithm"]) == set(nas_harness.sweep.PAPER_ALGORITHMS)
    assert len(calls) == 1
    runs_dir, out_dir, kw = calls[0]
    assert (runs_dir, out_dir) == (out, report)
    assert kw["algorithms"] == list(nas_harness.sweep.PAPER_ALGORITHMS) and kw["runs"] == 2
    assert kw["datasets"] == ["cifar10", "cifar100", "ImageNet16-120"]
    assert "experiments/paper.toml" in kw["stamp"]["experiment"]
    assert main(args) == 0  # a second call does no work at all
    text = capsys.readouterr().out
    assert "nothing to do" in text and "report already built" in text
    assert len(calls) == 1


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: 100)" in text and "(default: 500)" in text and "(default: 0.5)" in text


def test_experiment_file_excludes_sweep_flags(tmp_path, capsys):
    file = tmp_path / "e.toml"
    file.write_text('output = "runs"\n[[algorithms]]\nname = "t_random"\n')
    assert run(tmp_path / "o", str(file), "--budget", "7") == 2
    assert "--budget: the experiment file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() and not (tmp_path / "runs").exists()


def test_run_needs_a_file_or_algorithms_and_datasets(tmp_path, capsys):
    assert run(tmp_path / "o", "-a", "t_random") == 2
    assert "give an experiment file" in capsys.readouterr().err
