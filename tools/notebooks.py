"""The course's notebook tooling: discovery, parameters, execution and the static checks.

Command line::

    python -m tools.notebooks course [NAME ...]   execute notebooks in place (default parameters)
    python -m tools.notebooks check               static checks of every committed notebook
    python -m tools.notebooks params NAME         the parameters a notebook accepts
    python -m tools.notebooks normalise [NAME ...]   normalise metadata in place

A notebook is ``notebooks/NN_name.ipynb``; new notebooks are picked up by the pattern, so there
is no list to keep in sync.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import nbstripout
import papermill

from lib._io import atomic_write
from lib.paths import NOTEBOOKS_DIR

PATTERN = "[0-9][0-9]_*.ipynb"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# Notebook metadata a committed notebook may carry (the saved widget state renders the widgets
# on a notebook viewer). Cell metadata keeps tags, slide marks and editability; the bookkeeping
# of papermill, Jupyter and editors (below) is stripped by nbstripout, so diffs show only real
# changes. The pre-commit hook runs nbstripout with the same keys (.pre-commit-config.yaml).
NOTEBOOK_METADATA_KEYS = {"kernelspec", "language_info", "widgets"}
STRIPPED_KEYS = (
    "metadata.papermill",
    "metadata.signature",
    "cell.metadata.papermill",
    "cell.metadata.execution",
    "cell.metadata.ExecuteTime",
    "cell.metadata.collapsed",
    "cell.metadata.scrolled",
    "cell.metadata.jupyter",
    "cell.metadata.heading_collapsed",
    "cell.metadata.hidden",
    "cell.metadata.trusted",
    "cell.metadata.vscode",
)


def discover(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """Every course notebook, in course order."""
    return sorted(Path(folder).glob(PATTERN))


def resolve(name: str) -> Path:
    """A notebook by path, file name or stem (``"00_start_here"``) or number prefix (``"00"``)."""
    path = Path(name)
    if path.suffix == ".ipynb" and path.exists():
        return path
    matches = [
        p for p in discover() if p.stem == name or p.name == name or p.stem.startswith(f"{name}_")
    ]
    if len(matches) != 1:
        known = ", ".join(p.stem for p in discover())
        raise ValueError(f"notebook: {name!r} matches {len(matches)} notebooks; known: {known}")
    return matches[0]


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def parameters_cells(nb) -> list:
    return [
        c
        for c in nb.cells
        if c.cell_type == "code" and "parameters" in c.get("metadata", {}).get("tags", [])
    ]


def parameters(nb_or_path) -> dict:
    """The default parameters of a notebook: the literals assigned in its ``parameters`` cell.

    Read with :mod:`ast` rather than papermill's ``inspect_notebook``: papermill's parser skips
    (with only a warning) any line whose comment holds an ``=``, e.g.
    ``null_size = 100  # m = n for the null distribution`` in notebook 06, so parameters would
    silently go missing; and it ignores statements that are not assignments, which are refused
    here."""
    nb = read(nb_or_path) if isinstance(nb_or_path, str | Path) else nb_or_path
    cells = parameters_cells(nb)
    if len(cells) != 1:
        raise ValueError(
            f"notebook: expected exactly one cell tagged 'parameters', found {len(cells)}"
        )
    values = {}
    for node in ast.parse(cells[0].source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            raise ValueError(
                "notebook: the parameters cell may hold only simple assignments of literals, "
                f"found: {ast.unparse(node)!r}"
            )
        if not isinstance(target, ast.Name):
            raise ValueError(
                f"notebook: parameters must be plain names, found {ast.unparse(target)!r}"
            )
        try:
            values[target.id] = ast.literal_eval(value)
        except ValueError as exc:
            raise ValueError(
                f"notebook: parameter {target.id} must be a literal (papermill injects literals), "
                f"found {ast.unparse(value)!r}"
            ) from exc
    return values


def check_parameter_names(nb_or_path, injected: dict) -> None:
    """Refuse parameters that the notebook's ``parameters`` cell does not define (papermill only
    warns, so a misspelt name would silently run the defaults)."""
    unknown = sorted(set(injected) - set(parameters(nb_or_path)))
    if unknown:
        known = ", ".join(sorted(parameters(nb_or_path)))
        raise ValueError(
            f"parameters: {', '.join(unknown)} not in the notebook's parameters cell ({known})"
        )


def normalise(nb) -> nbformat.NotebookNode:
    """A copy of ``nb`` with only the metadata a committed notebook keeps (see the module doc):
    outputs and execution counts kept, cell ids and editor/execution bookkeeping stripped by
    nbstripout (the keys in :data:`STRIPPED_KEYS`), the notebook metadata reduced to the kernel
    and the language name."""
    nb = nbstripout.strip_output(
        copy.deepcopy(nb),
        keep_output=True,
        keep_count=True,
        keep_id=False,
        extra_keys=list(STRIPPED_KEYS),
    )
    meta = {k: v for k, v in nb.metadata.items() if k in NOTEBOOK_METADATA_KEYS}
    meta["kernelspec"] = dict(KERNELSPEC)
    language = dict(meta.get("language_info", {}))
    meta["language_info"] = {k: language[k] for k in ("name", "pygments_lexer") if k in language}
    meta["language_info"].setdefault("name", "python")
    nb.metadata = nbformat.from_dict(meta)
    for cell in nb.cells:
        cell.pop("id", None)
    nb.nbformat, nb.nbformat_minor = 4, 4
    return nb


def write_atomic(nb, path: Path) -> None:
    atomic_write(path, lambda handle: nbformat.write(nb, handle), mode="w")


def execute(path: Path, output: Path, parameters: dict | None = None, *, log_output: bool = False):
    """Execute a notebook with papermill into ``output`` (working directory: the notebooks folder),
    after checking that every injected parameter exists. Returns the executed notebook."""
    if parameters:
        check_parameter_names(path, parameters)
    return papermill.execute_notebook(
        str(path),
        str(output),
        parameters=parameters or {},
        kernel_name="python3",
        cwd=str(NOTEBOOKS_DIR),
        progress_bar=False,
        log_output=log_output,
    )


def static_problems(path: Path) -> list[str]:
    """What is wrong with a committed notebook: invalid JSON or schema, cells not executed top to
    bottom, error outputs, not exactly one parameters cell, metadata not normalised."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        return [f"not valid JSON: {exc}"]
    problems = []
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        return [f"not a valid notebook: {exc.message}"]
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    counts = [c.get("execution_count") for c in code]
    if any(n is None for n in counts):
        problems.append(f"{sum(n is None for n in counts)} code cell(s) not executed")
    elif counts != list(range(1, len(counts) + 1)):
        problems.append(f"code cells not executed once, top to bottom (execution counts {counts})")
    errors = [
        i for i, c in enumerate(code) for o in c.get("outputs", []) if o.output_type == "error"
    ]
    if errors:
        problems.append(f"error output(s) in code cell(s) {errors}")
    n_params = len(parameters_cells(nb))
    if n_params != 1:
        problems.append(f"{n_params} cells tagged 'parameters' (want exactly 1)")
    else:
        try:
            parameters(nb)
        except ValueError as exc:
            problems.append(str(exc))
    if normalise(nb) != nb:
        problems.append("metadata not normalised (run: python -m tools.notebooks normalise NAME)")
    return problems


