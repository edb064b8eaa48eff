"""What data, models and metrics of the video lessons all need: backward warping with a flow
field (:mod:`lib.video.warp`) and optical flow estimated from frames (:mod:`lib.video.flow`).

Flow convention (the one vid2vid and the toy street use): a flow field is a float tensor
``...×2×H×W`` in **pixels**, channel 0 the x (column) displacement and channel 1 the y (row)
displacement. The *backward* flow of frame t says, for each pixel p of frame t, where that
surface point was in frame t−1: at ``p + flow(p)``.
"""

from lib.video.flow import DIS_PRESETS, estimate_flow
from lib.video.warp import WARP_MODES, WARP_PADDING, pixel_grid, warp

__all__ = ["DIS_PRESETS", "WARP_MODES", "WARP_PADDING", "estimate_flow", "pixel_grid", "warp"]
