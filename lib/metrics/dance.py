"""The measures of Everybody Dance Now (Chan et al. 2019, §5.1) on generated dance clips.

=====================================  ==========================================================
SSIM inside body or face boxes         :func:`crop_ssim`, with the boxes of :func:`body_boxes`
temporal stability                     :func:`frame_jitter`
pose distance                          :func:`lib.metrics.video.pose_distance`
=====================================  ==========================================================

A clip here is T×3×H×W (one clip, frames along the first axis), float. None of these measures
needs a network: the keypoint regressor behind the pose distance lives in
:mod:`lib.models.dance`, which re-exports these functions for notebook 11.
"""

from __future__ import annotations

from typing import cast

import torch

from lib._checks import ArrayLike, as_tensor
from lib.metrics.ssim import ssim
from lib.metrics.video import pose_distance

__all__ = ["body_boxes", "crop_ssim", "frame_jitter", "pose_distance"]


def _check_frames(x: ArrayLike, name: str) -> torch.Tensor:
    """T×3×H×W float frames, finite. Not range-checked: generated frames may overshoot [0, 1]
    slightly, and the measures below clamp or difference them."""
    if not isinstance(x, torch.Tensor):
        x = as_tensor(x, name)
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"{name}: expected N×3×H×W RGB images, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected float images in [0, 1], got dtype {x.dtype}")
    if x.shape[0] == 0:
        raise ValueError(f"{name}: no frames")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name}: contains NaN or infinite values")
    return x


def frame_jitter(frames: ArrayLike, reference: ArrayLike | None = None) -> torch.Tensor:
    """Frame-to-frame jitter of a clip (T×3×H×W, T ≥ 2), mean absolute value per pixel.

    Without a reference: ``J = mean_t mean_p |x̂_{t+1}(p) − x̂_t(p)|``, how much the frames change.
    With the true clip ``x``: the change that is not in the true motion,
    ``J = mean_t mean_p |(x̂_{t+1} − x̂_t)(p) − (x_{t+1} − x_t)(p)|`` — zero for a clip that
    changes exactly as the real one, large for flicker. Returns a 0-D tensor on the device of
    ``frames``.
    """
    x = _check_frames(frames, "frames")
    if x.shape[0] < 2:
        raise ValueError("frames: need at least two frames to measure jitter")
    dx = x[1:] - x[:-1]
    if reference is not None:
        r = _check_frames(reference, "reference")
        if r.shape != x.shape:
            raise ValueError(
                f"reference: expected the shape of frames {tuple(x.shape)}, got {tuple(r.shape)}"
            )
        dx = dx - (r[1:] - r[:-1]).to(dx.device)
    return dx.abs().mean()


def body_boxes(parts: ArrayLike, margin: int = 2) -> torch.Tensor:
    """T×4 (x0, y0, x1, y1) boxes (inclusive pixel bounds) around each frame's body, from the
    renderer's part labels (``parts > 0``), grown by ``margin`` pixels and clipped to the frame.

    Returned on the CPU: the boxes are read as Python integers by :func:`crop_ssim`.
    """
    p = as_tensor(parts, "parts")
    if p.ndim != 3:
        raise ValueError(f"parts: expected T×H×W part labels, got shape {tuple(p.shape)}")
    on = p > 0
    h, w = p.shape[-2:]
    rows, cols = on.any(dim=2), on.any(dim=1)
    if not bool(rows.any(dim=1).all()):
        raise ValueError("parts: a frame shows no body")
    ar_h = torch.arange(h, device=p.device)
    ar_w = torch.arange(w, device=p.device)
    y0 = torch.where(rows, ar_h, h).amin(1) - margin
    y1 = torch.where(rows, ar_h, -1).amax(1) + margin
    x0 = torch.where(cols, ar_w, w).amin(1) - margin
    x1 = torch.where(cols, ar_w, -1).amax(1) + margin
    box = torch.stack(
        [x0.clamp(0, w - 1), y0.clamp(0, h - 1), x1.clamp(0, w - 1), y1.clamp(0, h - 1)], 1
    )
    return box.cpu()


def crop_ssim(
    generated: ArrayLike, real: ArrayLike, boxes: ArrayLike, *, win_size: int = 7
) -> torch.Tensor:
    """SSIM of each frame inside a box (Chan et al. 2019, §5.1; SSIM of Wang et al. 2004).

    The SSIM map (Gaussian window ``win_size``, σ 1.5) of the whole frame,
    SSIM(p) = l(p)·c(p)·s(p) at every window centre p, averaged over the centres inside the
    frame's box (T×4 inclusive pixel bounds, e.g. :func:`body_boxes` or a face window); NaN for
    a box with no window centre inside. Returns T values (a CPU tensor).

    A small window (7) because the puppet's face is only 7–9 pixels across at 64²; the map of
    the whole frame is used, so every window sees real image context around the crop.
    """
    x = _check_frames(generated, "generated")
    y = _check_frames(real, "real")
    if x.shape != y.shape:
        raise ValueError(f"generated, real: shapes differ, {tuple(x.shape)} vs {tuple(y.shape)}")
    b = as_tensor(boxes, "boxes").long().cpu()
    if b.shape != (x.shape[0], 4):
        raise ValueError(f"boxes: expected {x.shape[0]}×4 (x0, y0, x1, y1), got {tuple(b.shape)}")
    out = ssim(x.clamp(0, 1), y.to(x.device).clamp(0, 1), win_size=win_size, return_map=True)
    # The per-box means slice a small map with Python bounds: cheaper on the CPU than T launches.
    ssim_map = cast(torch.Tensor, out.ssim_map)  # always set with return_map=True
    smap = ssim_map.mean(dim=1).cpu()  # T×h×w, centre of map cell (i, j) at (i + r, j + r)
    r = win_size // 2
    h, w = smap.shape[-2:]
    values = []
    for m, (x0, y0, x1, y1) in zip(smap, b.tolist(), strict=True):
        i0, i1 = max(y0 - r, 0), min(y1 - r, h - 1)
        j0, j1 = max(x0 - r, 0), min(x1 - r, w - 1)
        if i1 < i0 or j1 < j0:
            values.append(float("nan"))
        else:
            values.append(float(m[i0 : i1 + 1, j0 : j1 + 1].mean()))
    return torch.tensor(values)
