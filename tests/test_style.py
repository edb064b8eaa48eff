"""The code style the course keeps: ruff-clean and ruff-formatted code, public functions of `lib`
annotated, modules of a readable size, no references to documents outside the repository."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ["lib", "tests", "tools", "notebooks", "app", "benchmarks"]
#: Modules allowed over MAX_LINES; each says in its docstring why it stays whole.
MAX_LINES = 600
LONG_MODULES_ALLOWED = 2


def _ruff() -> str:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (it comes with the dev extra)")
    return ruff


def test_ruff_is_clean():
    result = subprocess.run([_ruff(), "check", *CHECKED], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:]


def test_ruff_format_is_clean():
    result = subprocess.run(
        [_ruff(), "format", "--check", *CHECKED], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-4000:]


def _library_modules() -> list[Path]:
    return sorted((ROOT / "lib").rglob("*.py"))


def unannotated_public_functions(path: Path) -> list[str]:
    """``module:line name`` of each public function or method (of a public class) whose
    parameters or return type are not annotated."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def check(node: ast.FunctionDef | ast.AsyncFunctionDef, owner: str = "") -> None:
        if node.name.startswith("_"):
            return
        arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
        if owner:
            arguments = arguments[1:] if arguments else arguments  # self / cls
        extra = [a for a in (node.args.vararg, node.args.kwarg) if a is not None]
        missing = [a.arg for a in arguments + extra if a.annotation is None]
        if missing or node.returns is None:
            what = f"parameters {missing}" if missing else "the return type"
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {owner}{node.name}: {what}")

    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            check(node)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    static = any(
                        isinstance(d, ast.Name) and d.id == "staticmethod"
                        for d in item.decorator_list
                    )
                    if not static:
                        check(item, owner=f"{node.name}.")
                    else:
                        check(item)
    return found


def test_public_functions_of_lib_are_annotated():
    missing = [line for path in _library_modules() for line in unannotated_public_functions(path)]
    assert not missing, f"{len(missing)} public functions lack annotations:\n" + "\n".join(
        missing[:40]
    )


def test_modules_stay_readable_and_long_ones_say_why():
    long = {
        path: n
        for path in _library_modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert len(long) <= LONG_MODULES_ALLOWED, f"modules over {MAX_LINES} lines: {long}"
    for path in long:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        assert "one module" in doc.lower(), (
            f"{path.relative_to(ROOT)} has {long[path]} lines: split it, or say in its docstring "
            "why it stays one module"
        )


def test_package_root_holds_only_ground_modules():
    allowed = {"__init__", "__main__", "_checks", "_io", "device", "paths", "env", "cli"}
    loose = sorted(p.stem for p in (ROOT / "lib").glob("*.py") if p.stem not in allowed)
    assert not loose, f"modules at the root of lib that belong in a subpackage: {loose}"


#: Documents that the repository does not contain and so must not be cited.
OUTSIDE_DOCUMENTS = re.compile(r"\b(REFERENCE|DESIGN)(\.md)? §|\bCLAIMS\.md\b|seed/000_")


def test_no_references_to_documents_outside_the_repository():
    cited = []
    for folder in ("lib", "tests", "tools", "benchmarks", "notebooks", "app"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path == Path(__file__).resolve():
                continue  # the pattern above
            if path.suffix in {".py", ".ipynb", ".md", ".yaml"} and path.is_file():
                text = path.read_text(encoding="utf-8")
                cited += [f"{path.relative_to(ROOT)}" for _ in OUTSIDE_DOCUMENTS.finditer(text)]
    assert not cited, f"references to documents outside the repository: {sorted(set(cited))}"
