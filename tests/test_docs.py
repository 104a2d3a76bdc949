"""The README and the documentation stay true: every block runs or parses as written.

Every include resolves to the file the tools wrote, and no page carries history.

The set-up commands are run verbatim in a fresh virtual environment made from a clean copy of
the repository only when ``NAS_HARNESS_SETUP_TEST=1`` (an install and the whole suite: minutes).
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tomllib

from tools.docs.generate import DIRECTIVE, expand

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = sorted(DOCS.rglob("*.md"))
TEXTS = [README, *PAGES]
REQUIRED_PAGES = (
    "index.md", "getting-started.md", "protocol.md", "algorithms/index.md",
    "algorithms/layernas.md", "algorithms/random.md", "algorithms/evolution.md",
    "algorithms/ppo.md", "algorithms/reinforce.md", "algorithms/libraries.md",
    "adding-an-algorithm.md", "wrapping-a-library.md", "regression-gate.md",
    "official-archive.md", "data.md", "guarantees.md", "performance.md", "statistics.md",
    "results.md", "cli.md", "api.md",
)
SNIPPET = re.compile(r'^--8<-- "([^"]+)"\s*$', re.M)
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.M | re.S)


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def blocks(language: str) -> list[tuple[str, str]]:
    """Every fenced block of ``language`` in the README and the pages, snippets included."""
    found = []
    for path in TEXTS:
        for lang, body in FENCE.findall(path.read_text()):
            if lang == language:
                found.append((rel(path), SNIPPET.sub(
                    lambda m: (ROOT / m.group(1)).read_text().rstrip("\n"), body)))
    return found


def setup_commands() -> list[str]:
    block = re.search(r"## Setup: two commands.*?```bash\n(.*?)```", README.read_text(), re.S)
    assert block, "README lost its 'Setup: two commands' block"
    return [line for line in block.group(1).splitlines() if line.strip()]


# -- the pages and their includes --------------------------------------------------------------

def nav_pages() -> list[str]:
    import yaml  # pyyaml comes with dask

    def walk(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, dict):
            return [page for value in node.values() for page in walk(value)]
        if isinstance(node, list):
            return [page for item in node for page in walk(item)]
        return []

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    return walk(config["nav"])


def test_the_required_pages_exist_and_every_page_is_in_the_nav():
    pages = {path.relative_to(DOCS).as_posix() for path in PAGES}
    assert set(REQUIRED_PAGES) <= pages
    nav = nav_pages()
    assert sorted(nav) == sorted(set(nav)), "a page is twice in the nav"
    assert set(nav) == pages, "mkdocs.yml's nav and docs/ differ: give each page a nav line"


@pytest.mark.parametrize("page", PAGES, ids=rel)
def test_every_include_resolves(page):
    text = page.read_text()
    for path in SNIPPET.findall(text):
        assert (ROOT / path).is_file(), f"{rel(page)} includes {path}, which does not exist"
    expanded = expand(text)            # raises on a missing file, section, row or claim
    assert not DIRECTIVE.search(expanded)


def test_an_include_is_the_file_text():
    """A section include is the file's text, so a re-run of the tools updates the page."""
    page = expand('<!-- section: results/summary.md "Reference lines" -->')
    summary = (ROOT / "results" / "summary.md").read_text()
    assert page and page in summary
    rows = expand('<!-- rows: results/tables/checkpoints.md "ppo" -->').splitlines()
    checkpoints = (ROOT / "results" / "tables" / "checkpoints.md").read_text().splitlines()
    assert len(rows) == 2 + 3 and set(rows) <= set(checkpoints)
    assert all("| ppo |" in row for row in rows[2:])


def test_the_cli_reference_covers_every_command():
    from tools.docs.generate import cli_reference

    reference = cli_reference()
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name in action.choices:
                assert f"## nas-harness {name}\n" in reference
    assert "## nas-harness data fetch\n" in reference


def test_the_tuning_table_is_the_records_choice():
    import json

    from tools.docs.generate import tuning_table

    table = tuning_table()
    for name in ("random", "evolution", "layernas", "reinforce", "ppo"):
        record = json.loads((ROOT / "results" / "tuning" / f"{name}.json").read_text())
        row = next(line for line in table.splitlines() if line.startswith(f"| `{name}` |"))
        assert f"{record['chosen']['score']:.2f}" in row
        for key in record["chosen"]["params"]:
            assert f"`{key}=" in row


def test_the_tuning_budget_on_the_page_is_the_records():
    import json

    page = " ".join((DOCS / "algorithms" / "tuning.md").read_text().split())
    for name in ("random", "evolution", "layernas", "reinforce", "ppo"):
        budget = json.loads((ROOT / "results" / "tuning" / f"{name}.json").read_text())["budget"]
        stated = (f"at most {budget['configurations']} settings x {budget['runs']} runs x "
                  f"{len(budget['datasets'])} datasets x {budget['queries']} queries "
                  f"({budget['max_queries']:,} queries)")
        assert stated in page, name


