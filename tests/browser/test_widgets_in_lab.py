"""Each widget notebook, run in JupyterLab in Chromium: the widget renders, and moving a control
makes the kernel compute new numbers (or, for the study, record an answer on disk).

The notebooks run with their smoke parameters, from copies with their outputs cleared, so
everything checked here was computed by the browser's kernel.
"""

from __future__ import annotations

import json
import secrets
import time

import pytest

from lib.paths import DATA_DIR
from tests.browser import _lab
from tests.browser.conftest import smoke_copy


def _run(page, lab, name: str, **overrides):
    path = smoke_copy(name, lab["root"], **overrides)
    _lab.open_notebook(page, lab, path)
    state = _lab.run_all(page)
    assert state["total"] > 5 and state["pending"] == 0
    return path


@pytest.mark.parametrize("name", ["02", "04"])
def test_metric_explorer(page, lab, name):
    _run(page, lab, name)
    view = _lab.widget_of(page, "explorer.widget")
    first = _lab.numbers(view)
    assert first.strip() and "could not update" not in first
    images = _lab.image_sources(view).splitlines()
    assert len(images) >= 2 and all(images), "the widget's images did not render"

    _lab.press_slider(view)
    after_slider = _lab.wait_for_change(view, first, "a key press on the slider")
    _lab.choose(view)
    _lab.wait_for_change(view, after_slider, "choosing another manipulation")
    _lab.shutdown_kernel(page)


def test_ssim_maps(page, lab):
    _run(page, lab, "07")
    view = _lab.widget_of(page, "SSIMMapsWidget(")
    first = _lab.numbers(view)
    assert "could not update" not in first

    _lab.press_slider(view)
    after_slider = _lab.wait_for_change(view, first, "a key press on the strength slider")
    view.get_by_role("button", name="match target MSE").click()
    after_match = _lab.wait_for_change(view, after_slider, "the 'match target MSE' button")
    _lab.choose(view)
    _lab.wait_for_change(view, after_match, "choosing another distortion")
    _lab.shutdown_kernel(page)


def test_report_card_and_study(page, lab):
    student = f"browser-{secrets.token_hex(4)}"
    answers = DATA_DIR / "study" / f"answers-report-card-{student}.jsonl"
    try:
        _run(page, lab, "09", student=student)

        card = _lab.widget_of(page, "explorer = ReportCardExplorer(")
        first = _lab.numbers(card)
        assert "could not update" not in first
        marked = _lab.numbers_html(card)
        _lab.choose(card, index=1)  # the metric: its row is highlighted
        _lab.wait_for_change(card, marked, "choosing another metric", probe=_lab.numbers_html)
        _lab.press_slider(card)  # the level
        after_level = _lab.wait_for_change(card, first, "a key press on the level slider")
        _lab.choose(card, index=0)  # the set
        _lab.wait_for_change(card, after_level, "choosing another set")

        study = _lab.widget_of(page, "ForcedChoiceStudy(")
        shown = _lab.image_sources(study)
        labels = study.locator(".widget-label").all_inner_texts()
        assert not answers.exists()
        study.get_by_role("button", name="left").click()
        deadline = time.monotonic() + 60
        while not answers.exists() and time.monotonic() < deadline:
            page.wait_for_timeout(500)
        assert answers.exists(), "the click on 'left' did not reach the answer file"
        records = [json.loads(line) for line in answers.read_text().splitlines()]
        assert len(records) == 1
        assert records[0]["student"] == student and records[0]["choice"] == "left"
        assert records[0]["study"] == "report-card" and records[0]["trial"] == 0
        # and the widget moved on to the next pair
        _lab.wait_for_change(study, shown, "answering a trial", probe=_lab.image_sources)
        assert study.locator(".widget-label").all_inner_texts() != labels
        _lab.shutdown_kernel(page)
    finally:
        answers.unlink(missing_ok=True)
