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
