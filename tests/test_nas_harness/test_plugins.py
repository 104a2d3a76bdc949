"""Plugin files that misbehave at import: each says what happened and where, in one line."""

import textwrap

import pytest
from sweep_fixtures import synthetic_table

import nas_harness.sweep
from nas_harness.algorithms import registry
from nas_harness.algorithms.registry import RegistryError, load_plugin
from nas_harness.cli import main

REGISTERING = """
from nas_harness.algorithms.random_search import RandomSearch
from nas_harness.algorithms.registry import register

@register("{name}")
class Plugged(RandomSearch):
    pass
"""


def _write(tmp_path, file, body, name="plugged"):
    path = tmp_path / file
    path.write_text(textwrap.dedent(body) + REGISTERING.format(name=name))
    return path


def _run(tmp_path, plugin):
    return main(["run", "-a", "random", "-d", "cifar10", "--runs", "1", "--budget", "5",
                 "--workers", "1", "--no-progress", "--out", str(tmp_path / "runs"),
                 "--plugin", str(plugin)])


@pytest.fixture(autouse=True)
def synthetic_data(monkeypatch):
    monkeypatch.setattr(nas_harness.sweep, "default_table", lambda: synthetic_table())


@pytest.mark.parametrize(("call", "shown"), [("sys.exit(5)", "5"), ("sys.exit()", "None"),
                                             ("sys.exit('bye')", "'bye'")])
def test_a_plugin_that_exits_at_import_says_so_with_its_code_and_file(tmp_path, capsys,
                                                                       call, shown):
    plugin = tmp_path / "exits.py"
    plugin.write_text(f"import sys\n{call}\n")
    assert _run(tmp_path, plugin) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"nas-harness: error: plugin {str(plugin)!r} exited at import (sys.exit({shown})); a "
        "plugin only defines and registers algorithms: remove the exit from its top level"]
    assert not (tmp_path / "runs").exists()


def test_a_plugin_that_exits_after_registering_leaves_no_name_behind(tmp_path):
    plugin = _write(tmp_path, "late_exit.py", "", name="plugged-then-exits")
    plugin.write_text(plugin.read_text() + "\nimport sys\nsys.exit(1)\n")
    with pytest.raises(RegistryError, match=r"exited at import \(sys\.exit\(1\)\)"):
        load_plugin(plugin)
    assert "plugged-then-exits" not in registry.available_algorithms()


def test_a_plugin_path_that_is_a_directory_says_so(tmp_path, capsys):
    assert _run(tmp_path, tmp_path) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"nas-harness: error: plugin {str(tmp_path)!r} is a directory; give the Python (.py) "
        "file that registers the algorithm"]


def test_a_plugins_prints_are_shown_as_its_own_on_stderr(tmp_path, capsys):
    body = """
    import sys
    print("hello from the plugin")
    print("no newline", end="")
    print("to stderr", file=sys.stderr)
    """
    plugin = _write(tmp_path, "chatty.py", body, name="chatty-plugged")
    try:
        assert load_plugin(plugin) == ["chatty-plugged"]
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.splitlines() == ["plugin chatty.py: hello from the plugin",
                                             "plugin chatty.py: no newlineto stderr"]
    finally:
        registry._forget("chatty-plugged")


def test_the_run_command_keeps_a_plugins_prints_out_of_its_own_output(tmp_path, capsys):
    plugin = _write(tmp_path, "chatty_run.py", 'print("loading my algorithm")\n',
                    name="chatty-run-plugged")
    try:
        assert _run(tmp_path, plugin) == 0
        captured = capsys.readouterr()
        assert "loading my algorithm" not in captured.out
        assert "plugin chatty_run.py: loading my algorithm" in captured.err.splitlines()
        assert "1 runs computed" in captured.out
    finally:
        registry._forget("chatty-run-plugged")
