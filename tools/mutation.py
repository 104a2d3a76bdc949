"""Mutation testing of the modules that decide results, each against its own tests (mutmut 3).

For every module in ``tools/mutation.toml`` this copies the packages and tests into a scratch
directory, writes a mutmut configuration that mutates only that module and selects only its
own test files, runs ``mutmut run`` there, and reads the verdicts from mutmut's ``.meta`` file.
The repository itself is never touched (no ``mutants/`` folder appears in it).

Score = detected / (detected + undetected), where detected is killed, timeout or crashed and
undetected is survived, "no tests" (no selected test reaches the mutated function) or
suspicious. Excluded from both (counted apart):

* mutants whose only change is the text of a string literal inside a ``raise`` statement, i.e.
  the wording of an error message, found by comparing each mutant's syntax tree with the
  original function's;
* undetected mutants reviewed as equivalent (they cannot change behaviour, e.g. ``dtype=``
  dropped where numpy infers the same dtype), listed by their mutated line, with the reason,
  under ``[[equivalent]]`` in ``tools/mutation.toml``. A listed line that the code no longer
  produces simply stops matching, and a changed line is a new survivor to review.

Usage::

    python tools/mutation.py                      # every module; exit 1 below the threshold
    python tools/mutation.py --module nas_harness/benchmarks/oracle.py --survivors
    python tools/mutation.py --max-children 2 --threshold 90

Needs the ``mutation`` extra (``pip install -e ".[mutation]"``) and, for data-backed tests,
``NAS_HARNESS_DATA`` as for the test suite.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "tools" / "mutation.toml"
PACKAGES = ("benchmarks", "algorithms", "analysis", "nas_harness")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")

# mutmut's exit codes (mutmut.stats.status_by_exit_code) grouped for the score
DETECTED = {1: "killed", 3: "killed", 24: "timeout", -24: "timeout", 152: "timeout",
            255: "timeout", 36: "timeout", -9: "crashed", -11: "crashed", 37: "type check"}
UNDETECTED = {0: "survived", 5: "no tests", 33: "no tests", 35: "suspicious"}
SKIPPED = {34: "skipped"}


@dataclass
class ModuleResult:
    """Verdicts for one module."""

    path: str
    detected: int = 0
    undetected: int = 0
    excluded: int = 0
    equivalent: int = 0
    skipped: int = 0
    seconds: float = 0.0
    survivors: list[tuple[str, str, str]] = field(default_factory=list)  # (name, status, diff)

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


def _functions(tree: ast.AST) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {node.name: node for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def _string_only_in_raise(orig: ast.AST, mutant: ast.AST) -> bool:
    """True when the trees differ only in str constants that sit inside a ``raise``."""
    diffs: list[bool] = []  # one entry per differing str constant: inside a raise?

    def same(a: object, b: object, in_raise: bool, top: bool = False) -> bool:
        if isinstance(a, ast.AST):
            if type(a) is not type(b):
                return False
            in_raise = in_raise or isinstance(a, ast.Raise)
            if isinstance(a, ast.Constant) and isinstance(a.value, str) \
                    and isinstance(b.value, str):  # type: ignore[attr-defined]
                if a.value != b.value:  # type: ignore[attr-defined]
                    diffs.append(in_raise)
                return True
            for name in a._fields:
                if top and name == "name":
                    continue
                if not same(getattr(a, name), getattr(b, name), in_raise):
                    return False
            return True
        if isinstance(a, list):
            return isinstance(b, list) and len(a) == len(b) and all(
                same(x, y, in_raise) for x, y in zip(a, b, strict=True))
        return a == b

    return same(orig, mutant, False, top=True) and bool(diffs) and all(diffs)


def _diff(orig: ast.AST, mutant: ast.AST, name: str) -> str:
    a = ast.unparse(orig).splitlines()
    b = ast.unparse(mutant).splitlines()
    lines = [line for line in difflib.unified_diff(a, b, lineterm="", n=0)
             if not line.startswith(("---", "+++", "@@"))]
    # mutmut renames the function; hide that line of the diff
    return "\n".join(line for line in lines if "__mutmut_" not in line)


def _write_scratch(root: Path, module: str, tests: list[str]) -> None:
    for package in PACKAGES:
        shutil.copytree(REPO / package, root / package, ignore=IGNORED)
    shutil.copytree(REPO / "tests", root / "tests", ignore=IGNORED)
    shutil.copy2(REPO / "pyproject.toml", root / "pyproject.toml")
    lines = ["[mutmut]", "source_paths ="] + [f"    {p}" for p in PACKAGES]
    lines += [f"only_mutate = {module}", "pytest_add_cli_args_test_selection ="]
    lines += [f"    {t}" for t in tests]
    lines += ["pytest_add_cli_args =", "    -p", "    no:cacheprovider", ""]
    (root / "setup.cfg").write_text("\n".join(lines))


def _added(diff: str) -> str:
    """The mutant's lines of a diff (without the ``+``), as listed under ``equivalent``."""
    return "\n".join(line[1:].strip() for line in diff.splitlines() if line.startswith("+"))


