"""``save_fig``: every key figure of the course as ``figures/NAME.png``, written atomically."""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from lib._io import atomic_write
from lib.paths import FIGURES_DIR

FIGURES_ENV = "COURSE_FIGURES_DIR"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")


def figures_dir() -> Path:
    """Where figures go: ``$COURSE_FIGURES_DIR`` when set (tests use it so that smoke runs do not
    overwrite the committed figures), otherwise ``figures/`` at the top of the course."""
    override = os.environ.get(FIGURES_ENV)
    if override:
        return Path(override)
    return FIGURES_DIR


def save_fig(name: str, fig: Figure | None = None) -> Path:
    """Save ``fig`` (default: the current figure) as ``figures/NAME.png`` and return the path.

    ``name`` is a plain file stem such as ``"00_datasets"`` (notebook number first); it may not
    contain a folder or an extension. The file is written to a temporary name and renamed, so a
    reader never sees half a PNG; the PNG carries no timestamp or version, so re-running a
    notebook that draws the same figure leaves the file byte-identical.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"name: expected a plain file stem like '04_fid_vs_blur' (letters, digits, _ and -), "
            f"got {name!r}"
        )
    fig = plt.gcf() if fig is None else fig
    target = figures_dir() / f"{name}.png"
    return atomic_write(
        target, lambda handle: fig.savefig(handle, format="png", metadata={"Software": None})
    )
