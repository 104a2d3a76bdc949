"""The README stays true: its test command is CI's, its example plugin is the shipped one."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def setup_commands() -> list[str]:
    block = re.search(r"## Setup: two commands.*?```bash\n(.*?)```", README, re.S)
    assert block, "README lost its 'Setup: two commands' block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_setup_is_two_commands_install_and_reproduce_then_tests():
    install, tests = setup_commands()
    assert "pip install -e" in install and "nas-harness reproduce" in install
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command():
    _, tests = setup_commands()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests.strip() in [line.strip() for line in ci]


def test_readme_example_plugin_is_the_shipped_file():
    example = (ROOT / "examples" / "my_algorithm.py").read_text().rstrip("\n")
    assert f"```python\n{example}\n```" in README


def section(title: str) -> str:
    """The README's text under the level-2 heading `title`, up to the next level-2 heading."""
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert found, f"README lost its '{title}' section"
    return found.group(1)


def checkpoint_rows(text: str) -> list[str]:
    """The rows of the checkpoint tables in `text` (header '| dataset | algorithm | 50 queries')."""
    rows: list[str] = []
    header = r"^\| dataset \| algorithm \| 50 queries.*?\n((?:\|.*\n)+)"
    for table in re.findall(header, text, re.M):
        rows += [row for row in table.splitlines() if not row.startswith("|---")]
    return rows


def test_readme_results_table_is_the_committed_checkpoints_table():
    rows = checkpoint_rows(section("Results"))
    committed = (ROOT / "results" / "tables" / "checkpoints.md").read_text().splitlines()
    assert len(rows) == 18
    assert rows == [row for row in committed if row in rows]
    assert set(rows) <= set(committed)


def markdown_rows(text: str, header: str) -> list[list[str]]:
    """The cells of the rows of the Markdown table in ``text`` whose header line starts so."""
    found = re.search(rf"^{re.escape(header)}.*\n\|[-|: ]+\n((?:\|.*\n)+)", text, re.M)
    assert found, f"no table with header {header!r}"
    return [[cell.strip() for cell in row.strip().strip("|").split("|")]
            for row in found.group(1).splitlines()]


def test_readme_libraries_table_is_the_committed_libraries_results_at_the_budget():
    import tomllib

    header = "| algorithm | library | CIFAR-10 | CIFAR-100 | ImageNet16-120 |"
    rows = markdown_rows(section("Optimizer libraries"), header)
    committed = markdown_rows(
        (ROOT / "results" / "libraries" / "tables" / "checkpoints.md").read_text(),
        "| dataset | algorithm |")
    at_budget = {(row[0], row[1]): row[-1] for row in committed}  # the 500-query column
    experiment = tomllib.loads((ROOT / "experiments" / "libraries.toml").read_text())
    names = [a.get("label", a["name"]) for a in experiment["algorithms"]]
    assert sorted(row[0].strip("`") for row in rows) == sorted(names)  # every one, once
    for row in rows:
        for dataset, cell in zip(("CIFAR-10", "CIFAR-100", "ImageNet16-120"), row[2:],
                                 strict=True):
            assert cell == at_budget[(dataset, row[0].strip("`"))], (row[0], dataset)
