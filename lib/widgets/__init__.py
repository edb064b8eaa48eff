"""ipywidgets explorers for the course: a slider moved in front of a class, a metric answering.

=====================  =======================================================================
``MetricExplorer``     IS / FID / KID of a corrupted or mode-collapsed copy of a real set, with
                       a dropdown for the manipulation and a slider for its strength
``SSIMMapsWidget``     the luminance, contrast and structure maps of SSIM for a chosen
                       distortion and strength (or the strength that gives a target MSE)
``ReportCardExplorer`` every metric on every bench set: pick a set, a level and a metric, see
                       the images, the values against real data, detected or not
``ForcedChoiceStudy``  a human two-alternative forced-choice study: pairs of images (or clips),
                       each answer appended to a JSONL file, resumable (statistics in
                       :mod:`lib.evaluation.study`)
=====================  =======================================================================

Every explorer keeps its numbers in plain Python (``explorer.results``) next to the widgets
(``explorer.widget``), so notebooks and tests can read what the student sees without a browser.

The names are imported on first use, so ``import lib.widgets.study`` does not load the networks
the metric explorer needs.
"""

from importlib import import_module

_EXPORTS = {
    "MANIPULATIONS": "lib.widgets.explorer",
    "MetricExplorer": "lib.widgets.explorer",
    "MAP_NAMES": "lib.widgets.ssim_maps",
    "SSIMMapsWidget": "lib.widgets.ssim_maps",
    "ReportCardExplorer": "lib.widgets.report_card",
    "ForcedChoiceStudy": "lib.widgets.study",
    "image_renderer": "lib.widgets.study",
    "clip_renderer": "lib.widgets.study",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'lib.widgets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
