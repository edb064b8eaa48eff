"""Structural similarity: SSIM (Wang et al. 2004) and multi-scale SSIM (Wang et al. 2003).

Both functions take two batches of images of the same shape, N×C×H×W, and compare image ``i`` of
one batch with image ``i`` of the other. They run on the device of their inputs, batched (one
grouped, separable convolution for all images, channels and moments at once).

Conventions, chosen to match the papers and the reference implementations:

- an ``win_size``×``win_size`` Gaussian window (σ = 1.5, 11 taps), normalised to sum 1;
- population (biased) local moments, as in the paper's MATLAB code;
- a "valid" convolution: the SSIM map covers only the pixels whose whole window lies inside the
  image, so it is (H − win_size + 1)×(W − win_size + 1). scikit-image crops the same border from
  its map; tools that pad and average the border too read slightly lower.

scikit-image's ``structural_similarity`` with ``gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=...`` gives the same numbers, and ``ms_ssim`` follows
pytorch-msssim's conventions exactly (see its docstring).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, NamedTuple, overload

import torch
import torch.nn.functional as F

from lib._checks import ArrayLike, as_tensor, check_choice, check_finite, check_positive_int

__all__ = ["SSIMOutput", "ssim", "ms_ssim", "gaussian_window", "MS_SSIM_WEIGHTS"]

#: The five scale weights of Wang et al. (2003), finest scale first.
MS_SSIM_WEIGHTS: tuple[float, ...] = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


class SSIMOutput(NamedTuple):
    """What :func:`ssim` returns when a map or the components are asked for.

    ``value`` is what :func:`ssim` returns on its own (a scalar with ``reduction="mean"``, one
    value per image with ``reduction="none"``). The maps are N×C×H'×W' with the border of
    ``win_size // 2`` pixels cropped; fields that were not asked for are ``None``.
    ``luminance * contrast * structure == ssim_map`` (with C3 = C2 / 2).
    """

    value: torch.Tensor
    ssim_map: torch.Tensor | None = None
    luminance: torch.Tensor | None = None
    contrast: torch.Tensor | None = None
    structure: torch.Tensor | None = None


def gaussian_window(
    win_size: int = 11,
    sigma: float = 1.5,
    *,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """The 1-D Gaussian window g_i ∝ exp(−(i − win_size // 2)² / (2σ²)), normalised to sum 1.

    The 2-D SSIM window is its outer product with itself (it is separable).
    """
    _check_window(win_size, sigma)
    coords = torch.arange(win_size, dtype=torch.float64) - win_size // 2
    g = torch.exp(-(coords**2) / (2.0 * float(sigma) ** 2))
    return (g / g.sum()).to(dtype=dtype, device=device)


@overload
def ssim(
    x: ArrayLike,
    y: ArrayLike,
    data_range: float = ...,
    *,
    win_size: int = ...,
    sigma: float = ...,
    k1: float = ...,
    k2: float = ...,
    reduction: str = ...,
    return_map: Literal[False] = ...,
    return_components: Literal[False] = ...,
) -> torch.Tensor: ...
@overload
def ssim(
    x: ArrayLike,
    y: ArrayLike,
    data_range: float = ...,
    *,
    win_size: int = ...,
    sigma: float = ...,
    k1: float = ...,
    k2: float = ...,
    reduction: str = ...,
    return_map: Literal[True],
    return_components: bool = ...,
) -> SSIMOutput: ...
@overload
def ssim(
    x: ArrayLike,
    y: ArrayLike,
    data_range: float = ...,
    *,
    win_size: int = ...,
    sigma: float = ...,
    k1: float = ...,
    k2: float = ...,
    reduction: str = ...,
    return_map: bool = ...,
    return_components: Literal[True],
) -> SSIMOutput: ...
@overload
def ssim(
    x: ArrayLike,
    y: ArrayLike,
    data_range: float = ...,
    *,
    win_size: int = ...,
    sigma: float = ...,
    k1: float = ...,
    k2: float = ...,
    reduction: str = ...,
    return_map: bool = ...,
    return_components: bool = ...,
) -> torch.Tensor | SSIMOutput: ...
def ssim(
    x: ArrayLike,
    y: ArrayLike,
    data_range: float = 1.0,
    *,
    win_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    reduction: str = "mean",
    return_map: bool = False,
    return_components: bool = False,
) -> torch.Tensor | SSIMOutput:
    r"""Structural similarity index (Wang, Bovik, Sheikh & Simoncelli 2004, eq. 13).

    For every pixel, with Gaussian-weighted local means μ, variances σ² and covariance σxy
    (population moments over the window)::

        SSIM = (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)),
        C1 = (k1 L)², C2 = (k2 L)², L = data_range.

    It factors into luminance, contrast and structure (paper eqs. 6, 9, 10; C3 = C2 / 2)::

        l = (2 μx μy + C1) / (μx² + μy² + C1)
        c = (2 σx σy + C2) / (σx² + σy² + C2)
        s = (σxy + C3) / (σx σy + C3)          SSIM = l · c · s

    The SSIM of an image is the mean of its map over the valid pixels and over the channels.

    Args:
        x, y: image batches of the same shape N×C×H×W (C = 1 or 3), tensors or numpy arrays, on
            the same device. Float images must lie in [0, ``data_range``] (the course's [0, 1]
            by default); uint8 images (0..255) are accepted with ``data_range=255``. Both must have
            the same dtype. float16/bfloat16 are computed in float32, float64 stays float64.
        data_range: L, the dynamic range of the pixel values (1 for [0, 1], 255 for uint8).
        win_size: odd size of the Gaussian window (11 in the paper); H and W must be at least this.
        sigma: standard deviation of the Gaussian window (1.5 in the paper).
        k1, k2: the stabilising constants (0.01 and 0.03 in the paper).
        reduction: ``"mean"`` for the mean over the batch (a 0-D tensor), ``"none"`` for one value
            per image (shape N).
        return_map: also return the SSIM map (N×C×(H−win_size+1)×(W−win_size+1)).
        return_components: also return the luminance, contrast and structure maps.

    Returns:
        A tensor, or an :class:`SSIMOutput` when ``return_map`` or ``return_components`` is set.

    With the paper's settings this equals scikit-image's ``structural_similarity(x, y,
    gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=L,
    channel_axis=...)`` and pytorch-msssim's ``ssim(x, y, data_range=L)``.
    """
    x, y, data_range = _check_pair(x, y, data_range, "ssim")
    _check_window(win_size, sigma)
    _check_constants(k1, k2)
    check_choice(reduction, "reduction", ("mean", "none"))
    _check_min_size(x, win_size, "ssim")

    win = gaussian_window(win_size, sigma, dtype=x.dtype, device=x.device)
    c1 = (k1 * data_range) ** 2
    c2 = (k2 * data_range) ** 2
    mu_x, mu_y, var_x, var_y, cov = _local_moments(x, y, win)
    differentiable = torch.is_grad_enabled() and (x.requires_grad or y.requires_grad)
    if return_map or return_components or differentiable:
        lum = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)
        cs_map = (2 * cov + c2) / (var_x + var_y + c2)
        ssim_map = lum * cs_map
    else:  # the same arithmetic in place: fewer passes over memory and no new buffers
        ssim_map = torch.mul(mu_x, mu_y).mul_(2).add_(c1)
        ssim_map.div_(mu_x.square_().add_(mu_y.square_()).add_(c1))
        ssim_map.mul_(cov.mul_(2).add_(c2).div_(var_x.add_(var_y).add_(c2)))

    value = ssim_map.mean(dim=(1, 2, 3))
    if reduction == "mean":
        value = value.mean()
    if not (return_map or return_components):
        return value
    out = SSIMOutput(value, ssim_map if return_map else None)
    if return_components:
        # Rounding can make tiny variances negative; σ is the square root of the clamped value.
        sd_x = var_x.clamp_min(0).sqrt()
        sd_y = var_y.clamp_min(0).sqrt()
        c3 = c2 / 2
        contrast = (2 * sd_x * sd_y + c2) / (var_x + var_y + c2)
        structure = (cov + c3) / (sd_x * sd_y + c3)
        out = out._replace(luminance=lum, contrast=contrast, structure=structure)
    return out


def ms_ssim(
    x: ArrayLike,
    y: ArrayLike,
    data_range: float = 1.0,
    weights: Sequence[float] = MS_SSIM_WEIGHTS,
    *,
    win_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Multi-scale SSIM (Wang, Simoncelli & Bovik 2003, eq. 7).

    With M = len(weights) scales j = 1 (full resolution) … M, each obtained from the previous one
    by a 2×2 average pool, and cs_j the mean contrast-structure term
    (2 σxy + C2) / (σx² + σy² + C2) at scale j::

        MS-SSIM = relu(SSIM_M)^{w_M} · Π_{j<M} relu(cs_j)^{w_j}

    per channel (the means are taken over each channel's map first), then averaged over the
    channels. Weights default to the paper's (0.0448, 0.2856, 0.3001, 0.2363, 0.1333) and are used
    as given (not renormalised) when fewer are passed.

    Conventions follow pytorch-msssim 1.0 exactly, so the two agree to rounding: negative terms
    are clamped at 0 before the powers (a negative base with a fractional power would be NaN);
    the 2×2 average pool pads a dimension of odd size with one zero on each side
    (``padding = size % 2``, zeros counted in the average), so sizes divisible by 2^(M−1) avoid
    any padding.

    Args:
        x, y, data_range, win_size, sigma, k1, k2, reduction: as in :func:`ssim`.
        weights: one exponent per scale, finest first; its length is the number of scales.

    The short side of the images must exceed (win_size − 1) · 2^(M−1) (160 px for the default
    5 scales and 11-px window), so that the window still fits at the coarsest scale; smaller
    images get a ``ValueError`` that suggests fewer scales or a smaller window.
    """
    x, y, data_range = _check_pair(x, y, data_range, "ms_ssim")
    _check_window(win_size, sigma)
    _check_constants(k1, k2)
    check_choice(reduction, "reduction", ("mean", "none"))
    w = _check_weights(weights)
    levels = len(w)
    min_side = (win_size - 1) * 2 ** (levels - 1)
    if min(x.shape[-2:]) <= min_side:
        raise ValueError(
            f"ms_ssim: images are {x.shape[-2]}×{x.shape[-1]} pixels, but with {levels} scales and "
            f"a {win_size}-pixel window the short side must exceed (win_size − 1)·2^{levels - 1} "
            f"= {min_side} pixels; use larger images, fewer scales (e.g. "
            f"weights={tuple(w[:3])}), a smaller win_size, or ssim()"
        )

    win = gaussian_window(win_size, sigma, dtype=x.dtype, device=x.device)
    c1 = (k1 * data_range) ** 2
    c2 = (k2 * data_range) ** 2
    weight_t = torch.tensor(w, dtype=x.dtype, device=x.device)
    terms = []
    for level in range(levels):
        mu_x, mu_y, var_x, var_y, cov = _local_moments(x, y, win)
        cs_map = (2 * cov + c2) / (var_x + var_y + c2)
        if level < levels - 1:
            terms.append(torch.relu(cs_map.mean(dim=(-2, -1))))
            padding = [s % 2 for s in x.shape[-2:]]
            x = F.avg_pool2d(x, kernel_size=2, padding=padding)
            y = F.avg_pool2d(y, kernel_size=2, padding=padding)
        else:
            lum = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)
            terms.append(torch.relu((lum * cs_map).mean(dim=(-2, -1))))
    stacked = torch.stack(terms)  # levels × N × C
    value = torch.prod(stacked ** weight_t.view(-1, 1, 1), dim=0).mean(1)
    return value.mean() if reduction == "mean" else value


