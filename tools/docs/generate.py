"""What the documentation includes at build time, from the files and code that hold it.

A page never types a number a tool writes: it names the file, and the build puts the file's
text in. Two kinds of include exist besides pymdownx.snippets' whole files (``--8<--``):

* ``<!-- section: PATH "HEADING" -->``: the body of one section of a Markdown file the tools
  write (e.g. the claims of ``results/summary.md``), from under its heading to the next
  heading of the same or a higher level;
* ``<!-- rows: PATH "NAME,NAME" -->``: a Markdown table of the tools (e.g.
  ``results/tables/checkpoints.md``) cut to its header and the rows whose algorithm column
  holds one of the names (so an algorithm's page shows its own numbers);
* ``<!-- claims: PATH "NAME,NAME" -->``: the claims (with their tests) of a report's
  summary about the pairs among the names (with one name: every pair it is in);
* ``<!-- generated: NAME [ARG] -->``: a table made from a record or from the code itself --
  ``tuning`` (``results/tuning/*.json``; ``tuning evolution``: one algorithm's row),
  ``params NAME`` (an algorithm's parameters: default, source, tuning range; and its
  presets), ``sources`` (the pinned data manifest) and ``cli`` (every sub-command's ``--help``, from
  the argparse parser).

:func:`expand` does both; ``tools/docs/hooks.py`` calls it for every page, and the tests call
it to prove every include resolves.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DIRECTIVE = re.compile(r"<!-- (section|rows|claims|generated): (.+?) -->")
CLAIMS_HEADING = "What the numbers say (at the budget, each with its test)"
CLAIM = re.compile(r"^- (.+?): (\S+) (?:>|vs) (\S+?):? ")
SECTION_ARGS = re.compile(r'^(\S+) "(.+)"$')
HELP_COLUMNS = "100"
TUNED_ALGORITHMS = ("random", "evolution", "layernas", "reinforce", "ppo")


class IncludeError(ValueError):
    """An include names a file, a section or a table that does not exist."""


def section(path: Path, heading: str) -> str:
    """The body of the section ``heading`` of the Markdown file ``path`` (heading excluded)."""
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines):
        match = re.match(r"^(#+) (.*)$", line)
        if match and match.group(2).strip() == heading:
            level = len(match.group(1))
            body: list[str] = []
            for rest in lines[number + 1:]:
                deeper = re.match(r"^(#+) ", rest)
                if deeper and len(deeper.group(1)) <= level:
                    break
                body.append(rest)
            return "\n".join(body).strip("\n")
    raise IncludeError(f"{path}: no heading {heading!r}")


def table_rows(path: Path, names: tuple[str, ...]) -> str:
    """The Markdown table in ``path``, cut to its header and the rows of ``names``."""
    lines = [line for line in path.read_text().splitlines() if line.startswith("|")]
    if len(lines) < 2:
        raise IncludeError(f"{path}: no Markdown table")
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    if "algorithm" not in header:
        raise IncludeError(f"{path}: the table has no algorithm column")
    column = header.index("algorithm")
    rows = [line for line in lines[2:]
            if line.strip("|").split("|")[column].strip().strip("`") in names]
    if not rows:
        raise IncludeError(f"{path}: no row of {', '.join(names)}")
    return "\n".join([*lines[:2], *rows])


def claims(path: Path, names: tuple[str, ...]) -> str:
    """The claims of ``path``'s summary about pairs among ``names`` (one name: all its pairs)."""
    found = []
    for line in section(path, CLAIMS_HEADING).splitlines():
        match = CLAIM.match(line)
        if not match:
            continue
        pair = {match.group(2), match.group(3)}
        if (pair <= set(names)) if len(names) > 1 else (names[0] in pair):
            found.append(line)
    if not found:
        raise IncludeError(f"{path}: no claim about {', '.join(names)}")
    return "\n".join(found)


def _fmt_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fmt_params(params: dict[str, Any]) -> str:
    return ", ".join(f"`{k}={_fmt_value(v)}`" for k, v in params.items()) or "(none)"


def tuning_table(only: str = "", root: Path = ROOT) -> str:
    """What the tuning protocol chose per algorithm (or ``only`` that one), from its record."""
    from nas_harness.algorithms.registry import get_algorithm, presets_of

    if only and only not in TUNED_ALGORITHMS:
        raise IncludeError(f"no tuning record for {only!r} (known: {TUNED_ALGORITHMS})")
    lines = ["| algorithm | settings evaluated | chosen default | validation score "
             "| published settings (presets) in the same tuning |",
             "|---|---|---|---|---|"]
    for name in (only,) if only else TUNED_ALGORITHMS:
        record = json.loads((root / "results" / "tuning" / f"{name}.json").read_text())
        chosen = record["chosen"]
        by_index = {c["index"]: c for c in record["configurations"]}
        best = by_index[chosen["index"]]
        presets = []
        for preset_name, preset in presets_of(get_algorithm(name)).items():
            for config in record["configurations"]:   # the preset's values of what was tuned
                tuned = set(preset.params) & set(config["params"])
                if tuned and all(config["params"][k] == preset.params[k] for k in tuned):
                    presets.append(f"`{name}:{preset_name}` {_score(config)}")
                    break
        lines.append(f"| `{name}` | {record['configurations_evaluated']} "
                     f"| {_fmt_params(chosen['params'])} | {_score(best)} "
                     f"| {'; '.join(presets) or 'none published for this space'} |")
    return "\n".join(lines)


