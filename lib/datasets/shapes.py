"""``shapes``: a procedural 10-class colour image set, CIFAR-sized, with controllable modes.

Each image shows one shape (the class) with a random colour, position, scale, rotation and
texture on a random textured background. Rendering is vectorised: every shape is a signed
distance function evaluated on the whole batch at once and anti-aliased by its distance to the
edge, so 10,000 images take about a second on two CPU cores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from lib._checks import LUMA, check_positive_int
from lib.datasets.base import ImageSet, proportional_counts
from lib.device import resolve_device

SHAPE_CLASSES = (
    "disk",
    "ring",
    "square",
    "triangle",
    "star",
    "plus",
    "crescent",
    "bar",
    "heart",
    "L-shape",
)
_CHUNK = 4096  # images rendered at once; results do not depend on it


def _box(u: torch.Tensor, v: torch.Tensor, half_w: float, half_h: float) -> torch.Tensor:
    """Exact signed distance to an axis-aligned box centred at the origin."""
    qx, qy = u.abs() - half_w, v.abs() - half_h
    outside = torch.sqrt(qx.clamp(min=0) ** 2 + qy.clamp(min=0) ** 2)
    return outside + torch.maximum(qx, qy).clamp(max=0)


def _polygon(u: torch.Tensor, v: torch.Tensor, sides: int, circumradius: float) -> torch.Tensor:
    """Signed distance (exact inside, approximate at outer corners) to a regular polygon."""
    inradius = circumradius * math.cos(math.pi / sides)
    angles = torch.arange(sides, dtype=u.dtype, device=u.device) * (2 * math.pi / sides)
    angles = angles + math.pi / 2  # one vertex pointing down, one edge up for the triangle
    proj = u[..., None] * torch.cos(angles) + v[..., None] * torch.sin(angles)
    return proj.amax(dim=-1) - inradius


def _star(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    radius = torch.sqrt(u * u + v * v)
    phase = torch.atan2(v, u) * (5 / (2 * math.pi))
    tip = 1 - 2 * (phase - torch.floor(phase) - 0.5).abs()  # 1 at the tips, 0 between them
    boundary = 0.42 + (0.95 - 0.42) * tip
    return (radius - boundary) * 0.6  # the polar distance overestimates the Euclidean one


def _heart(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    # The exact heart distance of Inigo Quilez, point up-side down so the lobes are on top.
    x = u.abs() / 1.05
    y = (-v + 0.95) / 1.05  # the tip at y = 0, the lobes near y = 1
    upper = torch.sqrt((x - 0.25) ** 2 + (y - 0.75) ** 2) - math.sqrt(2) / 4
    s = (x + y).clamp(min=0) * 0.5
    lower = torch.sqrt(torch.minimum(x**2 + (y - 1) ** 2, (x - s) ** 2 + (y - s) ** 2))
    lower = lower * torch.sign(x - y)
    return torch.where(x + y > 1, upper, lower) * 1.05


def _signed_distance(label: int, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Signed distance of class ``label`` in shape-local units (the shape fits the unit disc)."""
    r = torch.sqrt(u * u + v * v)
    if label == 0:  # disk
        return r - 0.85
    if label == 1:  # ring
        return (r - 0.68).abs() - 0.2
    if label == 2:  # square
        return _box(u, v, 0.66, 0.66)
    if label == 3:  # triangle
        return _polygon(u, v, 3, 0.95)
    if label == 4:  # star
        return _star(u, v)
    if label == 5:  # plus
        return torch.minimum(_box(u, v, 0.9, 0.24), _box(u, v, 0.24, 0.9))
    if label == 6:  # crescent: a disk with an offset disk cut out
        return torch.maximum(r - 0.88, -(torch.sqrt((u - 0.42) ** 2 + v * v) - 0.72))
    if label == 7:  # bar
        return _box(u, v, 0.92, 0.26)
    if label == 8:  # heart
        return _heart(u, v)
    if label == 9:  # L-shape
        return torch.minimum(_box(u + 0.42, v, 0.22, 0.85), _box(u, v - 0.63, 0.64, 0.22))
    raise ValueError(f"label: no shape class {label}")


