"""The marks of a cartoon in numbers (CartoonGAN, Chen, Lai & Liu, CVPR 2018, §1 and §3).

A cartoon has clear edges, flat colours and little texture. Four statistics measure these marks,
so cartoons (:func:`lib.datasets.cartoons`), photos and generated images can be compared:

* :func:`gradient_magnitude`: |∇Y| per pixel, the building block of the two below;
* :func:`texture_energy`: the mean gradient magnitude away from edges (≈ 0 for flat regions);
* :func:`edge_sharpness`: the peak gradient magnitude at edge pixels (lower once blurred);
* :func:`colour_count`: the number of colours that cover a visible share of the image.

:func:`boundary_f_score` asks the opposite question of a translated image: are its edges still
where the scene's regions meet (:func:`lib.datasets.cartoon.scene_layouts`)?

Two more tell whether a photo → cartoon translator is healthy: :func:`checkerboard_score` (the
spectral mark of stride-2 transposed convolutions) and :func:`output_diversity` (mode collapse).

Edges and edge bands are OpenCV's Canny and dilation (:func:`lib.datasets.cartoon.canny`,
:func:`lib.datasets.cartoon.edge_band`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from lib._checks import LUMA, ArrayLike, check_images, check_positive_int
from lib.datasets.base import ImageSet
from lib.datasets.cartoon import canny, edge_band

# BT.601 luma. torchvision's rgb_to_grayscale rounds the red weight to 0.2989, which would change
# every published number by up to 1e-4 of the red channel, so the weights are written out.


def _as_images(images: ArrayLike | ImageSet, name: str = "images") -> torch.Tensor:
    if isinstance(images, ImageSet):
        images = images.images
    return check_images(images, name, channels=(1, 3), min_size=3)


def _sobel(grey: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """3×3 Sobel derivatives (x to the right, y down) with replicated borders, as cv2.Sobel:
    gx = [1, 2, 1]ᵀ ⊗ [−1, 0, 1], gy its transpose, computed separably from shifted slices.

    Kept in torch rather than calling cv2.Sobel: it works on float luma (no 8-bit rounding) for
    the whole batch at once, on the device of the images being measured (generated images are
    measured where the generator ran)."""
    p = F.pad(grey, (1, 1, 1, 1), mode="replicate")
    dx = p[..., :, 2:] - p[..., :, :-2]
    gx = dx[..., :-2, :] + 2 * dx[..., 1:-1, :] + dx[..., 2:, :]
    sy = p[..., :, :-2] + 2 * p[..., :, 1:-1] + p[..., :, 2:]
    return gx, sy[..., 2:, :] - sy[..., :-2, :]


def gradient_magnitude(images: ArrayLike | ImageSet) -> torch.Tensor:
    """|∇Y| per pixel (N×1×H×W) of the luma Y = 0.299 R + 0.587 G + 0.114 B: the 3×3 Sobel
    derivatives divided by 8, so a ramp rising by g per pixel has magnitude g, with replicated
    borders."""
    return _gradient_magnitude(_as_images(images))


def _gradient_magnitude(x: torch.Tensor) -> torch.Tensor:
    if x.shape[1] == 3:
        weights = torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        grey = (x * weights).sum(1, keepdim=True)
    else:
        grey = x
    gx, gy = _sobel(grey)
    return torch.sqrt(gx**2 + gy**2) / 8


def _mask_for(x: torch.Tensor, mask: object, name: str) -> torch.Tensor:
    if mask is None:
        return edge_band(x)
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        raise TypeError(
            f"{name}: expected a bool tensor (e.g. from edge_band or canny), got {mask!r:.60}"
        )
    if mask.shape != (x.shape[0], 1, *x.shape[-2:]):
        raise ValueError(
            f"{name}: expected shape {(x.shape[0], 1, *x.shape[-2:])} to match the images, got "
            f"{tuple(mask.shape)}"
        )
    return mask.to(x.device)


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per image mean of ``values`` over ``mask`` (NaN where the mask is empty)."""
    total = (values * mask).flatten(1).sum(1)
    count = mask.flatten(1).sum(1)
    return total / count