def _score(config: dict[str, Any]) -> str:
    """Score ± standard error over runs (0 for a deterministic algorithm)."""
    stderr = config.get("score_stderr")
    if stderr is None:
        return f"{config['score']:.2f}"
    if stderr == 0:
        return f"{config['score']:.2f} (deterministic)"
    return f"{config['score']:.2f} ± {stderr:.2f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def params_table(name: str) -> str:
    """An algorithm's declared parameters and presets, as ``nas-harness list --sources``."""
    from nas_harness.algorithms.params import describe_params
    from nas_harness.algorithms.registry import get_algorithm, presets_of

    cls = get_algorithm(name)
    lines = ["| parameter | default | what | where the default comes from | tuned over |",
             "|---|---|---|---|---|"]
    for spec in describe_params(getattr(cls, "Params", None) or type(None)):
        if spec.choices is not None:
            tuned = ", ".join(_fmt_value(v) for v in spec.values() or ())
        elif spec.low is not None:
            tuned = f"{spec.low}..{spec.high}" + (" (log)" if spec.log else "")
        else:
            tuned = "not tuned"
        lines.append(f"| `{spec.name}` | `{_fmt_value(spec.default)}` | {_cell(spec.help)} "
                     f"| {_cell(spec.source)} | {tuned} |")
    presets = presets_of(cls)
    if presets:
        lines += ["", "| preset | values | source |", "|---|---|---|"]
        lines += [f"| `{name}:{preset_name}` | {_fmt_params(dict(preset.params))} "
                  f"| {_cell(preset.source)} |" for preset_name, preset in presets.items()]
    return "\n".join(lines)


def sources_table() -> str:
    """Every pinned source file: its path, upstream commit, sha256 and whether it is needed."""
    from nas_harness.benchmarks.data.sources import MANIFEST

    lines = ["| file (under the data directory) | upstream | sha256 | needed for |",
             "|---|---|---|---|"]
    for f in MANIFEST:
        upstream = f"[{f.owner}/{f.repo}@{f.commit[:7]}]({f.url()})"
        use = "the table" if f.required else "checks (official order, ground truth)"
        lines.append(f"| `{f.relpath}` | {upstream} | `{f.sha256}` | {use} |")
    return "\n".join(lines)


def _commands(parser: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix} {name}", sub
                yield from _commands(sub, f"{prefix} {name}")


def cli_reference() -> str:
    """``nas-harness --help`` and every sub-command's ``--help``, as the parser prints them."""
    from nas_harness.cli.main import build_parser

    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_COLUMNS   # argparse wraps to the terminal: fix the width
    try:
        parser = build_parser()
        parts = [f"## nas-harness\n\n```text\n{parser.format_help().rstrip()}\n```"]
        for name, sub in _commands(parser, "nas-harness"):
            parts.append(f"## {name}\n\n```text\n{sub.format_help().rstrip()}\n```")
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    return "\n\n".join(parts)


GENERATED: dict[str, Callable[..., str]] = {
    "tuning": tuning_table,
    "params": params_table,
    "sources": sources_table,
    "cli": cli_reference,
}


def expand(markdown: str, root: Path = ROOT) -> str:
    """``markdown`` with every ``section`` and ``generated`` include replaced by its text."""
    def replace(match: re.Match[str]) -> str:
        kind, args = match.group(1), match.group(2).strip()
        if kind == "generated":
            name, *rest = args.split()
            if name not in GENERATED:
                raise IncludeError(f"no generated table {name!r} (known: {sorted(GENERATED)})")
            return GENERATED[name](*rest)
        parsed = SECTION_ARGS.match(args)
        if not parsed:
            raise IncludeError(f'write a {kind} include as PATH "TEXT", not {args!r}')
        path = root / parsed.group(1)
        if not path.is_file():
            raise IncludeError(f"{parsed.group(1)}: no such file")
        if kind == "rows":
            return table_rows(path, tuple(parsed.group(2).split(",")))
        if kind == "claims":
            return claims(path, tuple(parsed.group(2).split(",")))
        return section(path, parsed.group(2))

    return DIRECTIVE.sub(replace, markdown)
