"""Run mutmut on one module against its own tests, and sort its verdicts (tools/mutation.py).

The package and tests are copied into a scratch directory, where a mutmut configuration
mutates only that module and selects only its test files; each mutant is then named by its
function and the line it changes, as ``[[equivalent]]`` entries in ``tools/mutation.toml`` list
it. The repository itself is never touched (no ``mutants/`` folder appears in it).
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("nas_harness",)
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")

# mutmut's exit codes (mutmut.stats.status_by_exit_code) grouped for the score
DETECTED = {1: "killed", 3: "killed", 24: "timeout", -24: "timeout", 152: "timeout",
            255: "timeout", 36: "timeout", -9: "crashed", -11: "crashed", 37: "type check"}
UNDETECTED = {0: "survived", 5: "no tests", 33: "no tests", 35: "suspicious"}
SKIPPED = {34: "skipped"}



@dataclass(frozen=True)
class Mutant:
    """One mutant, named by where it is and what it changes (how the config lists it)."""

    at: str  # the function, ``Class.method`` for a method
    was: str  # the original line(s), as ast.unparse writes them
    now: str  # the mutated line(s)

    def entry(self) -> str:
        """The TOML inline table that lists this mutant under ``[[equivalent]]``."""
        return (f"{{ at = {json.dumps(self.at)}, was = {json.dumps(self.was)}, "
                f"now = {json.dumps(self.now)} }}")

    def digest(self) -> str:
        """A short hash of the mutant, as the record lists a detected one."""
        return sha(json.dumps([self.at, self.was, self.now]).encode())[:16]


@dataclass
class Verdicts:
    """What mutmut found for one module: recorded, and scored against the config's entries."""

    detected: list[str] = field(default_factory=list)  # Mutant.digest() of each
    undetected: list[dict[str, str]] = field(default_factory=list)  # at, was, now, status
    excluded: int = 0  # error-text only
    skipped: int = 0
    seconds: float = 0.0


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


def _location(name: str) -> str:
    """``Class.method`` or ``function`` from mutmut's name (``xǁClassǁmethod__mutmut_3``)."""
    base = name.rsplit("__mutmut_", 1)[0]
    return base[2:].replace("ǁ", ".") if base.startswith("xǁ") else base.removeprefix("x_")


def _mutant(orig: ast.AST, mutant: ast.AST, name: str) -> Mutant:
    """The mutant's location and the lines it changes (mutmut's renaming left out)."""
    a = ast.unparse(orig).splitlines()
    b = ast.unparse(mutant).splitlines()
    lines = [line for line in difflib.unified_diff(a, b, lineterm="", n=0)
             if not line.startswith(("---", "+++", "@@")) and "__mutmut_" not in line]
    was = "\n".join(line[1:].strip() for line in lines if line.startswith("-"))
    now = "\n".join(line[1:].strip() for line in lines if line.startswith("+"))
    return Mutant(_location(name), was, now)


def _write_scratch(root: Path, module: str, tests: list[str]) -> None:
    for package in PACKAGES:
        shutil.copytree(REPO / package, root / package, ignore=IGNORED)
    shutil.copytree(REPO / "tests", root / "tests", ignore=IGNORED)
    shutil.copy2(REPO / "pyproject.toml", root / "pyproject.toml")
    lines = ["[mutmut]", "source_paths ="] + [f"    {p}" for p in PACKAGES]
    lines += [f"only_mutate = {module}", "pytest_add_cli_args_test_selection ="]
    lines += [f"    {t}" for t in tests]
    # the suite's addopts (-n for pytest-xdist) are dropped: mutmut runs tests in one process
    lines += ["pytest_add_cli_args =", "    -o", "    addopts=", "    -p", "    no:cacheprovider",
              "    -p", "    no:xdist", ""]
    (root / "setup.cfg").write_text("\n".join(lines))


def run_module(module: str, tests: list[str], max_children: int, keep: bool) -> Verdicts:
    """Mutate ``module``, run ``tests`` against every mutant and sort the verdicts."""
    verdicts = Verdicts()
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
        for key, code in sorted(codes.items(), key=lambda kv: _order(kv[0])):
            name = key.rsplit(".", 1)[1]
            orig = functions.get(name.rsplit("__mutmut_", 1)[0] + "__mutmut_orig")
            mutated = functions.get(name)
            mutant = _mutant(orig, mutated, name) if orig and mutated \
                else Mutant(_location(name), "(source not found)", name)
            if orig is not None and mutated is not None \
                    and _string_only_in_raise(orig, mutated):
                verdicts.excluded += 1
            elif code in DETECTED:
                verdicts.detected.append(mutant.digest())
            elif code in SKIPPED:
                verdicts.skipped += 1
            else:
                status = UNDETECTED.get(code, f"exit {code}") if code is not None \
                    else "not checked"
                verdicts.undetected.append({**asdict(mutant), "status": status})
    finally:
        verdicts.seconds = round(time.perf_counter() - start, 1)
        if keep:
            print(f"kept {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return verdicts


def _order(key: str) -> tuple[str, int]:
    base, _, number = key.rpartition("__mutmut_")
    return base, int(number) if number.isdigit() else 0


def sha(data: bytes) -> str:
    """The hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


