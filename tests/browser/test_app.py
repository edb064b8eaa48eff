"""``make app``: the report-card explorer served by Voilà as a standalone page for a class."""

from __future__ import annotations

from tests.browser import _lab, _processes
from tests.browser.conftest import smoke_copy

APP = _processes.REPO / "app" / "report_card.ipynb"


def test_report_card_app(page, workdir):
    folder = workdir / "app"
    copy = smoke_copy(APP, folder, n_images=150)
    with _processes.voila(copy, workdir) as url:
        page.goto(url, timeout=300_000)
        view = page.locator(".jupyter-widgets.widget-vbox").first
        view.wait_for(state="visible", timeout=300_000)
        page.locator(".widget-html-content").first.wait_for(state="visible", timeout=60_000)
        assert "classroom_explorer" not in page.inner_text("body")  # a page: no code shown
        first = _lab.numbers(view)
        assert "FID" in first and "could not update" not in first
        marked = _lab.numbers_html(view)
        _lab.choose(view, index=1)  # another metric: its row is highlighted
        _lab.wait_for_change(view, marked, "choosing another metric", probe=_lab.numbers_html)
        sets = view.locator(".widget-dropdown select").first.locator("option").all_inner_texts()
        _lab.choose(view, index=0, option=sets.index("DCGAN"))
        after_set = _lab.wait_for_change(view, first, "choosing the DCGAN set in the app")
        assert "DCGAN" in after_set