# --------------------------------------------------------------------------------------------
# internals


def _local_moments(
    x: torch.Tensor, y: torch.Tensor, win: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gaussian-weighted local means, population variances and covariance ("valid" borders).

    The five filtered quantities of all images and channels go through one grouped, separable
    convolution. On the CPU they are laid out channels-last (N×H×W×5C in memory), where
    oneDNN's depthwise convolutions run about twice as fast as on N×5C×H×W.
    """
    c = x.shape[1]
    # Variances come out as E[x²] − μ², which cancels badly in float32 on bright flat regions
    # (an error of ~1e-7 against C2 = 9e-4 moves SSIM by ~1e-4). Moments are shift-invariant, so
    # each image channel is first centred on its own mean; the luminance term gets it back.
    mx = x.mean(dim=(-2, -1), keepdim=True)
    my = y.mean(dim=(-2, -1), keepdim=True)
    n, _, h, w = x.shape
    cpu = x.device.type == "cpu"
    if torch.is_grad_enabled() and (x.requires_grad or y.requires_grad):
        xc, yc = x - mx, y - my  # differentiable path (``out=`` writes are not)
        stack = torch.cat([xc, yc, xc * xc, yc * yc, xc * yc], dim=1)
        if cpu:
            stack = stack.contiguous(memory_format=torch.channels_last)
    else:
        # N×5C×H×W, channels-last strides on the CPU, filled in place (no cat, no copy).
        stack = x.new_empty(n, h, w, 5 * c).permute(0, 3, 1, 2) if cpu else None
        if stack is None:
            stack = x.new_empty(n, 5 * c, h, w)
        xc, yc = stack[:, :c], stack[:, c : 2 * c]
        torch.sub(x, mx, out=xc)
        torch.sub(y, my, out=yc)
        torch.mul(xc, xc, out=stack[:, 2 * c : 3 * c])
        torch.mul(yc, yc, out=stack[:, 3 * c : 4 * c])
        torch.mul(xc, yc, out=stack[:, 4 * c :])
    groups = 5 * c
    k = win.numel()
    stack = F.conv2d(stack, win.view(1, 1, k, 1).expand(groups, 1, k, 1), groups=groups)
    stack = F.conv2d(stack, win.view(1, 1, 1, k).expand(groups, 1, 1, k), groups=groups)
    mu_xc, mu_yc, xx, yy, xy = stack.split(c, dim=1)
    var_x = xx - mu_xc**2
    var_y = yy - mu_yc**2
    cov = xy - mu_xc * mu_yc
    return mu_xc + mx, mu_yc + my, var_x, var_y, cov


def _check_pair(x, y, data_range, fn: str) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Validate two image batches for SSIM; return them in the dtype the computation uses."""
    x = as_tensor(x, "x")
    y = as_tensor(y, "y")
    for t, name in ((x, "x"), (y, "y")):
        if t.ndim != 4:
            hint = " (add a batch dimension with x[None])" if t.ndim == 3 else ""
            raise ValueError(
                f"{fn}: {name} must be a 4-D N×C×H×W tensor, got shape {tuple(t.shape)}{hint}"
            )
        if t.shape[0] == 0:
            raise ValueError(f"{fn}: {name} is an empty batch (shape {tuple(t.shape)})")
        if t.shape[1] not in (1, 3):
            raise ValueError(
                f"{fn}: {name} must have 1 or 3 channels in dimension 1 (N×C×H×W), got "
                f"{t.shape[1]} (shape {tuple(t.shape)}); channels-last images need "
                "x.permute(0, 3, 1, 2)"
            )
    if x.shape != y.shape:
        raise ValueError(
            f"{fn}: x and y must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    if x.device != y.device:
        raise ValueError(
            f"{fn}: x is on {x.device} and y on {y.device}; move both to the same device"
        )
    if x.dtype != y.dtype:
        raise TypeError(
            f"{fn}: x is {x.dtype} and y is {y.dtype}; give both the same dtype "
            "(float images in [0, 1], or uint8 with data_range=255)"
        )
    if isinstance(data_range, bool) or not isinstance(data_range, (int, float)):
        raise TypeError(f"{fn}: data_range must be a number, got {type(data_range).__name__}")
    data_range = float(data_range)
    if not data_range > 0 or data_range == float("inf"):
        raise ValueError(f"{fn}: data_range must be a positive finite number, got {data_range}")

    if x.dtype == torch.uint8:
        if data_range != 255.0:
            raise ValueError(
                f"{fn}: uint8 images need data_range=255, got data_range={data_range:g}; "
                "pass data_range=255, or convert to float with x.float() / 255"
            )
        return x.float(), y.float(), data_range
    if not x.is_floating_point():
        raise TypeError(
            f"{fn}: expected float images in [0, {data_range:g}] or uint8 images, got {x.dtype}"
        )
    for t, name in ((x, "x"), (y, "y")):
        # One pass: NaN propagates into both extremes and ±inf shows in one of them.
        lo_t, hi_t = torch.aminmax(t)
        lo, hi = float(lo_t), float(hi_t)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            check_finite(t, f"{fn}: {name}")
        if lo < 0.0 or hi > data_range:
            hint = (
                "; images in [0, 255] need x / 255 (or data_range=255)"
                if hi > 1.0 and data_range == 1.0
                else "; images in [-1, 1] need (x + 1) / 2"
                if lo < 0.0
                else ""
            )
            raise ValueError(
                f"{fn}: {name} must lie in [0, data_range] = [0, {data_range:g}], got values in "
                f"[{lo:.4g}, {hi:.4g}]{hint}"
            )
    if x.dtype in (torch.float16, torch.bfloat16):
        x, y = x.float(), y.float()
    return x, y, data_range


def _check_window(win_size: int, sigma: float) -> None:
    check_positive_int(win_size, "win_size", minimum=1)
    if win_size % 2 == 0:
        raise ValueError(f"win_size: must be odd (the window has a centre pixel), got {win_size}")
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not sigma > 0:
        raise ValueError(f"sigma: must be a positive number, got {sigma!r}")


def _check_constants(k1: float, k2: float) -> None:
    for k, name in ((k1, "k1"), (k2, "k2")):
        if isinstance(k, bool) or not isinstance(k, (int, float)) or not k > 0:
            raise ValueError(
                f"{name}: must be a positive number (it keeps SSIM finite on flat regions), "
                f"got {k!r}"
            )


def _check_min_size(x: torch.Tensor, win_size: int, fn: str) -> None:
    h, w = x.shape[-2:]
    side = min(h, w)
    if side < win_size:
        largest = side if side % 2 else side - 1
        hint = f" (at most {largest})" if largest >= 1 else ""
        raise ValueError(
            f"{fn}: images are {h}×{w} pixels, smaller than the {win_size}×{win_size} window; "
            f"use larger images or a smaller odd win_size{hint}"
        )


def _check_weights(weights: Sequence[float]) -> list[float]:
    try:
        w = [float(v) for v in weights]
    except (TypeError, ValueError) as exc:
        raise TypeError(f"weights: expected a sequence of numbers, got {weights!r}") from exc
    if not w:
        raise ValueError("weights: need at least one scale weight")
    if any(not v >= 0 or v == float("inf") for v in w):
        raise ValueError(f"weights: must be finite and non-negative, got {tuple(w)}")
    return w
