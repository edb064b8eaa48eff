"""Image distortions with a continuous strength, and distortions matched to one MSE.

Wang, Bovik, Sheikh & Simoncelli (2004, "Image quality assessment: from error visibility to
structural similarity", Fig. 2) show one photo distorted in several ways, every version at the
same mean squared error from the original, and very different to the eye — the argument that MSE
is a poor measure of image quality and the motivation for SSIM. This module makes such a set:

==================  ==========================================================================
:func:`distort`     one of :data:`DISTORTIONS` at any strength in :data:`STRENGTH_RANGES`
:func:`mse`         the mean squared error per image, (1/CHW) Σ (x − y)²
:func:`match_mse`   the strength at which a distortion reaches a target MSE (bisection)
==================  ==========================================================================

Noise, blur and salt-and-pepper are :func:`lib.bench.degrade`'s; the others are defined here.
Every distortion's MSE grows with its strength (for ``"jpeg"`` in steps, as coefficients round
to the next quantisation level), which is what the bisection of :func:`match_mse` needs.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import NamedTuple

import torch
import torch.nn.functional as F

from lib import bench
from lib._checks import check_choice, check_images

__all__ = [
    "DISTORTIONS",
    "JPEG_LUMINANCE_TABLE",
    "STRENGTH_RANGES",
    "MSEMatch",
    "distort",
    "match_mse",
    "mse",
]

#: The distortions, "slight global" changes first and the local one last.
DISTORTIONS: tuple[str, ...] = (
    "brightness",
    "contrast",
    "blur",
    "noise",
    "salt_pepper",
    "jpeg",
    "patch",
)

#: The strengths each distortion accepts, (0, largest); strength 0 leaves the images unchanged.
#: Units: brightness — value added to every pixel (images in [0, 1]); contrast — s in the gain
#: 1 + s about the image mean; blur — σ of the Gaussian in pixels; noise — σ of the added
#: Gaussian noise; salt_pepper — fraction of pixels hit; jpeg — multiple of the JPEG luminance
#: quantisation table (1 ≈ JPEG quality 50); patch — side in pixels of a black square.
STRENGTH_RANGES: dict[str, tuple[float, float]] = {
    "brightness": (0.0, 1.0),
    "contrast": (0.0, 4.0),
    "blur": (0.0, 10.0),
    "noise": (0.0, 1.0),
    "salt_pepper": (0.0, 1.0),
    "jpeg": (0.0, 20.0),
    "patch": (0.0, math.inf),  # up to the image's short side, checked per call
}

#: The JPEG standard's example luminance quantisation table (ITU-T T.81, Annex K, Table K.1),
#: in 8-bit grey levels; it is the table of JPEG quality 50.
JPEG_LUMINANCE_TABLE: tuple[tuple[int, ...], ...] = (
    (16, 11, 10, 16, 24, 40, 51, 61),
    (12, 12, 14, 19, 26, 58, 60, 55),
    (14, 13, 16, 24, 40, 57, 69, 56),
    (14, 17, 22, 29, 51, 87, 80, 62),
    (18, 22, 37, 56, 68, 109, 103, 77),
    (24, 35, 55, 64, 81, 104, 113, 92),
    (49, 64, 78, 87, 103, 121, 120, 101),
    (72, 92, 95, 98, 112, 100, 103, 99),
)
_BLOCK = 8


class MSEMatch(NamedTuple):
    """What :func:`match_mse` returns: the strength found, the MSE it gives (the mean over the
    batch), and the distorted images."""

    strength: float
    mse: float
    images: torch.Tensor


# ------------------------------------------------------------------------------- validation
def _check_kind(kind) -> str:
    if not isinstance(kind, str):
        raise TypeError(f"kind: expected one of {DISTORTIONS}, got {type(kind).__name__}")
    return check_choice(kind, "kind", DISTORTIONS)


def _largest(kind: str, images: torch.Tensor) -> float:
    top = STRENGTH_RANGES[kind][1]
    return float(min(images.shape[-2:])) if math.isinf(top) else top


def _check_strength(kind: str, strength, images: torch.Tensor) -> float:
    if isinstance(strength, bool) or not isinstance(strength, Real):
        raise TypeError(f"strength: expected a number, got {type(strength).__name__}")
    value = float(strength)
    top = _largest(kind, images)
    if not (math.isfinite(value) and 0.0 <= value <= top):
        raise ValueError(f"strength: {kind!r} takes a strength in [0, {top:g}], got {value!r}")
    return value


def _check_centre(centre) -> tuple[float, float]:
    try:
        cy, cx = (float(v) for v in centre)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"centre: expected (row, column) as fractions of the image size, got {centre!r}"
        ) from exc
    if not (0.0 <= cy <= 1.0 and 0.0 <= cx <= 1.0):
        raise ValueError(f"centre: fractions must lie in [0, 1], got {centre!r}")
    return cy, cx


# ----------------------------------------------------------------------------- distortions
def distort(
    images: torch.Tensor,
    kind: str,
    strength: float,
    *,
    seed: int = 0,
    centre: tuple[float, float] = (0.5, 0.5),
) -> torch.Tensor:
    """Distort a batch of images by one of :data:`DISTORTIONS` at ``strength``.

    ``images`` is a float N×C×H×W batch in [0, 1] (C = 1 or 3); the result has the same shape,
    dtype and device and lies in [0, 1] (values are clipped). With x an image and s the strength:

    - ``"brightness"``: clip(x + s) — a mean shift of the whole image.
    - ``"contrast"``: clip(m + (1 + s)(x − m)), m the mean of each image channel — a contrast
      stretch about the mean.
    - ``"blur"``: a Gaussian blur with σ = s pixels (:func:`lib.bench.degrade`'s ``"blur"``).
    - ``"noise"``: clip(x + s·ε), ε ~ N(0, 1) per pixel (:func:`lib.bench.degrade`'s).
    - ``"salt_pepper"``: a fraction s of the pixels set to 0 or 1 (:func:`lib.bench.degrade`'s).
    - ``"jpeg"``: JPEG-like compression of each channel: 8×8 blocks (the image padded by
      repeating its last row and column to a multiple of 8), the orthonormal 2-D DCT-II of each
      block, coefficients rounded to multiples of s·Q/255 (Q = :data:`JPEG_LUMINANCE_TABLE`;
      s = 1 is JPEG's quality 50), and the inverse DCT. No colour conversion or chroma
      subsampling, so it is "JPEG-like": the blocking and ringing of JPEG, not its file.
    - ``"patch"``: a black square of side s pixels centred at ``centre`` (row, column as
      fractions of the image's height and width): y = (1 − m)·x with m the fraction of each
      pixel the square covers, so a fractional side gives soft edges and the damage grows
      continuously with s. A large change in one place; the rest of the image is untouched.

    ``seed`` drives the random draws of ``"noise"`` and ``"salt_pepper"`` (a CPU
    ``torch.Generator``, so the same seed gives the same images on every device); the other kinds
    are deterministic. Half-precision images are processed in float32.
    """
    kind = _check_kind(kind)
    x = check_images(images, "images")
    s = _check_strength(kind, strength, x)
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise TypeError(f"seed: expected an integer, got {type(seed).__name__}")
    cy, cx = _check_centre(centre)
    if s == 0.0:
        return x.clone()
    if kind in ("blur", "noise", "salt_pepper"):
        return bench.degrade(x, kind, strength=s, seed=int(seed))
    work = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    if kind == "brightness":
        out = work + s
    elif kind == "contrast":
        mean = work.mean(dim=(-2, -1), keepdim=True)
        out = mean + (1.0 + s) * (work - mean)
    elif kind == "jpeg":
        out = _jpeg(work, s)
    else:
        out = work * (1.0 - _square_mask(work, s, cy, cx))
    return out.clamp(0.0, 1.0).to(x.dtype)


def _dct_matrix(dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """The orthonormal 8-point DCT-II: D[k, i] = a_k cos(π (2i + 1) k / 16), a_0 = √(1/8),
    a_k = √(2/8); D Dᵀ = I, so a block B transforms as D B Dᵀ and back as Dᵀ C D."""
    k = torch.arange(_BLOCK, dtype=torch.float64)[:, None]
    i = torch.arange(_BLOCK, dtype=torch.float64)[None, :]
    d = torch.cos(math.pi * (2 * i + 1) * k / (2 * _BLOCK)) * math.sqrt(2 / _BLOCK)
    d[0] /= math.sqrt(2)
    return d.to(dtype=dtype, device=device)


def _jpeg(x: torch.Tensor, s: float) -> torch.Tensor:
    n, c, h, w = x.shape
    ph, pw = -h % _BLOCK, -w % _BLOCK
    xp = F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x
    bh, bw = xp.shape[-2] // _BLOCK, xp.shape[-1] // _BLOCK
    blocks = xp.reshape(n, c, bh, _BLOCK, bw, _BLOCK).transpose(3, 4)  # n c bh bw 8 8
    d = _dct_matrix(x.dtype, x.device)
    step = torch.tensor(JPEG_LUMINANCE_TABLE, dtype=x.dtype, device=x.device) * (s / 255.0)
    coef = d @ blocks @ d.T
    coef = torch.round(coef / step) * step
    back = (d.T @ coef @ d).transpose(3, 4).reshape(n, c, bh * _BLOCK, bw * _BLOCK)
    return back[..., :h, :w]


def _coverage(size: int, centre: float, side: float, like: torch.Tensor) -> torch.Tensor:
    """How much of each pixel [i, i + 1) the interval [centre − side/2, centre + side/2] covers."""
    i = torch.arange(size, dtype=torch.float64)
    lo, hi = centre - side / 2, centre + side / 2
    cover = torch.minimum(i + 1, torch.tensor(hi)) - torch.maximum(i, torch.tensor(lo))
    return cover.clamp(0.0, 1.0).to(dtype=like.dtype, device=like.device)


def _square_mask(x: torch.Tensor, side: float, cy: float, cx: float) -> torch.Tensor:
    h, w = x.shape[-2:]
    rows = _coverage(h, cy * h, side, x)
    cols = _coverage(w, cx * w, side, x)
    return rows[:, None] * cols[None, :]


# ------------------------------------------------------------------------------ matching MSE
def mse(x: torch.Tensor, y: torch.Tensor, *, reduction: str = "none") -> torch.Tensor:
    """Mean squared error per image, MSE = (1 / CHW) Σ_{c,h,w} (x − y)², computed in float64.

    ``x`` and ``y`` are float N×C×H×W batches in [0, 1] of the same shape. Returns one value per
    image (``reduction="none"``, shape N) or their mean (``"mean"``, a 0-D tensor). On 8-bit
    grey levels the same images have MSE × 255².
    """
    check_choice(reduction, "reduction", ("none", "mean"))
    x = check_images(x, "x")
    y = check_images(y, "y")
    if x.shape != y.shape:
        raise ValueError(
            f"x, y: must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    if x.device != y.device:
        raise ValueError(f"x is on {x.device} and y on {y.device}; move both to one device")
    err = (x.double() - y.double()).pow(2).flatten(1).mean(1)
    return err.mean() if reduction == "mean" else err


def match_mse(
    images: torch.Tensor,
    kind: str,
    target: float,
    *,
    seed: int = 0,
    centre: tuple[float, float] = (0.5, 0.5),
    rtol: float = 1e-3,
    max_iter: int = 60,
) -> MSEMatch:
    """The strength at which ``distort(images, kind, s)`` has mean squared error ``target``.

    One strength for the whole batch, chosen so that the batch's mean MSE (:func:`mse`) equals
    ``target``. The MSE grows with the strength, so bisection on [0, largest strength] finds it:
    keep lo, hi with MSE(lo) < target ≤ MSE(hi) and halve the interval until
    |MSE(s) − target| ≤ rtol · target (or ``max_iter`` halvings). Where the MSE jumps (``"jpeg"``
    rounds coefficients, ``"salt_pepper"`` hits whole pixels) the exact target may not be
    reachable; the end of the final interval closer to it is returned, with the MSE it has.

    Args:
        images: float N×C×H×W in [0, 1].
        kind: one of :data:`DISTORTIONS`.
        target: the MSE to reach, on [0, 1] images (8-bit MSE / 255²), > 0.
        seed, centre: as in :func:`distort` (the noise is drawn once, so the MSE is monotone).
        rtol: relative tolerance on the MSE.
        max_iter: most bisection steps.

    Raises ``ValueError`` when even the largest strength stays below ``target``.
    """
    kind = _check_kind(kind)
    x = check_images(images, "images")
    if isinstance(target, bool) or not isinstance(target, Real):
        raise TypeError(f"target: expected a number, got {type(target).__name__}")
    target = float(target)
    if not (math.isfinite(target) and target > 0.0):
        raise ValueError(f"target: the MSE to reach must be positive and finite, got {target!r}")
    if isinstance(rtol, bool) or not isinstance(rtol, Real) or not 0.0 < float(rtol) < 1.0:
        raise ValueError(f"rtol: expected a number in (0, 1), got {rtol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, Integral) or max_iter < 1:
        raise ValueError(f"max_iter: expected a positive integer, got {max_iter!r}")

    def run(s: float) -> tuple[float, torch.Tensor]:
        out = distort(x, kind, s, seed=seed, centre=centre)
        return float(mse(x, out, reduction="mean")), out

    hi = _largest(kind, x)
    hi_mse, hi_out = run(hi)
    if hi_mse < target:
        raise ValueError(
            f"target: {kind!r} reaches at most MSE {hi_mse:.4g} on these images (at strength "
            f"{hi:g}), below the target {target:.4g}; choose a smaller target"
        )
    lo, lo_mse, lo_out = 0.0, 0.0, x.clone()
    for _ in range(int(max_iter)):
        if abs(hi_mse - target) <= rtol * target:
            break
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):  # the interval cannot shrink any further
            break
        mid_mse, mid_out = run(mid)
        if mid_mse < target:
            lo, lo_mse, lo_out = mid, mid_mse, mid_out
        else:
            hi, hi_mse, hi_out = mid, mid_mse, mid_out
    if abs(lo_mse - target) < abs(hi_mse - target):
        return MSEMatch(lo, lo_mse, lo_out)
    return MSEMatch(hi, hi_mse, hi_out)