def class_counts_for(n: int, class_balance: Sequence[float] | torch.Tensor | None) -> torch.Tensor:
    """Images per class for ``n`` images with the requested balance (largest remainder rounding).

    ``class_balance`` holds one non-negative weight per class (normalised here); ``None`` means
    uniform. A weight of 0 drops that class (a generator that lost the mode).
    """
    num_classes = len(SHAPE_CLASSES)
    if class_balance is None:
        weights = torch.ones(num_classes, dtype=torch.float64)
    else:
        weights = torch.as_tensor(class_balance, dtype=torch.float64).flatten()
        if weights.numel() != num_classes:
            raise ValueError(
                f"class_balance: expected {num_classes} weights (one per class of "
                f"{SHAPE_CLASSES}), got {weights.numel()}"
            )
        if not bool(torch.isfinite(weights).all()) or bool((weights < 0).any()):
            raise ValueError(
                f"class_balance: weights must be finite and >= 0, got {weights.tolist()}"
            )
        if float(weights.sum()) <= 0:
            raise ValueError("class_balance: at least one class needs a positive weight")
    return proportional_counts(weights, n)


def _low_frequency_noise(gen: torch.Generator, n: int, grid: int, channels: int) -> torch.Tensor:
    return torch.rand(n, channels, grid, grid, generator=gen) * 2 - 1


def shapes(
    n: int = 10_000,
    *,
    seed: int = 0,
    size: int = 32,
    class_balance: Sequence[float] | torch.Tensor | None = None,
    texture: float = 1.0,
    device: str | torch.device = "cpu",
) -> ImageSet:
    """``n`` procedural images of 10 shape classes as N×3×size×size float tensors in [0, 1].

    Classes: disk, ring, square, triangle, star, plus, crescent, bar, heart, L-shape. Each image
    draws a centre, scale, rotation, foreground and background colour (kept apart in luminance),
    a foreground texture (flat, stripes, checks or blotches) and a background gradient with
    low-frequency noise. Every random number is drawn on the CPU from one generator seeded with
    ``seed`` before rendering, so the same seed gives identical images on any device and for any
    internal chunking.

    Args:
        n: number of images.
        seed: the random seed.
        size: side in pixels (32 by default; the shapes are resolution independent).
        class_balance: one weight per class, ``None`` for uniform; the class histogram equals
            ``class_counts_for(n, class_balance)`` exactly. Zero weights drop modes.
        texture: strength of foreground and background textures (0 gives flat colours).
        device: where to render (``"auto"`` picks CUDA when present).
    """
    check_positive_int(n, "n")
    check_positive_int(size, "size", minimum=8)
    if not (isinstance(texture, int | float) and 0.0 <= texture <= 2.0):
        raise ValueError(f"texture: expected a number in [0, 2], got {texture!r}")
    device = resolve_device(device)
    counts = class_counts_for(n, class_balance)

    gen = torch.Generator().manual_seed(int(seed))
    labels = torch.repeat_interleave(torch.arange(len(SHAPE_CLASSES)), counts)
    labels = labels[torch.randperm(n, generator=gen)]
    scale = 0.42 + 0.3 * torch.rand(n, generator=gen)
    centre = (torch.rand(n, 2, generator=gen) * 2 - 1) * (0.92 - scale)[:, None]
    angle = torch.rand(n, generator=gen) * 2 * math.pi
    fg, bg = _contrasting_colours(gen, n)
    tex_kind = torch.randint(0, 4, (n,), generator=gen)
    tex_amp = (0.08 + 0.17 * torch.rand(n, generator=gen)) * texture
    tex_freq = 4 + 6 * torch.rand(n, generator=gen)
    tex_dir = torch.rand(n, generator=gen) * math.pi
    tex_phase = torch.rand(n, generator=gen) * 2 * math.pi
    fg_noise = _low_frequency_noise(gen, n, 6, 1)
    bg_dir = torch.rand(n, generator=gen) * 2 * math.pi
    bg_amp = 0.15 * torch.rand(n, generator=gen) * texture
    bg_noise = _low_frequency_noise(gen, n, 4, 3) * 0.08 * texture

    params = dict(
        labels=labels,
        scale=scale,
        centre=centre,
        angle=angle,
        fg=fg,
        bg=bg,
        tex_kind=tex_kind,
        tex_amp=tex_amp,
        tex_freq=tex_freq,
        tex_dir=tex_dir,
        tex_phase=tex_phase,
        fg_noise=fg_noise,
        bg_dir=bg_dir,
        bg_amp=bg_amp,
        bg_noise=bg_noise,
    )
    images = torch.empty(n, 3, size, size, device=device)
    for start in range(0, n, _CHUNK):
        part = {k: v[start : start + _CHUNK].to(device) for k, v in params.items()}
        images[start : start + _CHUNK] = _render(size=size, **part)
    info = {"seed": seed, "class_counts": counts.tolist(), "texture": texture}
    return ImageSet(images, labels.to(device), SHAPE_CLASSES, "shapes", info)