def run_module(module: str, tests: list[str], max_children: int, keep: bool,
               equivalent: frozenset[str] = frozenset()) -> ModuleResult:
    """Mutate ``module``, run ``tests`` against every mutant and classify the verdicts.

    ``equivalent``: mutated lines (as :func:`_added` gives them) reviewed as equivalent to
    the original; an undetected mutant whose change is one of them is not counted.
    """
    result = ModuleResult(module)
    scratch = Path(tempfile.mkdtemp(prefix="nas-harness-mutation-"))
    start = time.perf_counter()
    try:
        _write_scratch(scratch, module, tests)
        log = scratch / "mutmut.log"
        env = {**os.environ, "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg",
               "HYPOTHESIS_PROFILE": "mutation"}
        with log.open("w") as out:
            proc = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children",
                                   str(max_children)], cwd=scratch, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, check=False)
        meta = scratch / "mutants" / (module + ".meta")
        if proc.returncode != 0 or not meta.is_file():
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"mutmut failed on {module} (exit {proc.returncode}):\n{tail}")
        codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        functions = _functions(ast.parse((scratch / "mutants" / module).read_text()))
        for key, code in sorted(codes.items()):
            name = key.rsplit(".", 1)[1]
            orig = functions.get(name.rsplit("__mutmut_", 1)[0] + "__mutmut_orig")
            mutant = functions.get(name)
            if orig is not None and mutant is not None and _string_only_in_raise(orig, mutant):
                result.excluded += 1
            elif code in DETECTED:
                result.detected += 1
            elif code in SKIPPED:
                result.skipped += 1
            else:
                diff = _diff(orig, mutant, name) if orig and mutant else "(source not found)"
                if _added(diff) in equivalent:
                    result.equivalent += 1
                    continue
                result.undetected += 1
                status = UNDETECTED.get(code, f"exit {code}") if code is not None \
                    else "not checked"
                result.survivors.append((name, status, diff))
    finally:
        result.seconds = time.perf_counter() - start
        if keep:
            print(f"kept {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the configured modules, print the per-module scores; 1 if any is below."""
    if importlib.util.find_spec("mutmut") is None:
        print('mutmut is not installed: pip install -e ".[mutation]"')
        return 2
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=CONFIG,
                        help="modules, tests, threshold and equivalents (TOML)")
    parser.add_argument("--module", action="append", default=[],
                        help="only this module (path as in tools/mutation.toml); repeatable")
    parser.add_argument("--threshold", type=float, default=None,
                        help="lowest accepted score in percent (default: the config's)")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2,
                        help="mutmut's parallel workers per module (default: CPU count)")
    parser.add_argument("--survivors", action="store_true",
                        help="print every undetected mutant's diff")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directories")
    args = parser.parse_args(argv)
    config = tomllib.loads(args.config.read_text())
    if args.threshold is None:
        args.threshold = float(config["threshold"])
    modules = [m for m in config["module"] if not args.module or m["path"] in args.module]
    unknown = set(args.module) - {m["path"] for m in config["module"]}
    if unknown:
        print(f"not in {args.config}: {', '.join(sorted(unknown))}")
        return 2
    results = []
    start = time.perf_counter()
    for module in modules:
        equivalent = frozenset(line for entry in config.get("equivalent", [])
                               if entry["path"] == module["path"] for line in entry["mutants"])
        r = run_module(module["path"], module["tests"], args.max_children, args.keep,
                       equivalent)
        results.append(r)
        print(f"{r.path}: {r.score:.1f}% ({r.detected}/{r.total}, {r.excluded} error-text and "
              f"{r.equivalent} equivalent excluded, {r.seconds:.0f} s)", flush=True)
        if args.survivors or r.score < args.threshold:
            for name, status, diff in r.survivors:
                print(f"  {status}: {name}\n" + "\n".join("    " + d for d in diff.splitlines()))
                print(f"    as listed under [[equivalent]]: {json.dumps(_added(diff))}")
    total = time.perf_counter() - start
    print()
    print("| module | mutants counted | excluded: error text | excluded: equivalent | detected "
          "| score | score counting equivalents as survivors |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| `{r.path}` | {r.total} | {r.excluded} | {r.equivalent} | {r.detected} "
              f"| {r.score:.1f}% | {r.raw_score:.1f}% |")
    print(f"\nthreshold {args.threshold:.0f}%, {total:.0f} s in all "
          f"(mutmut {_version()}, --max-children {args.max_children})")
    failing = [r.path for r in results if r.score < args.threshold]
    if failing:
        print(f"below the threshold: {', '.join(failing)}")
        return 1
    return 0


def _version() -> str:
    from importlib.metadata import version

    return version("mutmut")


if __name__ == "__main__":
    sys.exit(main())
