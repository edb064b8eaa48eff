"""Image grids with labels."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from lib._checks import ArrayLike, check_images


def to_display(images: ArrayLike) -> np.ndarray:
    """N×C×H×W images in [0, 1] (or uint8) → N×H×W×C numpy array for ``imshow`` (C = 1 squeezed)."""
    x = check_images(images, "images", allow_uint8=True)
    x = x.detach().cpu()
    x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
    x = x.permute(0, 2, 3, 1).numpy()
    return x[..., 0] if x.shape[-1] == 1 else x


def image_grid(
    images: ArrayLike,
    labels: Sequence[str] | None = None,
    *,
    ncols: int = 8,
    ax: Axes | None = None,
    title: str | None = None,
    pad: int = 1,
    pad_value: float = 1.0,
    label_size: float = 8,
) -> Axes:
    """Draw images as one grid on an axis, with an optional label under each image.

    One ``imshow`` of a tiled array (fast for hundreds of images); labels are placed under each
    tile. Returns the axis.
    """
    arr = to_display(images)
    if arr.ndim == 3:
        arr = arr[..., None].repeat(3, axis=-1)
    n, h, w, c = arr.shape
    if labels is not None and len(labels) != n:
        raise ValueError(f"labels: expected {n} labels (one per image), got {len(labels)}")
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    label_h = int(round(h * 0.45)) if labels is not None else 0
    cell_h, cell_w = h + pad + label_h, w + pad
    canvas = np.full((nrows * cell_h + pad, ncols * cell_w + pad, c), pad_value, dtype=np.float32)
    for i in range(n):
        r, k = divmod(i, ncols)
        y, x = pad + r * cell_h, pad + k * cell_w
        canvas[y : y + h, x : x + w] = arr[i]
    if ax is None:
        _, ax = plt.subplots(figsize=(min(14, 1.1 * ncols + 0.4), 1.1 * nrows * cell_h / h + 0.3))
    ax.imshow(canvas, interpolation="nearest")
    ax.set_axis_off()
    ax.grid(False)
    if labels is not None:
        for i, text in enumerate(labels):
            r, k = divmod(i, ncols)
            ax.text(
                pad + k * cell_w + w / 2,
                pad + r * cell_h + h + label_h * 0.1,
                str(text),
                ha="center",
                va="top",
                fontsize=label_size,
            )
    if title:
        ax.set_title(title)
    return ax


def show_images(
    images: ArrayLike,
    labels: Sequence[str] | None = None,
    *,
    ncols: int = 8,
    title: str | None = None,
) -> Figure | SubFigure:
    """Convenience: a new figure with :func:`image_grid`; returns the figure."""
    ax = image_grid(images, labels, ncols=ncols, title=title)
    return ax.figure
