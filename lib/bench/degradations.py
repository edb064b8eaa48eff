"""The sample bench: controlled "generators" that make image sets out of a real set.

A metric is only useful if it moves when the images get worse. Heusel et al. (2017, "GANs
Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium", §3 and Fig. 1)
showed this for FID by degrading real images step by step — Gaussian noise, Gaussian blur,
implanted black rectangles, swirl, salt-and-pepper noise and contamination with images of another
data set — and checking that FID grows with the strength of each. This module makes those
degradations (:func:`degrade`, five strengths each in :data:`LEVELS`) and the failure modes of a
generator that pixel-level degradations cannot show:

================================  ===========================================================
:func:`drop_modes`                only some classes are generated (mode dropping)
:func:`collapse_within_class`     every class is there, but as copies of a few images each
:func:`memorise`                  one training image per class, repeated (the IS blind spot)
:func:`bench_sets`                all of the above, named, for a report table
================================  ===========================================================

Everything is batched tensor code that runs on the device of the images; every random number is
drawn on the CPU from a ``torch.Generator`` seeded with ``seed`` and then moved, so the same seed
gives the same images on any device.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real

import torch
import torch.nn.functional as F

from lib._checks import LUMA, check_choice, check_images, check_positive_int, check_seed
from lib.datasets.base import ImageSet, check_image_set, proportional_counts
from lib.metrics.ssim import gaussian_window

__all__ = [
    "DEGRADATIONS",
    "LEVELS",
    "bench_set",
    "bench_set_names",
    "bench_sets",
    "collapse_within_class",
    "degradation_series",
    "degrade",
    "drop_modes",
    "memorise",
    "strength",
]

#: The pixel-level degradations of Heusel et al. (2017, Fig. 1), in the order of the figure.
DEGRADATIONS: tuple[str, ...] = ("noise", "blur", "swirl", "rectangles", "salt_pepper", "mix")

#: Five strengths per degradation: level 0 leaves the images unchanged, level 1 still looks
#: mostly fine, level 4 is clearly broken. Units: noise — σ of the added Gaussian noise (image
#: values are in [0, 1]); blur — σ of the Gaussian in pixels; swirl — the swirl strength (radians
#: of rotation at the centre); rectangles — black rectangles per image; salt_pepper — fraction of
#: pixels hit; mix — fraction of the images replaced by images of another data set.
LEVELS: dict[str, tuple[float, ...]] = {
    "noise": (0.0, 0.03, 0.06, 0.12, 0.25),
    "blur": (0.0, 0.5, 1.0, 1.5, 2.5),
    "swirl": (0.0, 2.0, 5.0, 10.0, 20.0),
    "rectangles": (0.0, 0.5, 1.0, 2.0, 3.0),
    "salt_pepper": (0.0, 0.003, 0.01, 0.03, 0.1),
    "mix": (0.0, 0.1, 0.25, 0.5, 0.75),
}

# What a strength means, for names and messages.
_DESCRIPTIONS = {
    "noise": "Gaussian noise σ={:g}",
    "blur": "Gaussian blur σ={:g} px",
    "swirl": "swirl strength {:g}",
    "rectangles": "{:g} black rectangle(s) per image",
    "salt_pepper": "salt-and-pepper p={:g}",
    "mix": "{:.0%} of images from another set",
}
# Largest strength accepted per kind (fractions cannot exceed 1; the others are generous caps
# that keep a typo from allocating a huge mask or kernel).
_MAX_STRENGTH = {
    "noise": 10.0,
    "blur": 1000.0,
    "swirl": 1000.0,
    "rectangles": 100.0,
    "salt_pepper": 1.0,
    "mix": 1.0,
}
_NUM_LEVELS = 5


# ------------------------------------------------------------------------------- validation
def _check_kind(kind) -> str:
    if not isinstance(kind, str):
        raise TypeError(f"kind: expected one of {DEGRADATIONS}, got {type(kind).__name__}")
    return check_choice(kind, "kind", DEGRADATIONS)


def _check_level(level) -> int:
    if isinstance(level, bool) or not isinstance(level, Integral):
        raise TypeError(f"level: expected an integer 0..4, got {type(level).__name__}")
    level = int(level)
    if not 0 <= level < _NUM_LEVELS:
        raise ValueError(
            f"level: must be 0..4 (0 = unchanged, 4 = clearly broken), got {level}; pass "
            "strength= for another strength"
        )
    return level


def _check_strength(kind: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"strength: expected a number, got {type(value).__name__}")
    value = float(value)
    top = _MAX_STRENGTH[kind]
    if not (math.isfinite(value) and 0.0 <= value <= top):
        raise ValueError(
            f"strength: {kind!r} takes a strength in [0, {top:g}], got {value!r} "
            f"(the course levels are {LEVELS[kind]})"
        )
    return value


def _check_set(real, name: str = "real") -> ImageSet:
    return check_image_set(real, name)


def _labels_and_classes(real: ImageSet, what: str) -> tuple[torch.Tensor, int]:
    """The set's labels on the CPU and its number of classes; refuses an unlabelled set."""
    if real.labels is None:
        raise ValueError(
            f"real: {what} needs class labels, but {real.name or 'this set'!r} has none; give "
            "an ImageSet with labels (e.g. lib.datasets.shapes or digits)"
        )
    labels = real.labels.detach().cpu()
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise TypeError(f"real.labels: expected integer class labels, got dtype {labels.dtype}")
    labels = labels.long()
    if bool((labels < 0).any()):
        raise ValueError("real.labels: class labels must be >= 0")
    return labels, max(real.num_classes, int(labels.max()) + 1)


