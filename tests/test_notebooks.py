"""The course notebooks: static checks of the committed files, and a smoke run of every notebook
with small parameters whose checked cells are compared with the committed outputs by nbval.

One execution serves both: papermill injects the smoke parameters into a copy of the committed
notebook (which keeps its outputs), and nbval executes that copy, failing on any error and
comparing the cells marked ``# NBVAL_CHECK_OUTPUT`` (lax mode) with the committed outputs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from papermill.parameterize import parameterize_notebook

from tools import notebooks

TESTS = Path(__file__).parent
PARAMS_DIR = TESTS / "notebook_params"
SANITIZE = TESTS / "nbval_sanitize.cfg"
NOTEBOOKS = notebooks.discover()
IDS = [p.stem for p in NOTEBOOKS]


def smoke_parameters(path: Path) -> dict:
    params_file = PARAMS_DIR / f"{path.stem}.yaml"
    if not params_file.exists():
        pytest.fail(
            f"{path.name} has no smoke parameters: add {params_file.relative_to(TESTS.parent)} "
            "with small values of its parameters (an empty file runs the defaults)"
        )
    params = yaml.safe_load(params_file.read_text()) or {}
    if not isinstance(params, dict):
        pytest.fail(f"{params_file.name}: expected a mapping of parameter names to values")
    return params


def test_there_are_notebooks():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_start_here.ipynb"


def test_every_params_file_belongs_to_a_notebook():
    stems = set(IDS)
    orphans = [p.name for p in PARAMS_DIR.glob("*.yaml") if p.stem not in stems]
    assert not orphans, f"smoke parameters for notebooks that do not exist: {orphans}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_committed_executed_and_normalised(path):
    problems = notebooks.static_problems(path)
    assert not problems, f"{path.name}: " + "; ".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_smoke_parameters_exist_in_the_parameters_cell(path):
    notebooks.check_parameter_names(path, smoke_parameters(path))


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_smoke_run_and_checked_outputs(path, tmp_path):
    params = smoke_parameters(path)
    notebooks.check_parameter_names(path, params)
    nb = notebooks.read(path)
    nb.metadata["papermill"] = {}  # where papermill records what it injected
    nb = parameterize_notebook(nb, params, kernel_name="python3", language="python")
    copy = tmp_path / path.name
    nbformat.write(nb, str(copy))
    env = dict(os.environ, COURSE_FIGURES_DIR=str(tmp_path / "figures"), MPLBACKEND="Agg")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "--nbval-current-env",
            f"--nbval-sanitize-with={SANITIZE}",
            "--nbval-cell-timeout=600",
            "-p",
            "no:cacheprovider",
            "-q",
            "--rootdir",
            str(tmp_path),
            str(copy),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"{path.name} smoke run failed:\n{result.stdout[-6000:]}"


# ------------------------------------------------------------------------- the tooling itself
def _tiny_notebook(source_params: str, body: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(source_params, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body),
    ]
    nb.metadata["kernelspec"] = dict(notebooks.KERNELSPEC)
    return nb


def test_parameters_are_read_as_literals_and_unknown_names_refused():
    nb = _tiny_notebook("n = 3\nname: str = 'x'\nsizes = (1, 2)", "")
    assert notebooks.parameters(nb) == {"n": 3, "name": "x", "sizes": (1, 2)}
    with pytest.raises(ValueError, match="m not in the notebook's parameters cell"):
        notebooks.check_parameter_names(nb, {"n": 1, "m": 2})
    with pytest.raises(ValueError, match="must be a literal"):
        notebooks.parameters(_tiny_notebook("n = len('ab')", ""))
    with pytest.raises(ValueError, match="simple assignments"):
        notebooks.parameters(_tiny_notebook("import os", ""))
    no_params = _tiny_notebook("n = 1", "")
    no_params.cells[0].metadata = {}
    with pytest.raises(ValueError, match="exactly one cell tagged 'parameters'"):
        notebooks.parameters(no_params)


def test_static_problems_are_found(tmp_path):
    nb = _tiny_notebook("n = 1", "print(n)")
    path = tmp_path / "01_bad.ipynb"
    nbformat.write(nb, str(path))
    assert any("not executed" in p for p in notebooks.static_problems(path))
    nb.cells[0].execution_count, nb.cells[1].execution_count = 2, 1
    nbformat.write(notebooks.normalise(nb), str(path))
    assert any("top to bottom" in p for p in notebooks.static_problems(path))
    nb.cells[0].execution_count, nb.cells[1].execution_count = 1, 2
    nb.cells[1].outputs = [nbformat.v4.new_output("error", ename="E", evalue="x", traceback=[])]
    nb.metadata["papermill"] = {"duration": 1.0}
    nbformat.write(nb, str(path))
    problems = notebooks.static_problems(path)
    assert any("error output" in p for p in problems)
    assert any("not normalised" in p for p in problems)
    path.write_text("{not json")
    assert notebooks.static_problems(path)[0].startswith("not valid JSON")


def test_run_course_executes_in_place_in_the_course_environment(tmp_path, capsys):
    nb = _tiny_notebook("n = 2", "import sys\nprint(sys.prefix, n * 21)")
    path = tmp_path / "98_tiny.ipynb"
    nbformat.write(nb, str(path))
    assert notebooks.run_course([path]) == 0
    executed = notebooks.read(path)
    assert executed.cells[1].outputs[0].text.split() == [sys.prefix, "42"]  # the venv's kernel
    assert notebooks.static_problems(path) == []  # executed, in order, normalised
    out = capsys.readouterr().out
    assert "98_tiny.ipynb" in out and "wall time" in out

    failing = tmp_path / "99_failing.ipynb"
    nbformat.write(_tiny_notebook("n = 0", "1 / n"), str(failing))
    assert notebooks.run_course([failing]) == 1
    assert "FAILED" in capsys.readouterr().out
