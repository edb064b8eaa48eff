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

from lib.widgets.explorer import MANIPULATIONS, MetricExplorer
from lib.widgets.report_card import ReportCardExplorer
from lib.widgets.ssim_maps import MAP_NAMES, SSIMMapsWidget
from lib.widgets.study import ForcedChoiceStudy, clip_renderer, image_renderer

__all__ = [
    "MANIPULATIONS",
    "MAP_NAMES",
    "ForcedChoiceStudy",
    "MetricExplorer",
    "ReportCardExplorer",
    "SSIMMapsWidget",
    "clip_renderer",
    "image_renderer",
]