def strength(kind: str, level: int) -> float:
    """The strength of ``kind`` at course level ``level`` (0..4): ``LEVELS[kind][level]``."""
    return LEVELS[_check_kind(kind)][_check_level(level)]


# ----------------------------------------------------------------------------- degradations
def degrade(
    images: torch.Tensor,
    kind: str,
    level: int | None = None,
    *,
    strength: float | None = None,
    seed: int = 0,
    other: torch.Tensor | None = None,
) -> torch.Tensor:
    """Degrade a batch of images the way Heusel et al. (2017, Fig. 1) do to test FID.

    ``images`` is a float N×C×H×W batch in [0, 1] (C = 1 or 3); the result has the same shape,
    dtype and device, in [0, 1]. Give exactly one of ``level`` (0..4, the course's
    :data:`LEVELS`) or ``strength`` (any value in the kind's range). Strength 0 returns an
    unchanged copy. With x an image and s the strength:

    - ``"noise"``: clip(x + s·ε, 0, 1), ε ~ N(0, 1) independently per pixel and channel.
    - ``"blur"``: a Gaussian blur with σ = s pixels: the separable kernel
      g_i ∝ exp(−i² / 2σ²), |i| ≤ round(4σ) (:func:`lib.metrics.ssim.gaussian_window`),
      applied along rows then columns with reflect padding (the kernel is cut at the image side
      when 4σ exceeds it) — ``scipy.ndimage.gaussian_filter(x, σ, mode="mirror")`` per channel.
    - ``"swirl"``: scikit-image's ``swirl`` mapping. An output pixel at distance ρ and angle θ
      from the image centre ((W − 1)/2, (H − 1)/2) reads the input at the same ρ and angle
      θ + s·exp(−ρ/r), r = ln 2 · radius / 5 with radius = min(H, W)/2 (so the twist has decayed
      to about 1/1000 at the radius), sampled bilinearly with reflection at the border — one
      ``grid_sample`` for the whole batch. Equals ``skimage.transform.swirl(x, center=((W-1)/2,
      (H-1)/2), strength=s, radius=min(H, W)/2, order=1, mode="reflect")``.
    - ``"rectangles"``: s black rectangles per image (a fractional s gives ⌊s⌋ or ⌈s⌉
      rectangles, ⌈s⌉ with probability s − ⌊s⌋). Each side is uniform in [1/4, 1/2] of the
      image side (rounded to pixels), the position uniform with the rectangle inside the image;
      rectangles may overlap.
    - ``"salt_pepper"``: each pixel (all channels together) is hit with probability p = s and
      then set to 0 or 1 with probability 1/2 each — a fraction p of the pixels on average.
    - ``"mix"``: round(s·N) images, chosen at random, are replaced by images of ``other`` (a
      float image batch or an ImageSet of another data set; required for this kind), resized
      with antialiased bilinear interpolation and converted to the channels of ``images``
      (grey → RGB by repetition, RGB → grey by luma 0.299 R + 0.587 G + 0.114 B) when they
      differ — Heusel's "ImageNet contamination". The other images are drawn without
      replacement; only when more are needed than ``other`` holds is each used ⌊m/len⌋ or
      ⌈m/len⌉ times.

    ``other`` is ignored by the other kinds. Randomness comes from a CPU ``torch.Generator``
    seeded with ``seed`` and drawn for the whole batch at once, so the same seed and batch give
    the same output on every device (a different batch size draws different numbers).
    Half-precision images are processed in float32.
    """
    kind = _check_kind(kind)
    x = check_images(images, "images")
    if (level is None) == (strength is None):
        raise ValueError(
            "level, strength: give exactly one of them — level=0..4 for the course levels "
            f"{LEVELS[kind]}, or strength= for any other value"
        )
    s = LEVELS[kind][_check_level(level)] if level is not None else None
    s = _check_strength(kind, strength if s is None else s)
    seed = check_seed(seed)
    if kind == "mix":
        if other is None:
            raise ValueError(
                "other: 'mix' replaces images by images of another data set; pass other= "
                "(e.g. lib.datasets.photos(n, size=32).images)"
            )
        other = check_images(getattr(other, "images", other), "other")
    if kind in ("blur", "swirl") and min(x.shape[-2:]) < 2:
        raise ValueError(f"images: {kind} needs images of at least 2×2 pixels, got {x.shape}")
    if s == 0.0:
        return x.clone()
    work = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    gen = torch.Generator().manual_seed(seed)
    if kind == "noise":
        out = _noise(work, s, gen)
    elif kind == "blur":
        out = _blur(work, s)
    elif kind == "swirl":
        out = _swirl(work, s)
    elif kind == "rectangles":
        out = _rectangles(work, s, gen)
    elif kind == "salt_pepper":
        out = _salt_pepper(work, s, gen)
    else:
        assert other is not None  # required for "mix", checked above
        out = _mix(work, s, gen, other)
    return out.clamp_(0.0, 1.0).to(x.dtype)


