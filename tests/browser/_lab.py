"""Driving JupyterLab from Playwright: open a notebook, run all cells, find a cell's widget.

JupyterLab is started with ``expose_app_in_browser``, so the tests run Lab's own commands
(``notebook:run-all-cells``) and read the notebook model instead of clicking through menus.
"""

from __future__ import annotations

import time
from pathlib import Path

STATE_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const code = panel.content.widgets.filter(
    c => c.model.type === 'code' && c.model.sharedModel.getSource().trim() !== '');
  const errors = [];
  for (const c of code) {
    const outputs = c.model.outputs;
    for (let i = 0; i < outputs.length; i++) {
      const o = outputs.get(i).toJSON();
      if (o.output_type === 'error') errors.push(o.ename + ': ' + o.evalue);
    }
  }
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return {pending: code.filter(c => c.model.executionCount === null).length,
          total: code.length, errors: errors, status: kernel ? kernel.status : 'none'};
}"""

READY_JS = """(path) => {
  const app = window.jupyterapp;
  if (!app || !app.shell.currentWidget || !app.shell.currentWidget.sessionContext) return false;
  const panel = app.shell.currentWidget;
  if (!panel.context || panel.context.path !== path) return false;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return panel.context.isReady && !!kernel && kernel.status === 'idle';
}"""


def open_notebook(page, lab: dict, path: Path, timeout_s: float = 120) -> None:
    """Open ``path`` (inside the server's root) in Lab and wait for an idle kernel."""
    relative = path.relative_to(lab["root"]).as_posix()
    # ?reset: a fresh workspace, so the notebooks of earlier tests are not reopened
    page.goto(f"{lab['base']}/lab/tree/{relative}?reset&token={lab['token']}")
    page.wait_for_function(READY_JS, arg=relative, timeout=timeout_s * 1000, polling=500)


def run_all(page, timeout_s: float = 300) -> dict:
    """Run every cell and wait until each has run; fails with the first error output."""
    run = """() => {
      const app = window.jupyterapp;
      app.shell.activateById(app.shell.currentWidget.id);  // the command acts on the active one
      app.commands.execute('notebook:run-all-cells');
    }"""
    page.evaluate(run)
    started = time.monotonic()
    deadline = started + timeout_s
    state = {}
    while time.monotonic() < deadline:
        state = page.evaluate(STATE_JS)
        if state["errors"]:
            raise AssertionError(f"a cell failed in JupyterLab: {state['errors'][0]}")
        if state["pending"] == 0 and state["status"] == "idle":
            return state
        if state["pending"] == state["total"] and state["status"] == "idle":
            if time.monotonic() - started > 30:  # the command was lost: ask once more
                page.evaluate(run)
                started = time.monotonic()
        page.wait_for_timeout(1000)
    raise TimeoutError(f"the notebook did not finish in {timeout_s:.0f} s: {state}")


def shutdown_kernel(page) -> None:
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")


def widget_of(page, marker: str):
    """The rendered widget view in the output of the (last) cell whose source contains
    ``marker``."""
    index = page.evaluate(
        """(marker) => {
          const cells = window.jupyterapp.shell.currentWidget.content.widgets;
          let found = -1;
          cells.forEach((c, i) => {
            if (c.model.type === 'code' && c.model.sharedModel.getSource().includes(marker))
              found = i;
          });
          return found;
        }""",
        marker,
    )
    assert index >= 0, f"no cell contains {marker!r}"
    panel = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
    cell = page.locator(f"[id='{panel}'] .jp-Notebook .jp-Cell").nth(index)
    view = cell.locator(".jp-OutputArea-output .jupyter-widgets").first
    view.scroll_into_view_if_needed()
    view.wait_for(state="visible", timeout=30_000)
    return view


def numbers(view) -> str:
    """The text of the widget's HTML panels (where the course's widgets print their numbers)."""
    return "\n".join(view.locator(".widget-html-content").all_inner_texts())


def numbers_html(view) -> str:
    """The HTML of the widget's HTML panels (with the markup that highlights a choice)."""
    return "\n".join(el.inner_html() for el in view.locator(".widget-html-content").all())


def image_sources(view) -> str:
    """The widget's images' ``src`` attributes (each new value the kernel sends gets a new blob
    URL), one per line."""
    return "\n".join(img.get_attribute("src") or "" for img in view.locator("img").all())


def wait_for_change(view, before: str, what: str, probe=numbers, timeout_s: float = 60) -> str:
    """Wait until ``probe(view)`` (the numbers, or :func:`image_sources`) differs from
    ``before``; fails when it does not, or when the panel shows a callback's error."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        shown = numbers(view)
        if "could not update" in shown:
            raise AssertionError(f"the widget's callback failed after {what}:\n{shown}")
        now = probe(view)
        if now != before:
            return now
        view.page.wait_for_timeout(500)
    raise AssertionError(f"{what} did not change what the kernel computes:\n{before}")


def press_slider(view, index: int = 0, key: str = "ArrowRight") -> None:
    """Focus a slider handle (ipywidgets 8 draws sliders with noUiSlider) and press ``key``."""
    handle = view.locator(".widget-slider .noUi-handle").nth(index)
    handle.scroll_into_view_if_needed()
    handle.focus()
    handle.press(key)


def choose(view, index: int = 0, option: int | None = None) -> str:
    """Pick another option (``option`` or the next one) of the ``index``-th dropdown."""
    select = view.locator(".widget-dropdown select").nth(index)
    options = select.locator("option").all_inner_texts()
    current = select.evaluate("s => s.selectedIndex")
    target = option if option is not None else (current + 1) % len(options)
    select.select_option(index=target)
    return options[target]
