"""Wasserstein distances by sorting: 1-D, sliced, and the Progressive GAN image SWD.

- :func:`wasserstein_1d` — the exact p-Wasserstein distance between two 1-D samples (columns
  batched), from their quantile functions.
- :func:`sliced_wasserstein` — the Monte-Carlo sliced Wasserstein distance between two point
  clouds (Bonneel et al. 2015), defined and normalised exactly as POT's
  ``ot.sliced_wasserstein_distance``.
- :func:`laplacian_pyramid`, :func:`reconstruct_laplacian_pyramid` and :func:`swd` — the
  multi-scale patch SWD of Karras et al. 2018 (Progressive GAN, appendix D).

Everything runs on the device of its inputs and draws its random numbers (directions, patch
positions) from a ``torch.Generator`` seeded with ``seed`` on the CPU, so results are the same
for the same seed on any device and any ``batch_size``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from lib._checks import (
    ArrayLike,
    as_real_float,
    as_tensor,
    check_finite,
    check_images,
    check_positive_int,
    check_seed,
    renamed_arguments,
)

__all__ = [
    "wasserstein_1d",
    "random_projections",
    "sliced_wasserstein",
    "laplacian_pyramid",
    "reconstruct_laplacian_pyramid",
    "SWDResult",
    "swd",
]

# Elements of one projected block (points × directions) kept in memory at a time.
_BLOCK_ELEMENTS = 1 << 25

# The 5-tap binomial filter; its outer product is the 5×5 kernel [1,4,6,4,1]ᵀ[1,4,6,4,1] / 256.
_BINOMIAL = (1.0, 4.0, 6.0, 4.0, 1.0)


# --------------------------------------------------------------------------------------------
# 1-D and sliced Wasserstein


@renamed_arguments(u="real", v="fake")
def wasserstein_1d(real: ArrayLike, fake: ArrayLike, p: float = 1) -> torch.Tensor:
    r"""Exact p-Wasserstein distance between two 1-D empirical distributions (uniform weights).

    W_p(u, v) = (∫₀¹ |F_u⁻¹(q) − F_v⁻¹(q)|^p dq)^{1/p}, with u the samples of ``real``, v those
    of ``fake`` (the distance is symmetric) and F⁻¹ the quantile functions. For
    samples of equal size n this is the mean over sorted values,
    W_p = ((1/n) Σ_i |u_(i) − v_(i)|^p)^{1/p}; for p = 1 the mean absolute difference of the
    sorted samples (Peyré & Cuturi 2019, Computational Optimal Transport, §2.6).

    Unequal sizes n ≠ m are handled exactly: the quantile functions are step functions with
    jumps at i/n and j/m, so the integral is a finite sum over the merged breakpoints (computed
    with integer arithmetic, no rounding of the breakpoints).

    Args:
        real: samples, shape (n,) or (n, k) for k independent columns.
        fake: samples, shape (m,) or (m, k) (same k).
        p: the order, p ≥ 1.

    Returns:
        W_p, a 0-D tensor for 1-D input or shape (k,) for columns. Equals
        ``scipy.stats.wasserstein_distance(real, fake)`` for p = 1.
    """
    u = as_real_float(real, "real")
    v = as_real_float(fake, "fake")
    p = _check_p(p)
    if u.ndim not in (1, 2) or v.ndim not in (1, 2) or u.ndim != v.ndim:
        raise ValueError(
            f"wasserstein_1d: real and fake must both be 1-D (n,) or both 2-D (n, k), got shapes "
            f"{tuple(u.shape)} and {tuple(v.shape)}"
        )
    if u.ndim == 2 and u.shape[1] != v.shape[1]:
        raise ValueError(
            f"wasserstein_1d: real and fake must have the same number of columns, got {u.shape[1]} "
            f"and {v.shape[1]}"
        )
    u, v = _same_device_dtype(u, v, "real", "fake")
    for t, name in ((u, "real"), (v, "fake")):
        if t.shape[0] == 0:
            raise ValueError(f"wasserstein_1d: {name} is empty")
    cost = _wpp_sorted(u.movedim(0, -1).sort().values, v.movedim(0, -1).sort().values, p)
    return cost if p == 1 else cost ** (1.0 / p)


def random_projections(
    dim: int,
    n_projections: int,
    seed: int = 0,
    *,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """``n_projections`` random directions, uniform on the unit sphere of R^dim, as columns.

    Gaussian vectors normalised to unit length (Muller 1959), drawn in float64 on the CPU from
    ``torch.Generator().manual_seed(seed)``, so the same seed gives the same directions on every
    device. Shape (dim, n_projections), the layout of POT's ``projections`` argument.
    """
    check_positive_int(dim, "dim")
    check_positive_int(n_projections, "n_projections")
    gen = torch.Generator().manual_seed(check_seed(seed))
    return _directions(dim, n_projections, gen).to(dtype=dtype, device=device)


@renamed_arguments(x="real", y="fake")
def sliced_wasserstein(
    real: ArrayLike,
    fake: ArrayLike,
    n_projections: int = 128,
    p: float = 1,
    seed: int = 0,
    projections: ArrayLike | None = None,
) -> torch.Tensor:
    r"""Monte-Carlo sliced p-Wasserstein distance (Rabin et al. 2011; Bonneel et al. 2015).

    SW_p(X, Y) = ( (1/L) Σ_{l=1..L} W_p^p(⟨θ_l, X⟩, ⟨θ_l, Y⟩) )^{1/p}

    with X the points of ``real``, Y those of ``fake`` (the distance is symmetric), θ_l random
    unit directions, ⟨θ, X⟩ the 1-D projections of the points and W_p the exact
    1-D distance of :func:`wasserstein_1d`. This is POT's ``ot.sliced_wasserstein_distance``
    definition and normalisation: given the same ``projections`` matrix the two agree to
    rounding. For p = 1 it is the mean over directions of the 1-D W1, the quantity Progressive
    GAN's SWD reports.

    Args:
        real: points, shape (n, d); fake: points, shape (m, d). n ≠ m is allowed (exact
            quantile coupling, as in POT).
        n_projections: number of random directions L (ignored when ``projections`` is given).
        p: the order, p ≥ 1 (1 by default, as in Progressive GAN; POT's default is 2).
        seed: seed of the directions (see :func:`random_projections`).
        projections: optional (d, L) matrix whose columns are the directions (used as given).

    Returns:
        A 0-D tensor on the device of the points, in float64 when either input is float64, else
        float32.
    """
    x = as_real_float(real, "real")
    y = as_real_float(fake, "fake")
    p = _check_p(p)
    for t, name in ((x, "real"), (y, "fake")):
        if t.ndim != 2:
            raise ValueError(
                f"sliced_wasserstein: {name} must be a 2-D (points, dim) array, got shape "
                f"{tuple(t.shape)}"
            )
        if t.shape[0] == 0:
            raise ValueError(f"sliced_wasserstein: {name} has no points")
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"sliced_wasserstein: real and fake must have the same dimension, got {x.shape[1]} and "
            f"{y.shape[1]}"
        )
    x, y = _same_device_dtype(x, y, "real", "fake")
    dim = x.shape[1]
    if projections is None:
        check_positive_int(n_projections, "n_projections")
        gen = torch.Generator().manual_seed(check_seed(seed))
        theta = _directions(dim, n_projections, gen)
    else:
        theta = as_real_float(projections, "projections")
        if theta.ndim != 2 or theta.shape[0] != dim or theta.shape[1] == 0:
            raise ValueError(
                f"projections: expected a ({dim}, n_projections) matrix with directions as "
                f"columns, got shape {tuple(theta.shape)}"
            )
    theta = theta.to(dtype=x.dtype, device=x.device)
    return _sliced_pow(x, y, theta, p) ** (1.0 / p)


# --------------------------------------------------------------------------------------------
# Laplacian pyramid and the Progressive GAN SWD


def laplacian_pyramid(images: ArrayLike, min_size: int = 16) -> list[torch.Tensor]:
    """Laplacian pyramid (Burt & Adelson 1983) with the 5×5 binomial kernel and mirror borders.

    G_0 = image, G_{l+1} = down(G_l) = (K ∗ G_l)[::2, ::2] with K = [1,4,6,4,1]ᵀ[1,4,6,4,1] / 256
    and reflect ("mirror", edge not repeated) borders; the band-pass levels are
    L_l = G_l − up(G_{l+1}), where up() puts the samples on the even pixels of a zero image of
    G_l's size and filters with 4K. The last level is the low-pass residual G_{L−1}. This is
    Progressive GAN's pyramid (it matches OpenCV's pyrDown / pyrUp).

    The number of levels follows Progressive GAN: one per resolution s, s/2, s/4, … that is at
    least ``min_size``, s = min(H, W) (5 levels for 256² images and ``min_size=16``; at least
    one).

    Args:
        images: N×C×H×W float tensor (any values; uint8 is converted to float32 without scaling).
        min_size: the smallest resolution kept, ≥ 4.

    Returns:
        The levels, finest first; ``reconstruct_laplacian_pyramid`` inverts it exactly (up to
        rounding).
    """
    x = as_tensor(images, "images")
    if x.ndim != 4:
        raise ValueError(f"images: expected a 4-D N×C×H×W tensor, got shape {tuple(x.shape)}")
    check_positive_int(min_size, "min_size", minimum=4)
    x = x.float() if not x.is_floating_point() else x
    check_finite(x, "images")
    return _pyramid(x, _n_levels(min(x.shape[-2:]), min_size))


def reconstruct_laplacian_pyramid(pyramid: list[torch.Tensor]) -> torch.Tensor:
    """Invert :func:`laplacian_pyramid`: G_l = L_l + up(G_{l+1}), from the coarsest level up."""
    if not pyramid:
        raise ValueError("pyramid: needs at least one level")
    image = pyramid[-1]
    for level in reversed(pyramid[:-1]):
        image = level + _pyr_up(image, level.shape[-2:])
    return image


class SWDResult(NamedTuple):
    """The multi-scale SWD of :func:`swd`.

    ``per_level`` holds the SWD ×10³ of each pyramid level, finest first, at the resolutions in
    ``resolutions``; ``mean`` is their average (Progressive GAN's "SWD avg").
    """

    per_level: tuple[float, ...]
    resolutions: tuple[int, ...]
    mean: float

    def as_dict(self) -> dict[str, float]:
        """``{"swd_<res>": value, …, "swd_mean": mean}``, finest level first (named by
        resolution, unlike ``_asdict()``, which names the fields)."""
        out = {f"swd_{r}": v for r, v in zip(self.resolutions, self.per_level, strict=True)}
        out["swd_mean"] = self.mean
        return out


@renamed_arguments(images_a="real", images_b="fake")
def swd(
    real: ArrayLike,
    fake: ArrayLike,
    *,
    n_patches: int = 128,
    patch_size: int = 7,
    n_repeats: int = 4,
    n_projections: int = 128,
    seed: int = 0,
    min_size: int = 16,
    batch_size: int = 64,
) -> SWDResult:
    r"""Multi-scale sliced Wasserstein distance between two image sets (Karras et al. 2018, app. D).

    The Progressive GAN protocol:

    1. Laplacian pyramid of every image (:func:`laplacian_pyramid`, levels down to ``min_size``).
    2. At every level, ``n_patches`` random ``patch_size``² neighbourhoods per image (centres
       drawn uniformly among the positions where the patch fits), flattened to C·patch_size²
       descriptors (147-D for 7×7 RGB).
    3. Each set's descriptors at a level are normalised per colour channel by their own mean and
       (population) standard deviation.
    4. SWD_level = mean over ``n_repeats`` × ``n_projections`` random unit directions θ of
       W1(⟨θ, A⟩, ⟨θ, B⟩) — project, sort, mean |Δ| (:func:`sliced_wasserstein` with p = 1).
    5. Reported ×10³ per level, and the mean over levels.

    Each set draws its patch positions from its own generator seeded with ``seed``, so sets of
    the same size are sampled at the same positions (Progressive GAN drew them independently;
    sharing them only removes sampling noise). Hence identical sets give exactly 0, and a
    per-channel positive affine change of one set, a·x + b with a > 0, gives 0 up to rounding
    (the normalisation removes it). The directions of each level come from another generator
    seeded with ``seed``. Sets of different sizes are compared through their quantile functions
    (see :func:`sliced_wasserstein`). The published protocol uses 16,384 images per set at full
    resolution.

    Args:
        real, fake: N×C×H×W batches (C = 1 or 3; the sets may differ in N but not in
            C, H, W); float in [0, 1] or uint8 (converted with /255 — the normalisation makes the
            scale irrelevant).
        n_patches: patches per image per level (128).
        patch_size: odd patch side (7).
        n_repeats, n_projections: direction repeats and directions per repeat (4 × 128).
        seed: seed of patch positions and directions.
        min_size: the coarsest pyramid resolution (16).
        batch_size: images per pyramid batch; only bounds memory, results do not depend on it.

    Returns:
        :class:`SWDResult` with ``per_level`` (×10³), ``resolutions`` and ``mean``.
    """
    a = check_images(real, "real", allow_uint8=True)
    b = check_images(fake, "fake", allow_uint8=True)
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(
            f"swd: real and fake must have the same C×H×W, got {tuple(a.shape[1:])} and "
            f"{tuple(b.shape[1:])}"
        )
    if a.device != b.device:
        raise ValueError(
            f"swd: real is on {a.device} and fake on {b.device}; move both to one device"
        )
    check_positive_int(n_patches, "n_patches")
    check_positive_int(patch_size, "patch_size")
    if patch_size % 2 == 0:
        raise ValueError(f"patch_size: must be odd (patches are centred), got {patch_size}")
    check_positive_int(n_repeats, "n_repeats")
    check_positive_int(n_projections, "n_projections")
    check_positive_int(min_size, "min_size", minimum=4)
    check_positive_int(batch_size, "batch_size")
    seed = check_seed(seed)
    side = min(a.shape[-2:])
    if side < min_size or min_size < patch_size:
        raise ValueError(
            f"swd: images are {a.shape[-2]}×{a.shape[-1]} pixels; the protocol needs the short "
            f"side ≥ min_size = {min_size} and min_size ≥ patch_size = {patch_size}; use larger "
            "images or a smaller min_size / patch_size"
        )
    n_levels = _n_levels(side, min_size)
    centres_a = _patch_centres(a.shape, n_levels, n_patches, patch_size, seed, a.device)
    centres_b = _patch_centres(b.shape, n_levels, n_patches, patch_size, seed, b.device)

    gen = torch.Generator().manual_seed(seed)
    per_level = []
    # Each set's current Gaussian level G_l (the images at level 0): the band of level l and
    # G_{l+1} come from it in one pass, so no level is blurred down from full resolution again.
    gauss_a, gauss_b = a, b
    for level in range(n_levels):
        last = level == n_levels - 1
        da, next_a = _level_descriptors(gauss_a, last, centres_a[level], patch_size, batch_size)
        db, next_b = _level_descriptors(gauss_b, last, centres_b[level], patch_size, batch_size)
        if next_a is not None and next_b is not None:  # both None after the last level
            gauss_a, gauss_b = next_a, next_b
        da, db = _same_device_dtype(da, db, "real", "fake")
        theta = _directions(da.shape[1], n_repeats * n_projections, gen)
        theta = theta.to(dtype=da.dtype, device=da.device)
        per_level.append(float(_sliced_pow(da, db, theta, 1.0)) * 1e3)
    resolutions = tuple(min(hw) for hw in _level_sizes((a.shape[-2], a.shape[-1]), n_levels))
    return SWDResult(tuple(per_level), resolutions, sum(per_level) / len(per_level))


# --------------------------------------------------------------------------------------------
# internals


def _wpp_sorted(us: torch.Tensor, vs: torch.Tensor, p: float) -> torch.Tensor:
    """∫ |F_u⁻¹ − F_v⁻¹|^p over [0, 1] for samples sorted along the last dim, per row."""
    n, m = us.shape[-1], vs.shape[-1]
    if n == m:
        diff = (us - vs).abs()
        return (diff if p == 1 else diff**p).mean(dim=-1)
    dev = us.device
    # Breakpoints i/n and j/m in units of 1/(n m): exact integers, merged and sorted.
    edges = (
        torch.cat([torch.arange(1, n + 1, device=dev) * m, torch.arange(1, m + 1, device=dev) * n])
        .sort()
        .values
    )
    widths = torch.diff(edges, prepend=edges.new_zeros(1)).to(us.dtype) / (n * m)
    # On (q_{k−1}, q_k] the quantile functions take the ceil(q_k n)-th and ceil(q_k m)-th values.
    iu = torch.div(edges + (m - 1), m, rounding_mode="floor") - 1
    iv = torch.div(edges + (n - 1), n, rounding_mode="floor") - 1
    diff = (us[..., iu] - vs[..., iv]).abs()
    diff = diff if p == 1 else diff**p
    return (diff * widths).sum(dim=-1)


def _sliced_pow(x: torch.Tensor, y: torch.Tensor, theta: torch.Tensor, p: float) -> torch.Tensor:
    """(1/L) Σ_l W_p^p along the L columns of theta, projecting in blocks to bound memory."""
    n_dirs = theta.shape[1]
    block = max(1, _BLOCK_ELEMENTS // (x.shape[0] + y.shape[0]))
    total = x.new_zeros(())
    for start in range(0, n_dirs, block):
        t = theta[:, start : start + block].T
        # directions × points, so the sort runs along contiguous memory
        px = (t @ x.T).sort(dim=-1).values
        py = (t @ y.T).sort(dim=-1).values
        total = total + _wpp_sorted(px, py, p).sum()
    return total / n_dirs


def _directions(dim: int, n: int, gen: torch.Generator) -> torch.Tensor:
    theta = torch.randn(dim, n, generator=gen, dtype=torch.float64)
    return theta / theta.norm(dim=0, keepdim=True)


def _binomial(dtype: torch.dtype, device: torch.device, scale: float) -> torch.Tensor:
    k = torch.tensor(_BINOMIAL, dtype=torch.float64) / 16.0 * scale
    return k.to(dtype=dtype, device=device)


def _blur(x: torch.Tensor, scale: float, stride: int = 1) -> torch.Tensor:
    """Separable 5×5 binomial filter (×scale², i.e. per axis ×scale) with reflect borders.

    One grouped (depthwise) convolution over all channels, channels-last on the CPU (several
    times faster there than filtering each channel as its own image). ``stride=2`` computes only
    the even rows and columns — the pixels ``_pyr_down`` keeps — with the same arithmetic.
    """
    c = x.shape[1]
    k = _binomial(x.dtype, x.device, scale)
    padded = F.pad(x, (2, 2, 2, 2), mode="reflect")
    if x.device.type == "cpu":
        padded = padded.contiguous(memory_format=torch.channels_last)
    out = F.conv2d(padded, k.view(1, 1, 5, 1).expand(c, 1, 5, 1), stride=(stride, 1), groups=c)
    out = F.conv2d(out, k.view(1, 1, 1, 5).expand(c, 1, 1, 5), stride=(1, stride), groups=c)
    return out.contiguous()


def _pyr_down(x: torch.Tensor) -> torch.Tensor:
    return _blur(x, 1.0, stride=2)


def _pyr_up(x: torch.Tensor, size) -> torch.Tensor:
    h, w = int(size[0]), int(size[1])
    up = x.new_zeros(*x.shape[:2], h, w)
    up[..., ::2, ::2] = x
    return _blur(up, 2.0)


def _pyramid(x: torch.Tensor, n_levels: int) -> list[torch.Tensor]:
    levels = [x]
    for _ in range(1, n_levels):
        coarse = _pyr_down(levels[-1])
        levels[-1] = levels[-1] - _pyr_up(coarse, levels[-1].shape[-2:])
        levels.append(coarse)
    return levels


def _n_levels(side: int, min_size: int) -> int:
    n, res = 0, side
    while res >= min_size:
        n += 1
        res //= 2
    return max(n, 1)


def _level_sizes(size: tuple[int, int], n_levels: int) -> list[tuple[int, int]]:
    """H×W of each pyramid level (down() keeps pixels 0, 2, 4, …: ceil halving)."""
    sizes = [(int(size[0]), int(size[1]))]
    for _ in range(1, n_levels):
        sizes.append(((sizes[-1][0] + 1) // 2, (sizes[-1][1] + 1) // 2))
    return sizes


def _patch_centres(
    shape, n_levels: int, n_patches: int, patch_size: int, seed: int, device: torch.device
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Patch centres (ys, xs), each N×n_patches, of every level, all drawn up front from one
    generator, so that neither batching nor the order of the levels can change them."""
    n, _, h, w = shape
    r = patch_size // 2
    gen = torch.Generator().manual_seed(seed)
    centres = []
    for lh, lw in _level_sizes((h, w), n_levels):
        ys = torch.randint(r, lh - r, (n, n_patches), generator=gen)
        xs = torch.randint(r, lw - r, (n, n_patches), generator=gen)
        centres.append((ys.to(device), xs.to(device)))
    return centres


def _level_descriptors(
    gauss: torch.Tensor,
    last: bool,
    centres: tuple[torch.Tensor, torch.Tensor],
    patch_size: int,
    batch_size: int,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Normalised (N·n_patches, C·patch_size²) patch descriptors of one set at one level, and
    the set's next Gaussian level (``None`` at the last level).

    ``gauss`` is the set's Gaussian level G_l (the images themselves at level 0; uint8 images
    are scaled by 1/255 batch by batch). The band-pass level is G_l − up(down(G_l)) (G_l itself
    at the last level) and down(G_l) is kept as G_{l+1}, so the pyramid is built once, level by
    level, holding one level's descriptors and one Gaussian level (a quarter of the input's
    pixels, or less) at a time; Progressive GAN's full protocol holds ~1.2 GB of float32
    descriptors per set and level.
    """
    n, c = gauss.shape[:2]
    device = gauss.device
    dtype = torch.float64 if gauss.dtype == torch.float64 else torch.float32
    ys_all, xs_all = centres
    n_patches = ys_all.shape[1]
    r = patch_size // 2
    offsets = torch.arange(-r, r + 1, device=device)
    parts, coarser = [], []
    for start in range(0, n, batch_size):
        batch = gauss[start : start + batch_size].to(dtype)
        if gauss.dtype == torch.uint8:
            batch = batch / 255.0
        if last:
            band = batch
        else:
            coarse = _pyr_down(batch)
            band = batch - _pyr_up(coarse, batch.shape[-2:])
            coarser.append(coarse)
        b = band.shape[0]
        ys = ys_all[start : start + b]
        xs = xs_all[start : start + b]
        img = torch.arange(b, device=device).view(b, 1, 1, 1)
        yy = (ys[:, :, None] + offsets).view(b, n_patches, patch_size, 1)
        xx = (xs[:, :, None] + offsets).view(b, n_patches, 1, patch_size)
        # (B, P, ps, ps, C) by advanced indexing on a channels-last view
        patches = band.permute(0, 2, 3, 1)[img, yy, xx]
        parts.append(patches.permute(0, 1, 4, 2, 3).reshape(b * n_patches, c, -1))
    desc = torch.cat(parts)  # (N·P, C, ps²)
    mean = desc.mean(dim=(0, 2), keepdim=True)
    std = desc.std(dim=(0, 2), keepdim=True, correction=0)
    # A channel that is constant over the whole set has nothing to normalise.
    std = torch.where(std > 0, std, torch.ones_like(std))
    return ((desc - mean) / std).reshape(desc.shape[0], -1), (None if last else torch.cat(coarser))


def _same_device_dtype(a: torch.Tensor, b: torch.Tensor, na: str, nb: str):
    if a.device != b.device:
        raise ValueError(f"{na} is on {a.device} and {nb} on {b.device}; move both to one device")
    dtype = torch.promote_types(a.dtype, b.dtype)
    return a.to(dtype), b.to(dtype)


def _check_p(p) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 1 <= p < float("inf"):
        raise ValueError(f"p: the order must be a finite number ≥ 1, got {p!r}")
    return float(p)
