"""ipywidgets explorers for the course (DESIGN §1: "widget-based experimentation").

==================  ==========================================================================
``MetricExplorer``  IS / FID / KID of a corrupted or mode-collapsed copy of a real set, with a
                    dropdown for the manipulation and a slider for its strength
==================  ==========================================================================

Every explorer keeps its numbers in plain Python (``explorer.results``) next to the widgets
(``explorer.widget``), so notebooks and tests can read what the student sees without a browser.
"""

from lib.widgets.explorer import MANIPULATIONS, MetricExplorer

__all__ = ["MANIPULATIONS", "MetricExplorer"]
