"""The README stays true: short, its test command is CI's, its numbers are the committed files'."""

import csv
import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DATASETS = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "ImageNet16-120": "ImageNet16-120"}


def setup_commands() -> list[str]:
    block = re.search(r"## Setup: two commands.*?```bash\n(.*?)```", README, re.S)
    assert block, "README lost its 'Setup: two commands' block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_the_readme_is_a_front_door():
    assert len(README.splitlines()) <= 250
    assert "![" in README and "(results/figures/curves.png)" in README
    assert (ROOT / "results" / "figures" / "curves.png").is_file()
    for heading in ("## Setup: two commands", "## Three jobs", "## Results", "## How to cite",
                    "## Licence"):
        assert f"\n{heading}\n" in README


def test_setup_is_two_commands_install_and_reproduce_then_tests():
    install, tests = setup_commands()
    assert "pip install -e" in install and "nas-harness reproduce" in install
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command():
    _, tests = setup_commands()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests.strip() in [line.strip() for line in ci]


def test_the_links_of_the_readme_exist():
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target


def test_the_algorithm_count_is_the_paper_experiments():
    paper = tomllib.loads((ROOT / "experiments" / "paper.toml").read_text())
    names = [a["name"] for a in paper["algorithms"]]
    words = {5: "five", 6: "six"}
    assert f"({words[len(names)]} algorithm configurations -- the {words[len(names) - 1]} " \
           "algorithms and the harness's LayerNAS variant" in " ".join(README.split())
    assert sum(":" in name for name in names) == 1   # the one variant: layernas:stand-in


def section(title: str) -> str:
    """The README's text under the level-2 heading `title`, up to the next level-2 heading."""
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert found, f"README lost its '{title}' section"
    return found.group(1)


def markdown_rows(text: str, header: str) -> list[list[str]]:
    """The cells of the rows of the Markdown table in ``text`` whose header line starts so."""
    found = re.search(rf"^{re.escape(header)}.*\n\|[-|: ]+\n((?:\|.*\n)+)", text, re.M)
    assert found, f"no table with header {header!r}"
    return [[cell.strip() for cell in row.strip().strip("|").split("|")]
            for row in found.group(1).splitlines()]


def expected_claim(row: dict[str, str], algorithm: str) -> str:
    """The README's wording of one pairwise test against random search at the budget."""
    p = float(row["p_holm"])
    p_text = "p < 0.0001" if p < 1e-4 else f"p = {p:.4f}"
    verdict = {algorithm: "better", "random": "worse"}.get(row["better"], "level")
    return f"{verdict}: {p_text}, A12 = {1 - float(row['a12']):.2f}"  # a12 is P(random wins)


def test_the_results_table_is_the_committed_tables_with_their_tests():
    rows = markdown_rows(section("Results"),
                         "| dataset | algorithm | test accuracy (%) | against random search |")
    checkpoints = {(r[0], r[1]): r[-1] for r in markdown_rows(
        (ROOT / "results" / "tables" / "checkpoints.md").read_text(), "| dataset | algorithm |")}
    with open(ROOT / "results" / "tables" / "significance.csv", newline="") as handle:
        tests = {(DATASETS[r["dataset"]], r["algorithm_b"]): r for r in csv.DictReader(handle)
                 if r["query"] == "500" and r["algorithm_a"] == "random"}
    paper = tomllib.loads((ROOT / "experiments" / "paper.toml").read_text())
    names = {a["name"] for a in paper["algorithms"]}
    assert {(d, a.strip("`")) for d, a, *_ in rows} == {(d, a) for d in DATASETS.values()
                                                        for a in names}
    for dataset, algorithm, accuracy, claim in rows:
        algorithm = algorithm.strip("`")
        assert accuracy == checkpoints[(dataset, algorithm)], (dataset, algorithm)
        if algorithm == "random":
            assert claim == "the reference"
        else:
            assert claim == expected_claim(tests[(dataset, algorithm)], algorithm)