def run_course(paths: list[Path]) -> int:
    """Execute notebooks in place with their default parameters; print notebook → wall time."""
    rows, failed = [], []
    for path in paths:
        print(f"executing {path.name} ...", flush=True)
        start = time.perf_counter()
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".ipynb", dir=path.parent)
        os.close(fd)
        try:
            execute(path, Path(tmp))
            write_atomic(normalise(read(Path(tmp))), path)
            status = "ok"
        except Exception as exc:  # report every notebook, then fail
            status = (
                f"FAILED: {type(exc).__name__}: {str(exc).splitlines()[0][:80] if str(exc) else ''}"
            )
            failed.append(path.name)
        finally:
            Path(tmp).unlink(missing_ok=True)
        rows.append((path.name, time.perf_counter() - start, status))
    width = max(len(r[0]) for r in rows) if rows else 10
    print(f"\n{'notebook':<{width}}  {'wall time':>10}  status")
    for name, seconds, status in rows:
        print(f"{name:<{width}}  {seconds:>9.1f}s  {status}")
    print(f"{'total':<{width}}  {sum(r[1] for r in rows):>9.1f}s")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.notebooks", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_course = sub.add_parser("course", help="execute notebooks in place with default parameters")
    p_course.add_argument("names", nargs="*", help="notebooks (default: all)")
    sub.add_parser("check", help="static checks of every committed notebook")
    p_params = sub.add_parser("params", help="print a notebook's parameters as JSON")
    p_params.add_argument("name")
    p_norm = sub.add_parser("normalise", help="normalise notebook metadata in place")
    p_norm.add_argument("names", nargs="*")
    args = parser.parse_args(argv)

    if args.command == "course":
        paths = [resolve(n) for n in args.names] if args.names else discover()
        return run_course(paths)
    if args.command == "check":
        bad = 0
        for path in discover():
            for problem in static_problems(path):
                print(f"{path.name}: {problem}")
                bad += 1
        print("all notebooks pass the static checks" if not bad else f"{bad} problem(s)")
        return 1 if bad else 0
    if args.command == "params":
        print(json.dumps(parameters(resolve(args.name)), indent=2))
        return 0
    if args.command == "normalise":
        for path in [resolve(n) for n in args.names] if args.names else discover():
            write_atomic(normalise(read(path)), path)
        return 0
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
