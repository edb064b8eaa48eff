"""Optical-flow helpers shared by the video parts of the course: backward warping.

Flow convention (the one vid2vid and the toy street use): a flow field is a float tensor
``...×2×H×W`` in **pixels**, channel 0 the x (column) displacement and channel 1 the y (row)
displacement. The *backward* flow of frame t says, for each pixel p of frame t, where that surface
point was in frame t−1: at ``p + flow(p)``. Pixel centres sit at integer coordinates
0 … W−1 (x) and 0 … H−1 (y).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lib._checks import ArrayLike, as_tensor, check_choice, check_finite

WARP_MODES = ("bilinear", "nearest", "bicubic")
WARP_PADDING = ("border", "zeros", "reflection")


def _check_float(x: torch.Tensor, name: str) -> torch.Tensor:
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a float tensor, got dtype {x.dtype}")
    check_finite(x, name)
    return x


def pixel_grid(
    height: int,
    width: int,
    *,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """The pixel-centre coordinates of an H×W image as a 2×H×W tensor (x then y)."""
    ys = torch.arange(height, device=device, dtype=dtype)
    xs = torch.arange(width, device=device, dtype=dtype)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy])


def warp(
    frames: ArrayLike,
    flow: ArrayLike,
    *,
    mode: str = "bilinear",
    padding_mode: str = "border",
) -> torch.Tensor:
    """Backward-warp ``frames`` with ``flow``: ``out(p) = frames(p + flow(p))``.

    ``frames`` is ``...×C×H×W`` (any leading batch dimensions, e.g. N×C×H×W or N×T×C×H×W) and
    ``flow`` is ``...×2×H×W`` with the same leading dimensions, in pixels, x then y. For the
    backward flow of frame t, warping frame t−1 gives frame t wherever the surface point was
    visible in frame t−1 (vid2vid's ``warp(x̃_{t−1}, w)``).

    Sampling uses ``torch.nn.functional.grid_sample`` with ``align_corners=False``: pixel
    coordinate x maps to the normalised coordinate ``(2x + 1) / W − 1``, so a flow of exactly
    +3 px samples exactly three pixels to the right (the other convention, ``2x / (W − 1) − 1``
    with ``align_corners=False``, would move a 3-px shift to about 2.8 px). Points outside the
    image take the edge value (``padding_mode="border"``), zero (``"zeros"``) or the mirrored
    value (``"reflection"``). Differentiable in both ``frames`` and ``flow``.
    """
    frames = _check_float(as_tensor(frames, "frames"), "frames")
    flow = _check_float(as_tensor(flow, "flow"), "flow")
    check_choice(mode, "mode", WARP_MODES)
    check_choice(padding_mode, "padding_mode", WARP_PADDING)
    if frames.ndim < 3:
        raise ValueError(f"frames: expected ...×C×H×W, got shape {tuple(frames.shape)}")
    if flow.ndim != frames.ndim or flow.shape[-3] != 2:
        raise ValueError(
            f"flow: expected ...×2×H×W with the leading dimensions of frames "
            f"{tuple(frames.shape[:-3])}, got shape {tuple(flow.shape)}"
        )
    if flow.shape[:-3] != frames.shape[:-3] or flow.shape[-2:] != frames.shape[-2:]:
        raise ValueError(
            f"flow: shape {tuple(flow.shape)} does not match frames {tuple(frames.shape)}; "
            "it needs the same leading dimensions and the same H×W, with 2 channels (x, y)"
        )
    if flow.device != frames.device:
        raise ValueError(f"flow: is on {flow.device} but frames are on {frames.device}")
    if flow.dtype != frames.dtype:
        flow = flow.to(frames.dtype)

    lead = frames.shape[:-3]
    c, h, w = frames.shape[-3:]
    x = frames.reshape(-1, c, h, w)
    f = flow.reshape(-1, 2, h, w)
    base = pixel_grid(h, w, device=f.device, dtype=f.dtype)
    pos = base + f  # where each output pixel samples, in pixels
    size = torch.tensor([w, h], device=f.device, dtype=f.dtype).view(1, 2, 1, 1)
    grid = (2 * pos + 1) / size - 1  # align_corners=False: pixel x -> (2x + 1) / W - 1
    out = F.grid_sample(
        x, grid.permute(0, 2, 3, 1), mode=mode, padding_mode=padding_mode, align_corners=False
    )
    return out.reshape(*lead, c, h, w)