def _luminance(rgb: torch.Tensor) -> torch.Tensor:
    """BT.601 luma 0.299 R + 0.587 G + 0.114 B of N×3 colours. Not torchvision's
    ``rgb_to_grayscale``: it rounds the red weight to 0.2989, a change of up to 1e-4 that could
    move a colour pair across the contrast thresholds below and so change the generated sets."""
    return rgb @ torch.tensor(LUMA)


def _contrasting_colours(gen: torch.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Foreground and background colours whose luminances differ by at least 0.25."""
    fg = torch.rand(n, 3, generator=gen)
    bg = torch.rand(n, 3, generator=gen)
    # Push the foreground away from the background in luminance, keeping its hue.
    gap = _luminance(fg) - _luminance(bg)
    push = torch.where(gap >= 0, 1.0, -1.0) * (0.3 - gap.abs()).clamp(min=0)
    fg = fg + push[:, None]
    too_far = (fg > 1).any(1) | (fg < 0).any(1)
    # When pushing left [0, 1], swap to the other side of the background instead.
    flipped = bg + torch.where(_luminance(bg) > 0.5, -1.0, 1.0)[:, None] * 0.45
    fg = torch.where(too_far[:, None], flipped, fg).clamp(0, 1)
    return fg, bg


def _render(
    *,
    size,
    labels,
    scale,
    centre,
    angle,
    fg,
    bg,
    tex_kind,
    tex_amp,
    tex_freq,
    tex_dir,
    tex_phase,
    fg_noise,
    bg_dir,
    bg_amp,
    bg_noise,
) -> torch.Tensor:
    n, device = labels.shape[0], labels.device
    coords = (torch.arange(size, device=device, dtype=torch.float32) * 2 + 1) / size - 1
    py, px = torch.meshgrid(coords, coords, indexing="ij")  # y down, x right, in [-1, 1]
    dx = px[None] - centre[:, 0, None, None]
    dy = py[None] - centre[:, 1, None, None]
    cos, sin = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]
    s = scale[:, None, None]
    u = (cos * dx + sin * dy) / s
    v = (-sin * dx + cos * dy) / s

    distance = torch.empty(n, size, size, device=device)
    for label in torch.unique(labels).tolist():
        idx = torch.nonzero(labels == label).squeeze(1)
        distance[idx] = _signed_distance(label, u[idx], v[idx])
    pixel = 2.0 / size / s  # one pixel in shape-local units
    alpha = (0.5 - distance / pixel).clamp(0, 1)[:, None]

    # Foreground texture, in shape-local coordinates so it turns with the shape.
    d_cos, d_sin = torch.cos(tex_dir)[:, None, None], torch.sin(tex_dir)[:, None, None]
    freq, phase = tex_freq[:, None, None], tex_phase[:, None, None]
    stripes = torch.sin(freq * (d_cos * u + d_sin * v) * math.pi / 2 + phase)
    checks = torch.sign(torch.sin(freq * u * 1.5 + phase) * torch.sin(freq * v * 1.5))
    blotches = F.interpolate(fg_noise, size=(size, size), mode="bicubic", align_corners=False)[:, 0]
    kind = tex_kind[:, None, None]
    pattern = torch.where(kind == 1, stripes, torch.where(kind == 2, checks, blotches))
    pattern = torch.where(kind == 0, torch.zeros_like(pattern), pattern)
    foreground = fg[:, :, None, None] * (1 + tex_amp[:, None, None, None] * pattern[:, None])

    ramp = torch.cos(bg_dir)[:, None, None] * px + torch.sin(bg_dir)[:, None, None] * py
    background = bg[:, :, None, None] + (bg_amp[:, None, None] * ramp)[:, None]
    background = background + F.interpolate(
        bg_noise, size=(size, size), mode="bilinear", align_corners=False
    )
    return (alpha * foreground + (1 - alpha) * background).clamp_(0, 1)
