"""The course's plotting theme: seaborn's whitegrid with a colour-blind-safe palette."""

from __future__ import annotations

from typing import Literal

import matplotlib as mpl

PALETTE = "colorblind"


def set_theme(
    *, context: Literal["paper", "notebook", "talk", "poster"] = "notebook", dpi: int = 100
) -> None:
    """Apply the course theme to matplotlib (call once in a notebook's setup cell).

    seaborn's ``whitegrid`` style with the ``colorblind`` palette; figures are saved at 150 dpi
    with a tight bounding box so that PNGs in ``figures/`` are slide-ready.
    """
    import seaborn as sns

    sns.set_theme(context=context, style="whitegrid", palette=PALETTE)
    mpl.rcParams.update(
        {
            "figure.dpi": dpi,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "image.interpolation": "nearest",
            "axes.titlesize": "medium",
            "animation.embed_limit": 50.0,  # MB; clips are embedded as JavaScript
        }
    )
