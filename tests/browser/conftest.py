"""Fixtures for the browser tests: one Chromium and one JupyterLab per session, a fresh page per
test with a screenshot kept whatever the outcome.

These tests run only with ``pytest --browser`` (``make test-browser``); ``make test`` skips them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml
from papermill.parameterize import parameterize_notebook

from tests.browser import _processes
from tools import notebooks

ARTIFACTS = _processes.REPO / "build" / "browser-artifacts"
PARAMS = _processes.REPO / "tests" / "notebook_params"


def pytest_collection_modifyitems(config, items):
    if config.getoption("--browser"):
        return
    skip = pytest.mark.skip(reason="browser test: run with `make test-browser` (pytest --browser)")
    for item in items:
        if "tests/browser/" in item.nodeid.replace("\\", "/"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("browser")
    # no windowing: every cell stays in the DOM, so a widget far down the notebook can be found
    settings = path / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    # and no "get notified about Jupyter news?" toast over the widgets
    toasts = path / "lab-settings" / "@jupyterlab" / "apputils-extension"
    toasts.mkdir(parents=True)
    (toasts / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    return path


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser(workdir):
    if _processes.chromium_path() is None:
        pytest.fail(_processes.HOW_TO_GET_CHROMIUM)
    from playwright.sync_api import sync_playwright

    with _processes.chromium(workdir) as endpoint, sync_playwright() as playwright:
        browser = playwright.chromium.connect_over_cdp(endpoint)
        try:
            yield browser
        finally:
            browser.close()


def smoke_copy(name: str | Path, folder: Path, **overrides) -> Path:
    """A copy of notebook ``name`` (a course notebook's number or a path) with its smoke
    parameters (and ``overrides``) injected and its outputs cleared, so that everything the test
    sees was computed in the browser's kernel."""
    path = Path(name) if isinstance(name, Path) else notebooks.resolve(name)
    smoke = PARAMS / f"{path.stem}.yaml"
    params = (yaml.safe_load(smoke.read_text()) or {}) if smoke.is_file() else {}
    params.update(overrides)
    notebooks.check_parameter_names(path, params)
    nb = notebooks.read(path)
    nb.metadata["papermill"] = {}
    nb = parameterize_notebook(nb, params, kernel_name="python3", language="python")
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / path.name
    nbformat.write(nb, str(copy))
    return copy


@pytest.fixture(scope="session")
def lab(workdir):
    root = workdir / "notebooks"
    root.mkdir()
    with _processes.jupyter_lab(root, workdir) as address:
        base, token = address.split("|")
        yield {"base": base, "token": token, "root": root}


@pytest.fixture
def page(browser, artifacts, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        yield page
    finally:
        name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
        try:
            page.screenshot(path=str(artifacts / f"{name}.png"), full_page=False)
        finally:
            context.close()


def pytest_sessionfinish(session, exitstatus):
    # keep the server's and browser's logs next to the screenshots
    tmp = getattr(session.config, "_tmp_path_factory", None)
    if tmp is None or not session.config.getoption("--browser"):
        return
    base = tmp.getbasetemp()
    for log in base.glob("browser*/*.log"):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, ARTIFACTS / log.name)
