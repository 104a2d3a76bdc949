"""Mutation testing of the modules that decide results, each against its own tests (mutmut 3).

For every module in ``tools/mutation.toml`` this copies the package and tests into a scratch
directory, writes a mutmut configuration that mutates only that module and selects only its
own test files, runs ``mutmut run`` there, and reads the verdicts from mutmut's ``.meta`` file.
The repository itself is never touched (no ``mutants/`` folder appears in it).

Score = detected / (detected + undetected), where detected is killed, timeout or crashed and
undetected is survived, "no tests" (no selected test reaches the mutated function) or
suspicious. Excluded from both (counted apart):

* mutants whose only change is the text of a string literal inside a ``raise`` statement, i.e.
  the wording of an error message, found by comparing each mutant's syntax tree with the
  original function's;
* undetected mutants reviewed as equivalent (they cannot change behaviour), listed under
  ``[[equivalent]]`` in ``tools/mutation.toml`` with the reason. Each listed mutant names its
  function (``at``), the original line (``was``) and the mutated line (``now``), so one entry
  excuses exactly one mutant; an entry that matches no mutant, matches a detected one or
  matches several is an error to fix in the config.
  ``[[pending]]`` keeps older reviews keyed by the mutated text alone: they excuse nothing,
  ``--survivors`` only marks the survivors they name, to be checked and re-keyed.

Results are recorded in ``tools/mutation_record.json``, keyed by a hash of the module's source,
its test files (with the conftest files and test helpers they import), tools/mutation_run.py
and mutmut's version. A module whose key still matches is not re-run; the key is always
recomputed from the files, never read from the record, and the score is recomputed from the
recorded verdicts and the current ``[[equivalent]]`` entries.

Usage::

    python tools/mutation.py            # CI: re-run the stale modules; exit 1 below the threshold
    python tools/mutation.py --update   # the same, and write the new results into the record
    python tools/mutation.py --all      # re-run every module and rewrite the record
    python tools/mutation.py --no-run   # run nothing: recorded scores, stale modules listed
    python tools/mutation.py --module nas_harness/benchmarks/oracle.py --survivors

Needs the ``mutation`` extra (``pip install -e ".[mutation]"``) and, for data-backed tests,
``NAS_HARNESS_DATA`` as for the test suite.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script
from tools.mutation_run import REPO, Mutant, Verdicts, run_module, sha

CONFIG = REPO / "tools" / "mutation.toml"
RECORD = REPO / "tools" / "mutation_record.json"


@dataclass
class ModuleResult:
    """One module's score: its verdicts with the listed equivalent mutants set apart."""

    path: str
    detected: int = 0
    undetected: int = 0
    excluded: int = 0
    equivalent: int = 0
    seconds: float = 0.0
    survivors: list[str] = field(default_factory=list)  # "status: entry"
    config_errors: list[str] = field(default_factory=list)  # stale or ambiguous entries

    @property
    def total(self) -> int:
        """Mutants that count towards the score."""
        return self.detected + self.undetected

    @property
    def score(self) -> float:
        """Percentage of counted mutants that the module's tests detect."""
        return 100.0 * self.detected / self.total if self.total else 100.0

    @property
    def raw_score(self) -> float:
        """The score with the listed equivalent mutants counted as undetected."""
        total = self.total + self.equivalent
        return 100.0 * self.detected / total if total else 100.0


def _entries(config: dict[str, Any], module: str) -> list[dict[str, str]]:
    """The module's ``[[equivalent]]`` mutants, each a dict with at, was and now."""
    return [m for entry in config.get("equivalent", []) if entry["path"] == module
            for m in entry["mutants"]]