def texture_energy(images: ArrayLike | ImageSet, band: torch.Tensor | None = None) -> torch.Tensor:
    """Per image, the mean gradient magnitude (:func:`gradient_magnitude`) *away from edges*:
    over the pixels outside ``band`` (default: the image's own dilated Canny band,
    :func:`lib.datasets.cartoon.edge_band`). Flat cel-shaded regions give ~0; photos' texture
    does not. NaN for an image whose band covers everything."""
    x = _as_images(images)
    return _masked_mean(_gradient_magnitude(x), ~_mask_for(x, band, "band"))


def edge_sharpness(images: ArrayLike | ImageSet, edges: torch.Tensor | None = None) -> torch.Tensor:
    """Per image, the mean over edge pixels of the largest gradient magnitude within one pixel
    (3×3 maximum of :func:`gradient_magnitude`): a clear edge jumps within a pixel, a blurred one
    spreads the same jump over several, so its peak gradient is lower. ``edges`` (N×1×H×W bool)
    defaults to the image's own Canny edges; pass the *original* image's edges to compare an
    image with its smoothed or generated version on the same pixels. NaN where there are none."""
    x = _as_images(images)
    mask = canny(x) if edges is None else _mask_for(x, edges, "edges")
    peak = F.max_pool2d(_gradient_magnitude(x), 3, stride=1, padding=1)
    return _masked_mean(peak, mask)


def colour_count(
    images: ArrayLike | ImageSet, *, levels: int = 32, min_share: float = 0.002
) -> torch.Tensor:
    """Per image, the number of distinct colours after quantising each channel to ``levels``
    levels, counting only colours that cover at least ``min_share`` of the pixels (so the
    anti-aliased pixels along outlines do not count). A flat cartoon has a handful of colours."""
    x = _as_images(images)
    check_positive_int(levels, "levels", minimum=2)
    if not (isinstance(min_share, int | float) and 0 <= min_share < 1):
        raise ValueError(f"min_share: expected a fraction in [0, 1), got {min_share!r}")
    n, c, h, w = x.shape
    q = (x * levels).long().clamp_(max=levels - 1)
    code = torch.arange(n, device=x.device)[:, None].expand(n, h * w)
    for k in range(c):
        code = code * levels + q[:, k].reshape(n, -1)
    colours, counts = torch.unique(code, return_counts=True)  # (image, colour) pairs
    common = colours[counts >= max(1, math.ceil(min_share * h * w))] // levels**c
    return torch.bincount(common, minlength=n)


def _layout_boundaries(layouts: torch.Tensor) -> torch.Tensor:
    """Pixels whose region number differs from their right or lower neighbour (one pixel on
    one side of every boundary, so a boundary is counted once)."""
    edge = torch.zeros_like(layouts, dtype=torch.bool)
    edge[..., :, :-1] |= layouts[..., :, :-1] != layouts[..., :, 1:]
    edge[..., :-1, :] |= layouts[..., :-1, :] != layouts[..., 1:, :]
    return edge