HISTORY = [
    (r"\bissues? \d+", "an issue number"),
    (r"\bthis (round|session)\b", "'this round/session'"),
    (r"\b20\d\d-\d\d-\d\d\b", "a date"),
    (r"\b(earlier|previous|last) (round|session)s?\b", "a round or session"),
    (r"\bmutation[- ]testing log", "a mutation-testing log"),
    (r"\bbefore the tests were strengthened\b", "a test-strength history"),
]


@pytest.mark.parametrize("path", TEXTS, ids=rel)
def test_no_history_in_user_facing_text(path):
    text = path.read_text()
    for pattern, what in HISTORY:
        found = re.search(pattern, text, re.I)
        assert not found, f"{rel(path)} holds {what} ({found.group(0)!r}): history goes in " \
                          "CHANGELOG.md"


def test_the_changelog_keeps_the_history():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog and "## [0.1.0]" in changelog
    assert "keepachangelog.com" in changelog


def test_citation_and_licence():
    citation = (ROOT / "CITATION.cff").read_text()
    for needle in ("cff-version: 1.2.0", "NATS-Bench", "LayerNAS", "2102.04208",
                   "vilhess/MONET", "license: MIT"):
        assert needle in citation
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "MIT"


def test_the_guarantees_name_tests_that_exist():
    text = (DOCS / "guarantees.md").read_text()
    for cell in re.findall(r"^\|[^|]+\| (.+) \|$", text, re.M):
        current = None
        for ref in re.findall(r"`([^`]+)`", cell):
            path, _, name = ref.partition("::")
            if path:
                current = ROOT / path
                assert current.is_file(), ref
            if name:
                assert current is not None
                assert re.search(rf"^def {re.escape(name)}\(", current.read_text(), re.M), ref


# -- shell blocks: every line parses as written ------------------------------------------------

def build_parser():
    from nas_harness.cli.main import build_parser as build

    return build()


class _Parsed(Exception):
    pass


def _parses(module_main, args: list[str], monkeypatch) -> None:
    """``module_main(args)`` gets as far as a successful ``parse_args``, and no further."""
    original = argparse.ArgumentParser.parse_args

    def parse_then_stop(self, *a, **k):
        original(self, *a, **k)
        raise _Parsed

    with monkeypatch.context() as patch:
        patch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
        with pytest.raises(_Parsed):
            module_main(args)


def shell_lines() -> list[tuple[str, str]]:
    lines = []
    for where, body in blocks("bash"):
        for line in body.splitlines():
            line = line.split(" #")[0].strip() if not line.startswith("#") else ""
            if line:
                lines.append((where, line))
    return lines


