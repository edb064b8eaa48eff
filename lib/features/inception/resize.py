"""TensorFlow 1.x bilinear resizing, the resize of the FID reference code.

Kept by hand because no library call reproduces it: ``F.interpolate(mode="bilinear")`` uses
half-pixel centres (pytorch-fid's resize), PIL/clean-fid resample with antialiasing; TF1's
``resize_bilinear(align_corners=False)`` maps destination index i to source i · in/out.
"""

from __future__ import annotations

import torch


def tf1_bilinear_resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize exactly as TensorFlow 1.x ``resize_bilinear(align_corners=False)``.

    For output index i the source coordinate is ``s = i · (in / out)`` (the scale rounded to
    float32, as TF computes it), with neighbours ``floor(s)`` and ``min(floor(s) + 1, in − 1)``
    and weight ``s − floor(s)``; rows are interpolated after columns. There is no half-pixel
    offset and no antialiasing, so downscaling aliases — which is what the FID reference code
    did. ``x``: float N×C×H×W; differentiable with respect to ``x``.
    """
    out_h, out_w = size
    in_h, in_w = x.shape[-2:]
    if (in_h, in_w) == (out_h, out_w):
        return x

    def axis(n_in: int, n_out: int):
        scale = torch.tensor(n_in / n_out, dtype=torch.float32)
        pos = torch.arange(n_out, dtype=x.dtype, device=x.device) * scale
        lo = pos.long()  # positions are >= 0, so truncation is floor
        hi = (lo + 1).clamp_max(n_in - 1)
        return lo, hi, pos - lo.to(pos.dtype)

    y_lo, y_hi, dy = axis(in_h, out_h)
    x_lo, x_hi, dx = axis(in_w, out_w)
    rows_lo = x.index_select(-2, y_lo)
    rows_hi = x.index_select(-2, y_hi)
    dx = dx.view(1, 1, 1, out_w)
    top_left = rows_lo.index_select(-1, x_lo)
    top = top_left + (rows_lo.index_select(-1, x_hi) - top_left) * dx
    bottom_left = rows_hi.index_select(-1, x_lo)
    bottom = bottom_left + (rows_hi.index_select(-1, x_hi) - bottom_left) * dx
    return top + (bottom - top) * dy.view(1, 1, out_h, 1)