def score(path: str, verdicts: Verdicts, entries: list[dict[str, str]]) -> ModuleResult:
    """Excuse each listed mutant that survives; a stale or ambiguous entry is a config error."""
    result = ModuleResult(path, detected=len(verdicts.detected), excluded=verdicts.excluded,
                          seconds=verdicts.seconds)
    excused: set[int] = set()
    for entry in entries:
        mutant = Mutant(entry["at"], entry["was"], entry["now"])
        hits = [i for i, u in enumerate(verdicts.undetected)
                if (u["at"], u["was"], u["now"]) == (mutant.at, mutant.was, mutant.now)]
        killed = verdicts.detected.count(mutant.digest())
        label = f"{mutant.at}: {mutant.now!r}"
        if len(hits) + killed > 1:
            result.config_errors.append(f"{len(hits) + killed} mutants match: {label}")
        elif killed:
            result.config_errors.append(f"detected by the tests (delete the entry): {label}")
        elif not hits:
            result.config_errors.append(f"no such mutant (delete the entry): {label}")
        else:
            excused.add(hits[0])
    for i, u in enumerate(verdicts.undetected):
        if i in excused:
            result.equivalent += 1
        else:
            result.undetected += 1
            result.survivors.append(f"{u['status']}: {Mutant(u['at'], u['was'], u['now']).entry()}")
    return result


def _test_files(tests: list[str]) -> list[str]:
    """The test files with the conftest files above them and the test helpers they import."""
    files = set(tests)
    tests_root = REPO / "tests"
    helpers = {p.stem: p for p in tests_root.rglob("*.py") if not p.name.startswith("test_")}
    for test in tests:
        path = REPO / test
        for parent in path.parents:
            if (parent / "conftest.py").is_file():
                files.add(str((parent / "conftest.py").relative_to(REPO)))
            if parent == tests_root:
                break
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                if name.split(".")[0] in helpers:
                    files.add(str(helpers[name.split(".")[0]].relative_to(REPO)))
    return sorted(files)


PARTS = ("module", "tests", "tool")


def module_key(module: dict[str, Any]) -> dict[str, str]:
    """What the module's verdicts depend on, each part hashed; ``key`` hashes them all.

    The module's source; its test files with the conftest files above them and the test
    helpers they import; tools/mutation_run.py (which runs mutmut and sorts its verdicts) and
    mutmut's version. Not the ``[[equivalent]]`` entries nor this script: the score is computed
    from the recorded verdicts and the entries each time.
    """
    parts = {
        "module": sha((REPO / module["path"]).read_bytes()),
        "tests": sha(json.dumps({t: sha((REPO / t).read_bytes())
                                  for t in _test_files(module["tests"])}).encode()),
        "tool": sha((REPO / "tools" / "mutation_run.py").read_bytes() + _version().encode()),
    }
    return {**parts, "key": sha(json.dumps(parts, sort_keys=True).encode())}


def _stale(old: dict[str, Any] | None, key: dict[str, str], force: bool) -> str:
    """Why the module must run again ('' when its recorded verdicts still hold)."""
    if old is None:
        return "not recorded"
    if force:
        return "--all"
    changed = [p for p in PARTS if old["parts"].get(p) != key[p]]
    return "changed: " + ", ".join(changed) if changed else ""