def boundary_f_score(
    images: ArrayLike | ImageSet, layouts: torch.Tensor, *, tolerance: int = 1
) -> torch.Tensor:
    """Per image, how well its Canny edges (:func:`lib.datasets.cartoon.canny`) trace the
    boundaries of a known layout (N×1×H×W integer region numbers, e.g.
    :func:`lib.datasets.cartoon.scene_layouts`): the F-score of the boundary benchmark (Martin,
    Fowlkes & Malik, PAMI 2004) with a square tolerance of ``tolerance`` pixels,

        P = share of edge pixels within the tolerance of a boundary,
        R = share of boundary pixels within the tolerance of an edge,   F = 2PR / (P + R),

    so 1 means every edge lies on a boundary and every boundary has an edge. Region boundaries
    are the pixels whose number differs from the right or lower neighbour. F is 0 for an image
    without edges and NaN for a layout without boundaries. Compare an image with the cartoon
    of the same scene rather than with 1: shading bands and outlines' two sides add edges that
    are not region boundaries."""
    x = _as_images(images)
    if not isinstance(layouts, torch.Tensor) or layouts.is_floating_point():
        raise TypeError("layouts: expected an integer tensor of region numbers (scene_layouts)")
    if layouts.shape != (x.shape[0], 1, *x.shape[-2:]):
        raise ValueError(
            f"layouts: expected shape {(x.shape[0], 1, *x.shape[-2:])} to match the images, got "
            f"{tuple(layouts.shape)}"
        )
    tolerance = check_positive_int(tolerance, "tolerance", minimum=0)
    edges = canny(x).float()
    bounds = _layout_boundaries(layouts.to(x.device)).float()
    k = 2 * tolerance + 1
    near_bounds = F.max_pool2d(bounds, k, stride=1, padding=tolerance)
    near_edges = F.max_pool2d(edges, k, stride=1, padding=tolerance)
    n_edges, n_bounds = edges.flatten(1).sum(1), bounds.flatten(1).sum(1)
    precision = (edges * near_bounds).flatten(1).sum(1) / n_edges.clamp(min=1)
    recall = (bounds * near_edges).flatten(1).sum(1) / n_bounds
    f = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    return torch.where(n_bounds > 0, f, torch.full_like(f, float("nan")))


# ----------------------------------------------------------- the health of a translator
def checkerboard_score(images: ArrayLike) -> torch.Tensor:
    """Per image, the share of the (mean-removed) spectral power at the frequencies where a
    stride-2 transposed convolution leaves its checkerboard: the lattice of multiples of 1/4
    cycle per pixel (periods 2 and 4 px) in x and y, except zero,

        score = Σ_{(u,v) ∈ K} |X(u, v)|² / Σ_{(u,v) ≠ 0} |X(u, v)|²,  X = FFT of the luma,
        K = {0, H/4, H/2, 3H/4} × {0, W/4, W/2, 3W/4} \\ {(0, 0)}.

    Photos and smooth images put little power there (15 of H·W frequencies); a generator with
    checkerboard artifacts puts much more there than its input has. H and W must be multiples
    of 4."""
    x = check_images(images, "images", channels=(1, 3), min_size=4)
    h, w = x.shape[-2:]
    if h % 4 or w % 4:
        raise ValueError(f"images: H and W must be multiples of 4, got {h}×{w}")
    if x.shape[1] == 3:
        x = (x * torch.tensor(LUMA, device=x.device).view(1, 3, 1, 1)).sum(1)
    else:
        x = x[:, 0]
    x = x.double()
    power = torch.fft.fft2(x - x.mean((-2, -1), keepdim=True)).abs().square()
    mask = torch.zeros(h, w, dtype=torch.bool, device=x.device)
    mask[:: h // 4, :: w // 4] = True
    mask[0, 0] = False
    total = power.flatten(1).sum(1)
    return (power[:, mask].sum(1) / total.clamp(min=1e-12)).float()


def output_diversity(outputs: ArrayLike, inputs: ArrayLike) -> torch.Tensor:
    """How much of the inputs' variety survives: the mean pairwise L1 distance between the
    outputs divided by the same for the inputs (a 0-d tensor). ≈1: outputs differ as much as
    their photos; ≪1: mode collapse (every photo gives nearly the same picture)."""
    y = check_images(outputs, "outputs", channels=(3,))
    x = check_images(inputs, "inputs", channels=(3,))
    if x.shape != y.shape or x.shape[0] < 2:
        raise ValueError(
            f"outputs, inputs: expected two batches of one shape with at least 2 images, got "
            f"{tuple(y.shape)} and {tuple(x.shape)}"
        )

    def spread(z):
        flat = z.flatten(1)
        return torch.cdist(flat, flat, p=1).sum() / (flat.shape[0] * (flat.shape[0] - 1))

    return spread(y) / spread(x).clamp(min=1e-12)
