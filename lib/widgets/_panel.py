"""What every widget panel of the course shares: figures as PNG bytes for ``widgets.Image``,
an image grid, errors shown in the panel, and display in Jupyter."""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Sequence
from typing import Any, cast

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from lib.viz import image_grid

PNG_DPI = 80


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes at the panels' resolution (no pyplot state involved)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PNG_DPI)
    return buffer.getvalue()


def grid_png(images: torch.Tensor, labels: Sequence[str] | None) -> bytes:
    """Up to 8 images per row with small captions, as PNG bytes."""
    ncols = min(8, images.shape[0])
    nrows = -(-images.shape[0] // ncols)
    fig = Figure(figsize=(0.9 * ncols, 1.05 * nrows + 0.1))
    ax = fig.add_axes((0, 0, 1, 1))
    image_grid(images, labels, ncols=ncols, ax=ax, label_size=6)
    return figure_png(fig)


def selected(dropdown: widgets.Dropdown) -> str:
    """The option a dropdown shows. Its options are strings and it never shows none, but
    ipywidgets types ``value`` as any object or ``None``."""
    return cast(str, dropdown.value)


class Panel:
    """Mixin for a panel with ``self.widget`` (the layout) and ``self.numbers`` (an HTML widget)."""

    widget: widgets.Box
    numbers: widgets.HTML
    error: str | None = None

    def _guarded(self, action: Callable[[], object]) -> None:
        # A callback's exception would only reach the kernel log in JupyterLab; show it in the
        # panel as well, then re-raise so Python callers (and tests) still see it.
        try:
            action()
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            self.numbers.value = (
                f"<b style='color:#b00'>could not update</b><br>{html.escape(self.error)}"
            )
            raise

    def _repr_mimebundle_(self, **kwargs: Any) -> object:
        return self.widget._repr_mimebundle_(**kwargs)