def _report(r: ModuleResult, how: str, survivors: bool, threshold: float) -> None:
    print(f"{r.path}: {r.score:.1f}% ({r.detected}/{r.total}, {r.excluded} error-text and "
          f"{r.equivalent} equivalent excluded, {r.seconds:.0f} s, {how})", flush=True)
    for error in r.config_errors:
        print(f"  tools/mutation.toml: {error}")
    if survivors or r.score < threshold:
        for line in r.survivors:
            print(f"  {line}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--config", type=Path, default=CONFIG,
                        help="modules, tests, threshold and equivalents (TOML)")
    parser.add_argument("--record", type=Path, default=RECORD,
                        help="the recorded verdicts (JSON)")
    parser.add_argument("--module", action="append", default=[],
                        help="only this module (path as in tools/mutation.toml); repeatable")
    parser.add_argument("--all", action="store_true",
                        help="re-run every module, stale or not, and write the record")
    parser.add_argument("--update", action="store_true",
                        help="write the re-run modules' verdicts into the record")
    parser.add_argument("--threshold", type=float, default=None,
                        help="lowest accepted score in percent (default: the config's)")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2,
                        help="mutmut's parallel workers per module (default: CPU count)")
    parser.add_argument("--no-run", action="store_true",
                        help="run nothing: score the recorded modules, list the stale ones")
    parser.add_argument("--survivors", action="store_true",
                        help="print every undetected mutant as its [[equivalent]] entry")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directories")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Check every configured module (re-running the stale ones); 1 if any fails."""
    args = _parser().parse_args(argv)
    config = tomllib.loads(args.config.read_text())
    threshold = float(config["threshold"]) if args.threshold is None else args.threshold
    modules = [m for m in config["module"] if not args.module or m["path"] in args.module]
    unknown = set(args.module) - {m["path"] for m in config["module"]}
    if unknown:
        print(f"not in {args.config}: {', '.join(sorted(unknown))}")
        return 2
    record = json.loads(args.record.read_text()) if args.record.is_file() else {"modules": {}}
    stale = {m["path"]: _stale(record["modules"].get(m["path"]), module_key(m), args.all)
             for m in modules}
    if any(stale.values()) and not args.no_run and importlib.util.find_spec("mutmut") is None:
        print('mutmut is not installed: pip install -e ".[mutation]"')
        return 2
    results: list[ModuleResult] = []
    failing: list[str] = []
    start = time.perf_counter()
    for module in modules:
        path = module["path"]
        if stale[path] and args.no_run:
            print(f"{path}: stale ({stale[path]}), not run")
            failing.append(f"{path} (stale)")
            continue
        if stale[path]:
            print(f"{path}: running ({stale[path]})", flush=True)
            key = module_key(module)  # before the run: the files it copies
            try:
                verdicts = run_module(path, module["tests"], args.max_children, args.keep)
            except RuntimeError as error:
                print(error)
                failing.append(f"{path} (mutmut failed)")
                continue
            if args.update or args.all:
                record["modules"][path] = {"key": key["key"],
                                           "parts": {p: key[p] for p in PARTS},
                                           **asdict(verdicts),
                                           "detected": " ".join(verdicts.detected)}
        else:
            kept = record["modules"][path]
            verdicts = Verdicts(**{k: v for k, v in kept.items() if k not in ("key", "parts")})
            verdicts.detected = kept["detected"].split()
        r = score(path, verdicts, _entries(config, path))
        pending = {t for entry in config.get("pending", []) if entry["path"] == path
                   for t in entry["mutants"]}
        r.survivors = [f"{line}  <- reviewed as equivalent by its text ([[pending]]): check it, "
                       f"then list it under [[equivalent]]"
                       if line.split(", now = ", 1)[-1][:-2] in {json.dumps(t) for t in pending}
                       else line for line in r.survivors]
        _report(r, "run now" if stale[path] else "recorded", args.survivors, threshold)
        results.append(r)
    if args.update or args.all:
        record["modules"] = {m["path"]: record["modules"][m["path"]] for m in config["module"]
                             if m["path"] in record["modules"]}
        record["mutmut"] = _version()
        args.record.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print("\n| module | mutants counted | excluded: error text | excluded: equivalent | "
          "detected | score | score counting equivalents as survivors | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| `{r.path}` | {r.total} | {r.excluded} | {r.equivalent} | {r.detected} "
              f"| {r.score:.1f}% | {r.raw_score:.1f}% | {r.seconds:.0f} |")
    print(f"\nthreshold {threshold:.0f}%, {time.perf_counter() - start:.0f} s here "
          f"(mutmut {_version()}, --max-children {args.max_children})")
    failing += [f"{r.path} ({r.score:.1f}%)" for r in results if r.score < threshold]
    failing += [f"{r.path} (stale [[equivalent]] entries)" for r in results if r.config_errors]
    if failing:
        print(f"failing: {', '.join(failing)}")
        return 1
    return 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mutmut")
    except PackageNotFoundError:
        return "not installed"


if __name__ == "__main__":
    sys.exit(main())