def _noise(x: torch.Tensor, sigma: float, gen: torch.Generator) -> torch.Tensor:
    eps = torch.randn(x.shape, generator=gen, dtype=torch.float32)
    return x + sigma * eps.to(device=x.device, dtype=x.dtype)


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    n, c, h, w = x.shape
    # scipy.ndimage's truncation (4σ, rounded); reflect padding needs pad < side.
    radius = min(int(4.0 * sigma + 0.5), min(h, w) - 1)
    g = gaussian_window(2 * radius + 1, sigma, dtype=x.dtype, device=x.device)
    y = x.reshape(n * c, 1, h, w)
    y = F.conv2d(F.pad(y, (radius, radius, 0, 0), mode="reflect"), g.view(1, 1, 1, -1))
    y = F.conv2d(F.pad(y, (0, 0, radius, radius), mode="reflect"), g.view(1, 1, -1, 1))
    return y.reshape(n, c, h, w)


def _swirl(x: torch.Tensor, s: float) -> torch.Tensor:
    n, _, h, w = x.shape
    # The inverse map in pixel coordinates, in float64 on the CPU (it is one H×W grid).
    y0, x0 = (h - 1) / 2, (w - 1) / 2
    dy = torch.arange(h, dtype=torch.float64)[:, None] - y0
    dx = torch.arange(w, dtype=torch.float64)[None, :] - x0
    rho = torch.sqrt(dx**2 + dy**2)
    r = math.log(2) * (min(h, w) / 2) / 5
    theta = s * torch.exp(-rho / r) + torch.atan2(dy, dx)
    sx, sy = x0 + rho * torch.cos(theta), y0 + rho * torch.sin(theta)
    # align_corners=True puts −1 and 1 on the centres of the border pixels, as skimage does.
    grid = torch.stack((sx / (w - 1) * 2 - 1, sy / (h - 1) * 2 - 1), dim=-1)
    grid = grid.to(device=x.device, dtype=x.dtype)[None].expand(n, h, w, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=True)


