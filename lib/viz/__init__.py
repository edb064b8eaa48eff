"""Plotting for the course: one theme, image grids, clips as animations, and ``save_fig``."""

from lib.viz.figures import figures_dir, save_fig
from lib.viz.images import image_grid, show_images, to_display
from lib.viz.theme import PALETTE, set_theme
from lib.viz.video import clip_animation, show_clip

__all__ = [
    "PALETTE",
    "clip_animation",
    "figures_dir",
    "image_grid",
    "save_fig",
    "set_theme",
    "show_clip",
    "show_images",
    "to_display",
]
