"""Clips (T×C×H×W frames) as animations inside a notebook, with no external binaries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
from matplotlib import animation
from matplotlib.image import AxesImage

from lib._checks import ArrayLike
from lib.viz.images import to_display

if TYPE_CHECKING:
    from IPython.display import HTML


def clip_animation(
    frames: ArrayLike | list[ArrayLike] | tuple[ArrayLike, ...],
    *,
    fps: float = 8,
    titles: Sequence[str] | None = None,
    scale: float = 3.0,
) -> animation.FuncAnimation:
    """A matplotlib ``FuncAnimation`` of one clip (T×C×H×W, or a list of clips shown side by side).

    Several clips of the same length play in sync, one panel each; ``titles`` names the panels.
    """
    clips = list(frames) if isinstance(frames, list | tuple) else [frames]
    arrays = [to_display(c) for c in clips]
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError(
            f"frames: clips shown together need the same length, got {sorted(lengths)}"
        )
    if titles is not None and len(titles) != len(arrays):
        raise ValueError(f"titles: expected {len(arrays)} titles, got {len(titles)}")
    if not fps > 0:
        raise ValueError(f"fps: must be positive, got {fps!r}")
    h, w = arrays[0].shape[1:3]
    fig, axes = plt.subplots(
        1,
        len(arrays),
        figsize=(scale * len(arrays) * w / max(h, w) + 0.2, scale * h / max(h, w) + 0.4),
        squeeze=False,
    )
    cmap = "gray" if arrays[0].ndim == 3 else None
    artists = []
    for k, (ax, arr) in enumerate(zip(axes[0], arrays, strict=True)):
        artists.append(ax.imshow(arr[0], cmap=cmap, vmin=0, vmax=1, interpolation="nearest"))
        ax.set_axis_off()
        if titles is not None:
            ax.set_title(titles[k])

    def draw(t: int) -> list[AxesImage]:
        for artist, arr in zip(artists, arrays, strict=True):
            artist.set_data(arr[t])
        return artists

    anim = animation.FuncAnimation(fig, draw, frames=lengths.pop(), interval=1000 / fps, blit=True)
    plt.close(fig)  # show the animation, not a stray static figure
    return anim


def show_clip(
    frames: ArrayLike | list[ArrayLike] | tuple[ArrayLike, ...],
    *,
    fps: float = 8,
    titles: Sequence[str] | None = None,
    scale: float = 3.0,
) -> HTML:
    """Show a clip (or clips side by side) as an interactive JavaScript animation in a notebook.

    Uses matplotlib's ``to_jshtml`` (frames embedded as PNGs), so no ffmpeg is needed.
    """
    from IPython.display import HTML

    anim = clip_animation(frames, fps=fps, titles=titles, scale=scale)
    return HTML(anim.to_jshtml(default_mode="loop"))