def _rectangles(x: torch.Tensor, s: float, gen: torch.Generator) -> torch.Tensor:
    n, _, h, w = x.shape
    slots = math.ceil(s)
    count = math.floor(s) + (torch.rand(n, generator=gen) < s - math.floor(s)).long()
    rh = torch.round((0.25 + 0.25 * torch.rand(n, slots, generator=gen)) * h).long().clamp(min=1)
    rw = torch.round((0.25 + 0.25 * torch.rand(n, slots, generator=gen)) * w).long().clamp(min=1)
    top = torch.floor(torch.rand(n, slots, generator=gen) * (h - rh + 1)).long()
    left = torch.floor(torch.rand(n, slots, generator=gen) * (w - rw + 1)).long()
    active = torch.arange(slots)[None, :] < count[:, None]
    params = [t.to(x.device) for t in (rh, rw, top, left, active)]
    rh, rw, top, left, active = params
    ys = torch.arange(h, device=x.device)
    xs = torch.arange(w, device=x.device)
    covered = torch.zeros(n, h, w, dtype=torch.bool, device=x.device)
    for k in range(slots):  # one pass per rectangle slot, the whole batch at once
        rows = (ys[None] >= top[:, k, None]) & (ys[None] < (top + rh)[:, k, None])
        cols = (xs[None] >= left[:, k, None]) & (xs[None] < (left + rw)[:, k, None])
        covered |= rows[:, :, None] & cols[:, None, :] & active[:, k, None, None]
    return x.masked_fill(covered[:, None], 0.0)


def _salt_pepper(x: torch.Tensor, p: float, gen: torch.Generator) -> torch.Tensor:
    n, _, h, w = x.shape
    hit = (torch.rand(n, 1, h, w, generator=gen) < p).to(x.device)
    salt = (torch.rand(n, 1, h, w, generator=gen) < 0.5).to(device=x.device, dtype=x.dtype)
    return torch.where(hit, salt, x)


def _spread(n_out: int, n_in: int, gen: torch.Generator) -> torch.Tensor:
    """``n_out`` indices into ``n_in`` items, in random order: without replacement when
    n_out ≤ n_in, otherwise every item ⌊n_out/n_in⌋ or ⌈n_out/n_in⌉ times."""
    order = torch.randperm(n_in, generator=gen)
    picks = order[torch.arange(n_out) % n_in]
    return picks[torch.randperm(n_out, generator=gen)]