def _extras() -> set[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(pyproject["project"]["optional-dependencies"])


@pytest.mark.parametrize(("where", "line"), shell_lines(), ids=lambda v: v[:60])
def test_every_shell_line_parses(where, line, monkeypatch):
    if line in setup_commands():
        return  # run verbatim by test_setup_commands_in_a_fresh_copy
    words = shlex.split(line)
    program, args = words[0].removeprefix(".venv/bin/"), words[1:]
    if program == "nas-harness":
        build_parser().parse_args(args)   # exits (fails the test) on an unknown flag
    elif program == "python" and args[:1] == ["-m"] and args[1].startswith("tools."):
        module = importlib.import_module(args[1])
        if args[2:] or "argv" in module.main.__code__.co_varnames:
            _parses(module.main, args[2:], monkeypatch)
    elif program == "python" and args[:1] == ["tools/mutation.py"]:
        _parses(importlib.import_module("tools.mutation").main, args[1:], monkeypatch)
    elif program == "pip" and args[:2] == ["install", "-e"]:
        extras = re.fullmatch(r"\.\[([\w,-]+)\]", args[2])
        assert extras, line
        assert set(extras.group(1).split(",")) <= _extras(), line
    elif program == "pip" and args[:1] == ["install"]:
        assert {"torch", "--no-deps", "xautodl", "mylib-nas"} >= set(args[1:]), line
    elif program == "mkdocs":
        assert args[0] in {"build", "serve"}, line
    elif program == "export":
        assert re.fullmatch(r"NAS_HARNESS_(DATA|CACHE)=\S+", args[0]), line
    else:
        pytest.fail(f"{where}: no check for {line!r}; teach tests/test_docs.py how to check it")


def test_the_first_sweep_of_getting_started_runs(data_dir, tmp_path, monkeypatch, capsys):
    """The getting-started sweep and its report, as written (into a temporary directory)."""
    from nas_harness.cli.main import main

    page = (DOCS / "getting-started.md").read_text()
    block = re.search(r"## A first sweep of your own\n.*?```bash\n(.*?)```", page, re.S)
    assert block
    commands = [shlex.split(line.split(" #")[0].replace("/tmp/first", str(tmp_path / "first")))
                for line in block.group(1).splitlines() if line.strip()]
    assert [words[1] for words in commands] == ["list", "run", "report"]
    for words in commands:
        assert main([*words[1:], *(["--no-progress"] if words[1] != "list" else [])]) == 0
    report = tmp_path / "first" / "report"
    assert (report / "report.html").is_file() and (report / "figures" / "curves.png").is_file()


# -- Python and TOML blocks ---------------------------------------------------------------------

STUB_LIBRARY = textwrap.dedent('''
    """A stand-in for the tutorial's optimizer library ``mylib`` (uniform proposals)."""
    import numpy as np

    __version__ = "0.0"

    class Candidate:
        def __init__(self, channels):
            self.channels = channels

    class Annealer:
        def __init__(self, choices, seed):
            self.choices, self.rng, self.told = choices, np.random.default_rng(seed), []
        def ask(self):
            return Candidate([int(self.rng.choice(c)) for c in self.choices])
        def tell(self, candidate, value):
            self.told.append(value)
''')
RUN_ADAPTER = textwrap.dedent('''
    from nas_harness.algorithms.testing import synthetic_proposals
    first = synthetic_proposals(MyLibAnneal, None, 50, seed=3)
    assert first == synthetic_proposals(MyLibAnneal, None, 50, seed=3) and len(first) == 50
    print("adapter ran")
''')


def python_blocks() -> list[tuple[str, str]]:
    return blocks("python")


@pytest.mark.parametrize(("where", "code"), python_blocks(),
                         ids=lambda v: v.splitlines()[0][:50] if "\n" in v else v)
def test_every_python_block_runs(where, code, tmp_path):
    script = code
    if "mylib" in code:       # the adapter example: a stub library, then a short search
        (tmp_path / "mylib.py").write_text(STUB_LIBRARY)
        script = f"{code}\n{RUN_ADAPTER}"
    path = tmp_path / "block.py"
    path.write_text(script)
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT), str(ROOT / "examples")])}
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 0, f"{where}:\n{done.stderr[-2000:]}"
    if "mylib" in code:
        assert "adapter ran" in done.stdout


@pytest.mark.parametrize(("where", "text"), blocks("toml"), ids=lambda v: v[:40])
def test_every_toml_block_parses(where, text, tmp_path):
    from nas_harness.experiment_file import parse_experiment

    data = tomllib.loads(text)
    if "datasets" in data:      # a whole experiment
        parse_experiment(data, tmp_path / "experiments")
    elif "algorithms" in data:  # an addition to experiments/paper.toml
        paper = tomllib.loads((ROOT / "experiments" / "paper.toml").read_text())
        merged = {**paper, **{k: v for k, v in data.items() if k != "algorithms"},
                  "algorithms": [*paper["algorithms"], *data["algorithms"]]}
        merged["plugins"] = [str(ROOT / "experiments" / p) for p in merged.get("plugins", [])]
        experiment = parse_experiment(merged, ROOT / "experiments")
        assert "hill-climbing" in {a.name for a in experiment.spec.algorithms}
    else:                       # a pyproject fragment
        assert "nas_harness.algorithms" in data["project"]["entry-points"]


# -- the set-up commands, verbatim, in a fresh copy (opt-in) -----------------------------------

@pytest.mark.skipif(os.environ.get("NAS_HARNESS_SETUP_TEST") != "1",
                    reason="minutes: an install and the whole suite; NAS_HARNESS_SETUP_TEST=1 "
                           "runs it (.ci/run does with CI_SETUP_CHECK=1)")
def test_setup_commands_in_a_fresh_copy(tmp_path):
    """The README's two commands, verbatim, in a clean copy with the data beside it."""
    from conftest import DEFAULT_DATA

    data = Path(os.environ.get("NAS_HARNESS_DATA") or DEFAULT_DATA)
    assert data.is_dir(), f"the set-up test needs the data directory ({data})"
    repo = tmp_path / "repo"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.splitlines()
    for name in files:   # the working tree's tracked and new files: a clean copy, no build
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "shared" / "data" / "natsbench_sss").symlink_to(data.resolve())
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("NAS_HARNESS_", "VIRTUAL_ENV", "PYTHON"))}
    env["NAS_HARNESS_CACHE"] = str(tmp_path / "cache")
    for command in setup_commands():
        done = subprocess.run(["bash", "-c", command], cwd=repo, env=env, capture_output=True,
                              text=True)
        assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    changed = subprocess.run(["diff", "-r", "-q", str(ROOT / "results" / "tables"),
                              str(repo / "results" / "tables")], capture_output=True, text=True)
    assert changed.returncode == 0, changed.stdout