def _match_images(src: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``src`` resized and channel-converted to the size, channels, dtype and device of
    ``like``."""
    src = src.to(device=like.device, dtype=like.dtype)
    if src.shape[1] != like.shape[1]:
        if like.shape[1] == 3:
            src = src.expand(-1, 3, -1, -1)
        else:
            luma = torch.tensor(LUMA, device=src.device, dtype=src.dtype).view(1, 3, 1, 1)
            src = (src * luma).sum(1, keepdim=True)
    if src.shape[-2:] != like.shape[-2:]:
        src = F.interpolate(
            src, size=like.shape[-2:], mode="bilinear", antialias=True, align_corners=False
        )
    return src


def _mix(x: torch.Tensor, fraction: float, gen: torch.Generator, other: torch.Tensor):
    n = x.shape[0]
    m = round(fraction * n)
    out = x.clone()
    if m == 0:
        return out
    which = torch.randperm(n, generator=gen)[:m]
    source = _spread(m, other.shape[0], gen)
    picked = other[source.to(other.device)]
    out[which.to(x.device)] = _match_images(picked, x)
    return out


def degradation_series(
    images: torch.Tensor,
    kind: str,
    *,
    seed: int = 0,
    other: torch.Tensor | None = None,
) -> list[torch.Tensor]:
    """``images`` at the five course levels of ``kind``: ``[degrade(images, kind, L) for L in
    0..4]`` (level 0 is an unchanged copy), all with the same ``seed``."""
    return [degrade(images, kind, level, seed=seed, other=other) for level in range(5)]


# ------------------------------------------------------------------------------ mode collapse
def _draw(
    labels: torch.Tensor,
    counts_out: torch.Tensor,
    distinct: torch.Tensor,
    gen: torch.Generator,
) -> torch.Tensor:
    """Indices into ``labels`` (a CPU long tensor): ``counts_out[c]`` images of each class c,
    copies of ``distinct[c]`` different images of that class chosen at random, each of them
    used ⌊counts_out/distinct⌋ or ⌈counts_out/distinct⌉ times (so no image is repeated unless
    counts_out[c] > distinct[c]); returned in random order."""
    num_classes = counts_out.numel()
    available = torch.bincount(labels, minlength=num_classes)
    # A random order inside each class: sort by label + a uniform key in [0, 1).
    keys = labels.to(torch.float64) + torch.rand(labels.numel(), generator=gen, dtype=torch.float64)
    order = torch.argsort(keys)
    class_start = torch.cumsum(available, 0) - available
    slot_class = torch.repeat_interleave(torch.arange(num_classes), counts_out)
    slot_start = torch.cumsum(counts_out, 0) - counts_out
    j = torch.arange(int(counts_out.sum())) - slot_start[slot_class]
    rank = j % distinct[slot_class].clamp(min=1)
    picks = order[class_start[slot_class] + rank]
    return picks[torch.randperm(picks.numel(), generator=gen)]


def _resampled(real: ImageSet, index: torch.Tensor, name: str, info: dict) -> ImageSet:
    device_index = index.to(real.images.device)
    labels = None if real.labels is None else real.labels[index.to(real.labels.device)]
    info = {"source": real.name, **info, "source_indices": index}
    return ImageSet(real.images[device_index], labels, real.class_names, name, info)


def _check_n(n, real: ImageSet) -> int:
    return len(real) if n is None else check_positive_int(n, "n")


def drop_modes(
    real: ImageSet,
    keep: int | Sequence[int],
    n: int | None = None,
    *,
    seed: int = 0,
) -> ImageSet:
    """A generator that lost modes: ``n`` images (default ``len(real)``) of the kept classes only.

    ``keep`` is either an int k (keep classes 0..k−1) or a sequence of class indices. The n
    images are drawn from the real images of the kept classes, each class getting a share of n
    proportional to its count in ``real`` (largest-remainder rounding). Within a class the images
    are drawn without replacement; only when its share exceeds its images (the default n with
    fewer classes, for instance) are they repeated, each ⌊share/count⌋ or ⌈share/count⌉ times.
    Labels are kept. A classifier sees the loss of modes in the marginal p(y), so IS falls
    roughly like the number of classes kept; FID rises.
    """
    real = _check_set(real)
    labels, num_classes = _labels_and_classes(real, "drop_modes")
    n = _check_n(n, real)
    seed = check_seed(seed)
    if isinstance(keep, bool):
        raise TypeError("keep: expected an int or a sequence of class indices, got a bool")
    if isinstance(keep, Integral):
        if not 1 <= int(keep) <= num_classes:
            raise ValueError(
                f"keep: must keep between 1 and {num_classes} classes, got {int(keep)}"
            )
        kept = list(range(int(keep)))
    elif isinstance(keep, Sequence | torch.Tensor) and not isinstance(keep, str):
        values = keep.tolist() if isinstance(keep, torch.Tensor) else list(keep)
        if not all(isinstance(k, Integral) and not isinstance(k, bool) for k in values):
            raise TypeError(f"keep: class indices must be integers, got {values!r}")
        kept = [int(k) for k in values]
        if not kept or len(set(kept)) != len(kept):
            raise ValueError(f"keep: give distinct class indices, at least one, got {kept}")
        bad = [k for k in kept if not 0 <= k < num_classes]
        if bad:
            raise ValueError(f"keep: classes {bad} are not in 0..{num_classes - 1}")
    else:
        raise TypeError(
            f"keep: expected an int or a sequence of class indices, got {type(keep).__name__}"
        )
    available = torch.bincount(labels, minlength=num_classes)
    empty = [k for k in kept if int(available[k]) == 0]
    if empty:
        raise ValueError(f"keep: classes {empty} have no images in {real.name or 'real'!r}")
    weights = torch.zeros(num_classes, dtype=torch.float64)
    weights[kept] = available[kept].to(torch.float64)
    counts_out = proportional_counts(weights, n)
    gen = torch.Generator().manual_seed(seed)
    index = _draw(labels, counts_out, available, gen)
    names = real.class_names
    kept_names = [names[k] if k < len(names) else str(k) for k in kept]
    return _resampled(
        real,
        index,
        f"{real.name}: {len(kept)} of {num_classes} classes",
        {
            "generator": "drop_modes",
            "kept_classes": kept,
            "kept_class_names": kept_names,
            "class_counts": counts_out.tolist(),
            "with_replacement": bool((counts_out > available).any()),
            "seed": seed,
        },
    )


def collapse_within_class(
    real: ImageSet,
    distinct_per_class: int,
    n: int | None = None,
    *,
    seed: int = 0,
) -> ImageSet:
    """Mode collapse inside the classes: every class is there, but with little variety.

    Each class keeps its share of the ``n`` images (default ``len(real)``; shares proportional to
    the class counts of ``real``, largest-remainder rounding), and the share is filled with copies
    of ``distinct_per_class`` real images of that class chosen at random (all of the class's
    images if it has fewer), each used ⌊share/d⌋ or ⌈share/d⌉ times. Labels are kept.

    The class marginal p(y) is unchanged, so IS barely moves; the modified IS (Gurumurthy et al.
    2017), which compares samples within a predicted class, falls; FID rises.
    """
    real = _check_set(real)
    labels, num_classes = _labels_and_classes(real, "collapse_within_class")
    d = check_positive_int(distinct_per_class, "distinct_per_class")
    n = _check_n(n, real)
    seed = check_seed(seed)
    available = torch.bincount(labels, minlength=num_classes)
    counts_out = proportional_counts(available, n)
    distinct = available.clamp(max=d)
    gen = torch.Generator().manual_seed(seed)
    index = _draw(labels, counts_out, distinct, gen)
    kind = "memorise" if d == 1 else "collapse_within_class"
    name = "memorised, 1 per class" if d == 1 else f"{d} distinct per class"
    return _resampled(
        real,
        index,
        f"{real.name}: {name}",
        {
            "generator": kind,
            "distinct_per_class": d,
            "class_counts": counts_out.tolist(),
            "with_replacement": bool((counts_out > distinct).any()),
            "seed": seed,
        },
    )


def memorise(real: ImageSet, n: int | None = None, *, seed: int = 0) -> ImageSet:
    """A generator that memorised one training image per class and repeats it.

    ``collapse_within_class(real, 1, n, seed=seed)``: each class keeps its share of the ``n``
    images (default ``len(real)``), all copies of one real image of that class picked at random.
    Salimans et al.'s IS cannot tell this from the real set — every image is classified
    confidently and the classes are balanced — which is the course's first failure of IS.
    """
    return collapse_within_class(real, 1, n, seed=seed)


def bench_set_names(num_classes: int | None = 10, *, with_mix: bool = True) -> tuple[str, ...]:
    """The keys :func:`bench_sets` returns for a set with ``num_classes`` classes (``None``: an
    unlabelled set, degradations only; ``"mix"`` only ``with_mix``)."""
    kinds = tuple(k for k in DEGRADATIONS if with_mix or k != "mix")
    if num_classes is None:
        return kinds
    num_classes = check_positive_int(num_classes, "num_classes")
    dropped = num_classes // 2
    drop = (f"drop {dropped} of {num_classes} modes",) if dropped else ()
    return (*kinds, *drop, "2 per class", "memorised (1 per class)")


def bench_set(
    real: ImageSet,
    name: str,
    level: int = 2,
    *,
    other: ImageSet | torch.Tensor | None = None,
    seed: int = 0,
) -> ImageSet:
    """One set of the bench by its name: ``bench_sets(real, other=other, level=level,
    seed=seed)[name]``, without making the others.

    A degradation (``"noise"``, ``"blur"``, …, ``"mix"``) at ``level`` 0..4 keeps the labels
    (``"mix"`` drops them and needs ``other``, an ImageSet or an N×C×H×W tensor); the three sets
    that lose diversity (``"drop k of C modes"``, ``"2 per class"``, ``"memorised (1 per
    class)"``) need labels and do not depend on ``level``.
    """
    real = _check_set(real)
    level = _check_level(level)
    seed = check_seed(seed)
    if not isinstance(name, str):
        raise TypeError(f"name: expected a bench set name, got {type(name).__name__}")
    if name in DEGRADATIONS:
        s = LEVELS[name][level]
        info = {"source": real.name, "kind": name, "level": level, "strength": s, "seed": seed}
        other_images = None
        if name == "mix":
            if other is None:
                raise ValueError("other: the 'mix' set needs images of another data set")
            if isinstance(other, ImageSet):
                other_images, info["other"] = _check_set(other, "other").images, other.name
            else:
                other_images = check_images(other, "other")
        images = degrade(real.images, name, level, seed=seed, other=other_images)
        labels = None if name == "mix" else real.labels
        description = f"{real.name} + {_DESCRIPTIONS[name].format(s)}"
        return ImageSet(images, labels, real.class_names, description, info)
    if real.labels is None:
        raise ValueError(f"name: {name!r} needs a real set with labels")
    _, num_classes = _labels_and_classes(real, f"the {name!r} set")
    check_choice(name, "name", bench_set_names(num_classes))
    if name == "2 per class":
        return collapse_within_class(real, 2, seed=seed)
    if name == "memorised (1 per class)":
        return memorise(real, seed=seed)
    return drop_modes(real, num_classes - num_classes // 2, seed=seed)


def bench_sets(
    real: ImageSet,
    *,
    other: ImageSet | None = None,
    level: int = 2,
    seed: int = 0,
) -> dict[str, ImageSet]:
    """The bench for a report table: named "generators" made from ``real``, each ``len(real)``
    images (:func:`bench_set` for each of :func:`bench_set_names`).

    Keys, in order: each of :data:`DEGRADATIONS` at ``level`` (``"noise"``, ``"blur"``,
    ``"swirl"``, ``"rectangles"``, ``"salt_pepper"``, and ``"mix"`` only when ``other`` is
    given), then ``"drop 5 of 10 modes"`` (for C classes: ``f"drop {C // 2} of {C} modes"``,
    keeping classes 0..C − C//2 − 1), ``"2 per class"`` and ``"memorised (1 per class)"``. The
    last three need labels and are left out for an unlabelled set. A second draw of the real
    data ("real (another draw)") is not included: only the caller knows how to draw one.

    Degraded sets keep the labels (the "mix" set has none: some images are not of the real
    set's classes); their ``info`` holds kind, level, strength and seed.
    """
    real = _check_set(real)
    if other is not None:
        other = _check_set(other, "other")
    num_classes = None
    if real.labels is not None:
        _, num_classes = _labels_and_classes(real, "bench_sets")
    names = bench_set_names(num_classes, with_mix=other is not None)
    return {name: bench_set(real, name, level, other=other, seed=seed) for name in names}
