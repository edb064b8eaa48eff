"""Data for CartoonGAN (Part II): procedural cartoons, edge-smoothed cartoons, unpaired batches.

CartoonGAN (Chen, Lai & Liu, CVPR 2018) learns photo → cartoon from *unpaired* sets: cartoon
images, photos, and the cartoons with their edges blurred (the negatives that teach the
discriminator what a clear edge is, §3.2). This module gives all three offline:

* :func:`cartoons`: procedural cartoon scenes (countryside, village, forest, still life) with what
  the paper calls the marks of a cartoon: flat colours, clean black outlines of a set width,
  little texture and simple cel shading (two or three tones per shape). Every shape is a signed
  distance field evaluated on the whole batch at once; fills, outlines and shading bands are all
  read off the distance field, anti-aliased over one pixel. Scenes live in unit coordinates, so
  the same seed gives the same scene at any size; image ``k`` depends only on ``(seed, k)``.
* :func:`edge_smooth`: the paper's recipe for the negatives: Canny edges (:func:`canny`, a torch
  port of ``cv2.Canny`` that gives the same edges), dilated (:func:`edge_band`), and a Gaussian
  blur (:func:`gaussian_blur`) pasted in only inside the band: one batched blur and a mask.
* The photo side is :func:`lib.datasets.photos`; :func:`unpaired_batches` draws independent
  batches of the two sides, and :func:`unpaired_folders` loads a user's own cartoon frames and
  photos from two folders (through :func:`lib.datasets.image_folder`).
* :func:`gradient_magnitude`, :func:`texture_energy`, :func:`edge_sharpness` and
  :func:`colour_count` measure the marks of a cartoon, so cartoons, photos and generated images
  can be compared in numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from lib._checks import check_choice, check_images, check_positive_int
from lib.datasets.base import ImageSet
from lib.datasets.files import image_folder
from lib.device import resolve_device

SCENE_TYPES = ("countryside", "village", "forest", "still_life")
_UNIFORMS = 320  # random numbers per image; every scene consumes a fixed prefix of them
_PIXELS_PER_CHUNK = 1 << 20  # images rendered at once; results do not depend on it


# ------------------------------------------------------------------------------ random numbers
def _image_uniforms(seed: int, n: int) -> torch.Tensor:
    """n×_UNIFORMS uniforms; row k comes from its own generator seeded by ``(seed, k)``, so an
    image does not depend on how many others are drawn."""
    rows = []
    for k in range(n):
        state = np.random.SeedSequence([int(seed) & (2**63 - 1), k]).generate_state(2, np.uint32)
        gen = torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))
        rows.append(torch.rand(_UNIFORMS, generator=gen))
    return torch.stack(rows)


class _Draws:
    """Hands out the columns of an images×_UNIFORMS table in a fixed order, so every image of a
    scene type takes its k-th random number for the same purpose."""

    def __init__(self, u: torch.Tensor):
        self.u, self.col = u, 0

    def uniform(self, lo: float | torch.Tensor, hi: float | torch.Tensor) -> torch.Tensor:
        if self.col >= self.u.shape[1]:  # pragma: no cover - a bug in a scene, not user input
            raise RuntimeError("cartoons: a scene draws more random numbers than _UNIFORMS")
        value = self.u[:, self.col]
        self.col += 1
        return lo + (hi - lo) * value

    def coin(self, p: float) -> torch.Tensor:
        return self.uniform(0.0, 1.0) < p

    def colour(self, hue, sat, val) -> torch.Tensor:
        """A B×3 RGB colour with hue (in turns), saturation and value uniform in the ranges."""
        return _hsv(self.uniform(*hue), self.uniform(*sat), self.uniform(*val))


def _hsv(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """HSV → RGB: channel n is V − V·S·clamp(min(k, 4 − k), 0, 1), k = (n + 6H) mod 6, with
    n = 5, 3, 1 for R, G, B."""
    k = (torch.tensor([5.0, 3.0, 1.0], device=h.device) + 6 * (h % 1.0)[:, None]) % 6
    return v[:, None] * (1 - s[:, None] * torch.minimum(k, 4 - k).clamp(0, 1))


# ------------------------------------------------------------------------- signed distances
# Coordinates: y in [-1, 1] from top to bottom, x in [-a, a] (a = width / height), so a scene
# drawn in these units looks the same at any pixel size. A shape holds (B,) parameter tensors
# (one value per image) and a per-image bounding box, so a layer is evaluated only in a window
# around it rather than on the whole image.
_FAR = 1e3  # "unbounded" in a bounding box


def _b(t: torch.Tensor) -> torch.Tensor:
    return t[:, None, None]


def _circle_sdf(x, y, cx, cy, r):
    return torch.sqrt((x - cx) ** 2 + (y - cy) ** 2) - r


def _box_sdf(x, y, cx, cy, half_w, half_h, radius):
    """Exact distance to an axis-aligned box with corners rounded by ``radius``."""
    qx = (x - cx).abs() - half_w + radius
    qy = (y - cy).abs() - half_h + radius
    outside = torch.sqrt(qx.clamp(min=0) ** 2 + qy.clamp(min=0) ** 2)
    return outside + torch.maximum(qx, qy).clamp(max=0) - radius


def _triangle_sdf(x, y, ax, ay, bx, by, cx, cy):
    """Exact distance to the triangle abc (Inigo Quilez's formula)."""
    pts = ((ax, ay), (bx, by), (cx, cy))
    ex = [pts[(i + 1) % 3][0] - pts[i][0] for i in range(3)]
    ey = [pts[(i + 1) % 3][1] - pts[i][1] for i in range(3)]
    orient = torch.sign(ex[0] * ey[2] - ey[0] * ex[2])
    dist2 = side = None
    for i in range(3):
        vx, vy = x - pts[i][0], y - pts[i][1]
        t = ((vx * ex[i] + vy * ey[i]) / (ex[i] ** 2 + ey[i] ** 2)).clamp(0, 1)
        d2 = (vx - ex[i] * t) ** 2 + (vy - ey[i] * t) ** 2
        s = orient * (vx * ey[i] - vy * ex[i])
        dist2 = d2 if dist2 is None else torch.minimum(dist2, d2)
        side = s if side is None else torch.minimum(side, s)
    return -torch.sqrt(dist2) * torch.sign(side)


def _bowl_sdf(x, y, cx, cy, r):
    """The lower half of a disc (a bowl seen from the side)."""
    return torch.maximum(_circle_sdf(x, y, cx, cy, r), cy - y)


def _below_sdf(x, y, y0):
    return (y0 - y).expand(-1, -1, x.shape[-1])


def _above_sdf(x, y, y0):
    return (y - y0).expand(-1, -1, x.shape[-1])


class _Shape:
    """A primitive: ``fn(x, y, **params)`` with (B,) parameters and a (B,)×4 bounding box."""

    def __init__(self, fn, bbox, **params):
        self.fn, self.bbox, self.params = fn, bbox, params

    def sub(self, idx: torch.Tensor) -> _Shape:
        return _Shape(self.fn, self.bbox[idx], **{k: v[idx] for k, v in self.params.items()})

    def __call__(self, x, y) -> torch.Tensor:
        return self.fn(x, y, **{k: _b(v) for k, v in self.params.items()})


class _Union:
    def __init__(self, *parts):
        self.parts = parts
        boxes = torch.stack([p.bbox for p in parts])
        self.bbox = torch.cat([boxes[..., :2].amin(0), boxes[..., 2:].amax(0)], dim=1)

    def sub(self, idx):
        return _Union(*(p.sub(idx) for p in self.parts))

    def __call__(self, x, y):
        d = self.parts[0](x, y)
        for part in self.parts[1:]:
            d = torch.minimum(d, part(x, y))
        return d


class _Select:
    """Per image, the shape ``options[choice[i]]``."""

    def __init__(self, choice, *options):
        self.choice, self.options = choice, options
        boxes = torch.stack([o.bbox for o in options])  # K×B×4
        self.bbox = boxes.gather(0, choice.view(1, -1, 1).expand(1, -1, 4))[0]

    def sub(self, idx):
        return _Select(self.choice[idx], *(o.sub(idx) for o in self.options))

    def __call__(self, x, y):
        d = self.options[-1](x, y)
        for k in range(len(self.options) - 2, -1, -1):
            d = torch.where(_b(self.choice == k), self.options[k](x, y), d)
        return d


def _bbox(x0, y0, x1, y1) -> torch.Tensor:
    return torch.stack(torch.broadcast_tensors(x0, y0, x1, y1), dim=1)


def _circle(cx, cy, r) -> _Shape:
    return _Shape(_circle_sdf, _bbox(cx - r, cy - r, cx + r, cy + r), cx=cx, cy=cy, r=r)


def _box(cx, cy, half_w, half_h, radius=None) -> _Shape:
    radius = torch.zeros_like(cx) if radius is None else radius + 0 * cx
    bbox = _bbox(cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    return _Shape(
        _box_sdf, bbox, cx=cx, cy=cy, half_w=half_w + 0 * cx, half_h=half_h + 0 * cx, radius=radius
    )


def _triangle(a, b, c) -> _Shape:
    xs, ys = torch.stack([a[0], b[0], c[0]]), torch.stack([a[1], b[1], c[1]])
    bbox = _bbox(xs.amin(0), ys.amin(0), xs.amax(0), ys.amax(0))
    return _Shape(_triangle_sdf, bbox, ax=a[0], ay=a[1], bx=b[0], by=b[1], cx=c[0], cy=c[1])


def _bowl(cx, cy, r) -> _Shape:
    return _Shape(_bowl_sdf, _bbox(cx - r, cy, cx + r, cy + r), cx=cx, cy=cy, r=r)


def _below(y0) -> _Shape:
    """The half-plane under the line y = y0 (ground, table top)."""
    return _Shape(_below_sdf, _bbox(-_FAR + 0 * y0, y0, _FAR + 0 * y0, _FAR + 0 * y0), y0=y0)


def _above(y0) -> _Shape:
    return _Shape(_above_sdf, _bbox(-_FAR + 0 * y0, -_FAR + 0 * y0, _FAR + 0 * y0, y0), y0=y0)


def _union(*parts) -> _Union:
    return _Union(*parts)


def _select(choice, *options) -> _Select:
    return _Select(choice, *options)


def _sub(v, idx):
    return v[idx] if isinstance(v, torch.Tensor) else v


# ------------------------------------------------------------------------------- the canvas
class _Canvas:
    """Paints layers back to front. A layer is a distance field d with a fill colour; its
    outline is the band |d| < w/2 around the boundary, its cel shadow the part of the shape that
    a step δ away from the light leaves, d(p − δl) > 0 (a crescent on the dark side), and a
    highlight the part that a step towards the light leaves. Every boundary is anti-aliased over
    one pixel: coverage = clamp(1/2 − d/pixel, 0, 1).

    The canvas is kept channels-last and flat, (B·H·W)×3, so a layer reads and writes only a
    window around its bounding box (the same window size for the batch, placed per image)."""

    def __init__(self, background, xs, ys, pixel: float, outline: float, shading: bool, light):
        n = background.shape[0]
        self.xs, self.ys, self.h, self.w = xs, ys, ys.numel(), xs.numel()
        self.pixel, self.half, self.shading = pixel, outline * pixel / 2, shading
        self.light = light
        self.rgb = background[:, None, :].expand(n, self.h * self.w, 3).reshape(-1, 3).clone()
        self.ink = torch.zeros(n * self.h * self.w, device=background.device)
        self.aspect = self.w / self.h

    def _cover(self, d: torch.Tensor) -> torch.Tensor:
        return (0.5 - d / self.pixel).clamp_(0, 1)

    def _window(self, lo: torch.Tensor, hi: torch.Tensor, offset: float, size: int):
        """Per image, the first pixel index of a window of the batch's common length that holds
        the pixels whose centres lie in [lo, hi]."""
        first = torch.ceil((lo + offset) / self.pixel - 0.5).clamp(0, size - 1).long()
        last = torch.floor((hi + offset) / self.pixel - 0.5).clamp(0, size - 1).long()
        length = int((last - first).clamp(min=0).max()) + 1
        return first.clamp(max=size - length), length

    def layer(self, shape, colour, *, enabled=None, outline=True, shadow=None, highlight=None):
        n = colour.shape[0]
        light = self.light
        idx = torch.arange(n, device=colour.device)
        if enabled is not None:
            idx = torch.nonzero(enabled).squeeze(1)
            if idx.numel() == 0:
                return
            if idx.numel() < n:
                shape, colour = shape.sub(idx), colour[idx]
                light = (light[0][idx], light[1][idx])
                shadow = None if shadow is None else tuple(_sub(v, idx) for v in shadow)
                highlight = None if highlight is None else tuple(_sub(v, idx) for v in highlight)
        half = self.half if outline else 0.0
        margin = half + self.pixel
        box = shape.bbox
        c0, wb = self._window(box[:, 0] - margin, box[:, 2] + margin, self.aspect, self.w)
        r0, hb = self._window(box[:, 1] - margin, box[:, 3] + margin, 1.0, self.h)
        cols = c0[:, None] + torch.arange(wb, device=c0.device)
        rows = r0[:, None] + torch.arange(hb, device=r0.device)
        x, y = self.xs[cols][:, None, :], self.ys[rows][:, :, None]

        d = shape(x, y)
        if half > 0:
            alpha, fill = self._cover(d - half), self._cover(d + half)
        else:
            alpha = fill = self._cover(d)
        tone, white = fill, None  # the pixel gets colour·tone + white
        if shadow is not None and self.shading:
            depth, factor = (_b(v) if isinstance(v, torch.Tensor) else v for v in shadow)
            dx, dy = depth * _b(light[0]), depth * _b(light[1])
            dark = self._cover(-shape(x - dx, y - dy))
            tone = tone * (1 - (1 - factor) * dark)
        if highlight is not None and self.shading:
            depth, amount = (_b(v) if isinstance(v, torch.Tensor) else v for v in highlight)
            dx, dy = depth * _b(light[0]), depth * _b(light[1])
            bright = amount * self._cover(-shape(x + dx, y + dy))
            tone, white = tone * (1 - bright), fill * bright

        flat = (idx[:, None, None] * self.h + rows[:, :, None]) * self.w + cols[:, None, :]
        flat = flat.reshape(-1)
        keep = (1 - alpha).reshape(-1, 1)
        rgb = self.rgb[flat] * keep + colour.repeat_interleave(hb * wb, 0) * tone.reshape(-1, 1)
        if white is not None:
            rgb = rgb + white.reshape(-1, 1)
        self.rgb[flat] = rgb
        self.ink[flat] = self.ink[flat] * keep[:, 0] + (alpha - fill).reshape(-1)

    def images(self) -> torch.Tensor:
        n = self.rgb.shape[0] // (self.h * self.w)
        return self.rgb.view(n, self.h, self.w, 3).permute(0, 3, 1, 2).clamp(0, 1)

    def outlines(self) -> torch.Tensor:
        n = self.ink.shape[0] // (self.h * self.w)
        return self.ink.view(n, 1, self.h, self.w).clamp(0, 1)


# ---------------------------------------------------------------------------------- scenes
_SKY_BLUE, _SKY_WARM = (
    ((0.53, 0.6), (0.25, 0.55), (0.85, 1.0)),
    ((0.02, 0.1), (0.25, 0.5), (0.9, 1)),
)
_GREEN = ((0.22, 0.38), (0.4, 0.75), (0.45, 0.85))
_BROWN = ((0.05, 0.09), (0.45, 0.7), (0.3, 0.5))


def _sky(c: _Draws, n_clouds: int, horizon, sun_p: float, canvas_args) -> _Canvas:
    """Sky (blue, or warm at dusk) with a darker upper band, the sun on the lit side, clouds."""
    warm = c.coin(0.2)
    sky = torch.where(warm[:, None], c.colour(*_SKY_WARM), c.colour(*_SKY_BLUE))
    angle = c.uniform(0.2 * math.pi, 0.8 * math.pi)  # the light comes from above, left or right
    light = (torch.cos(angle), -torch.sin(angle))
    canvas = _Canvas(sky, *canvas_args, light=light)
    aspect = canvas.aspect
    band = c.uniform(-0.75, -0.35)
    canvas.layer(_above(band), sky * 0.88, enabled=c.coin(0.6), outline=False)
    sun_r = c.uniform(0.09, 0.17)
    sun_x = light[0] * aspect * c.uniform(0.45, 0.85)
    sun_y = torch.minimum(c.uniform(-0.85, -0.45), horizon - sun_r - 0.1)
    sun = c.colour((0.1, 0.15), (0.6, 0.9), (0.95, 1.0))
    canvas.layer(_circle(sun_x, sun_y, sun_r), sun, enabled=c.coin(sun_p))
    for _ in range(n_clouds):
        on, s = c.coin(0.55), c.uniform(0.06, 0.12)
        cx, cy = c.uniform(-aspect, aspect), torch.minimum(c.uniform(-0.85, -0.3), horizon - 0.25)
        puffs = _union(
            _circle(cx - 1.1 * s, cy + 0.25 * s, s),
            _circle(cx + 0.05 * s, cy - 0.25 * s, 1.35 * s),
            _circle(cx + 1.15 * s, cy + 0.3 * s, 0.9 * s),
            _box(cx, cy + 0.7 * s, 1.9 * s, 0.55 * s, 0.5 * s),
        )
        white = c.colour((0.0, 1.0), (0.0, 0.06), (0.96, 1.0))
        canvas.layer(puffs, white, enabled=on, shadow=(0.45 * s, 0.85))
    return canvas


def _hills(c: _Draws, canvas: _Canvas, horizon, count: int, p: float) -> None:
    aspect = canvas.aspect
    for k in range(count):
        on = c.coin(1.0 if k == 0 else p)
        r = c.uniform(0.45, 1.1)
        cx, cy = c.uniform(-1.1 * aspect, 1.1 * aspect), horizon + r * c.uniform(0.55, 0.92)
        green = c.colour((0.2, 0.42), (0.3, 0.6), (0.55, 0.85))
        canvas.layer(_circle(cx, cy, r), green, enabled=on, shadow=(0.12 * r, 0.8))


def _ground(c: _Draws, canvas: _Canvas, horizon) -> None:
    sand = c.coin(0.2)
    colour = torch.where(
        sand[:, None], c.colour((0.1, 0.14), (0.3, 0.5), (0.75, 0.9)), c.colour(*_GREEN)
    )
    canvas.layer(_below(horizon), colour)


def _perspective(base_y, horizon) -> torch.Tensor:
    """Size factor of an object standing at ``base_y``: things lower in the frame are nearer."""
    return 0.55 + 0.75 * ((base_y - horizon) / (1 - horizon).clamp(min=0.1)).clamp(0, 1)


def _sorted_slots(c: _Draws, count: int, always: int, p: float, lo, hi) -> tuple:
    """Enable flags and base heights of ``count`` objects, sorted far (high) to near (low)."""
    on = torch.stack([c.coin(1.0 if k < always else p) for k in range(count)], 1)
    base = torch.stack([c.uniform(lo, hi) for _ in range(count)], 1)
    order = torch.argsort(base, dim=1)
    return on.gather(1, order), base.gather(1, order)


def _tree(c: _Draws, canvas: _Canvas, on, base_x, base_y, height, conifer_p: float) -> None:
    h = height
    conifer = c.coin(conifer_p)
    trunk = _box(base_x, base_y - 0.2 * h, 0.055 * h, 0.2 * h)
    canvas.layer(trunk, c.colour(*_BROWN), enabled=on, shadow=(0.05 * h, 0.75))
    round_crown = _union(
        _circle(base_x - 0.17 * h, base_y - 0.58 * h, 0.2 * h),
        _circle(base_x + 0.17 * h, base_y - 0.6 * h, 0.19 * h),
        _circle(base_x + 0.02 * h * c.uniform(-1, 1), base_y - 0.78 * h, 0.24 * h),
    )
    tiers = _union(
        _triangle(
            (base_x - 0.3 * h, base_y - 0.25 * h),
            (base_x + 0.3 * h, base_y - 0.25 * h),
            (base_x, base_y - 0.75 * h),
        ),
        _triangle(
            (base_x - 0.23 * h, base_y - 0.55 * h),
            (base_x + 0.23 * h, base_y - 0.55 * h),
            (base_x, base_y - 1.0 * h),
        ),
    )
    green = c.colour((0.22, 0.4), (0.45, 0.8), (0.35, 0.75))
    lit = c.coin(0.5)
    canvas.layer(
        _select(conifer.long(), round_crown, tiers),
        green,
        enabled=on,
        shadow=(0.1 * h, 0.72),
        highlight=(0.05 * h, 0.3 * lit.float()),
    )


def _countryside(c: _Draws, canvas_args) -> _Canvas:
    horizon = c.uniform(0.0, 0.4)
    canvas = _sky(c, 3, horizon, 0.75, canvas_args)
    _hills(c, canvas, horizon, 3, 0.7)
    _ground(c, canvas, horizon)
    aspect = canvas.aspect
    on, base = _sorted_slots(c, 3, 0, 0.6, horizon + 0.05, torch.full_like(horizon, 0.95))
    for k in range(3):
        h = c.uniform(0.35, 0.6) * _perspective(base[:, k], horizon)
        _tree(c, canvas, on[:, k], c.uniform(-0.9 * aspect, 0.9 * aspect), base[:, k], h, 0.3)
    return canvas


def _village(c: _Draws, canvas_args) -> _Canvas:
    horizon = c.uniform(0.05, 0.4)
    canvas = _sky(c, 2, horizon, 0.6, canvas_args)
    _hills(c, canvas, horizon, 1, 0.0)
    _ground(c, canvas, horizon)
    aspect = canvas.aspect
    tree_on, tree_x = c.coin(0.5), c.uniform(-0.9 * aspect, 0.9 * aspect)
    _tree(c, canvas, tree_on, tree_x, horizon + 0.03, c.uniform(0.3, 0.45), 0.5)
    on, base = _sorted_slots(c, 3, 1, 0.55, horizon + 0.12, torch.full_like(horizon, 0.95))
    for k in range(3):
        scale = _perspective(base[:, k], horizon)
        x, by = c.uniform(-0.75 * aspect, 0.75 * aspect), base[:, k]
        w = c.uniform(0.38, 0.62) * scale
        wall_h, roof_h = w * c.uniform(0.55, 0.85), w * c.uniform(0.35, 0.6)
        eave = by - wall_h
        wall = c.colour((0.0, 1.0), (0.15, 0.45), (0.75, 0.95))
        canvas.layer(
            _box(x, by - wall_h / 2, w / 2, wall_h / 2),
            wall,
            enabled=on[:, k],
            shadow=(0.12 * w, 0.78),
        )
        red = c.coin(0.65)
        roof = torch.where(
            red[:, None],
            c.colour((0.98, 1.06), (0.5, 0.8), (0.5, 0.8)),
            c.colour((0.55, 0.68), (0.35, 0.6), (0.4, 0.65)),
        )
        roof_sdf = _triangle((x - 0.6 * w, eave), (x + 0.6 * w, eave), (x, eave - roof_h))
        canvas.layer(roof_sdf, roof, enabled=on[:, k], shadow=(0.1 * w, 0.75))
        door_x = x + w * c.uniform(-0.1, 0.1)
        canvas.layer(
            _box(door_x, by - 0.21 * wall_h, 0.09 * w, 0.21 * wall_h),
            c.colour(*_BROWN),
            enabled=on[:, k],
        )
        glass = c.colour((0.12, 0.6), (0.15, 0.45), (0.85, 1.0))
        for side in (-1, 1):
            canvas.layer(
                _box(x + side * 0.3 * w, by - 0.68 * wall_h, 0.09 * w, 0.09 * w),
                glass,
                enabled=on[:, k],
            )
    return canvas


def _forest(c: _Draws, canvas_args) -> _Canvas:
    horizon = c.uniform(-0.1, 0.3)
    canvas = _sky(c, 1, horizon, 0.5, canvas_args)
    _hills(c, canvas, horizon, 2, 0.6)
    _ground(c, canvas, horizon)
    aspect = canvas.aspect
    on, base = _sorted_slots(c, 6, 2, 0.7, horizon + 0.02, torch.full_like(horizon, 0.98))
    for k in range(6):
        h = c.uniform(0.35, 0.65) * _perspective(base[:, k], horizon)
        _tree(c, canvas, on[:, k], c.uniform(-0.95 * aspect, 0.95 * aspect), base[:, k], h, 0.6)
    return canvas


def _still_life(c: _Draws, canvas_args) -> _Canvas:
    wall = c.colour((0.0, 1.0), (0.1, 0.35), (0.75, 0.95))
    angle = c.uniform(0.2 * math.pi, 0.8 * math.pi)
    canvas = _Canvas(wall, *canvas_args, light=(torch.cos(angle), -torch.sin(angle)))
    aspect = canvas.aspect
    top = c.uniform(0.05, 0.35)
    # A framed picture on the wall: an outlined frame and an inner canvas of another colour.
    fx, fy, fw = c.uniform(-0.5 * aspect, 0.5 * aspect), c.uniform(-0.6, -0.4), c.uniform(0.2, 0.35)
    frame_on = c.coin(0.5)
    canvas.layer(_box(fx, fy, fw, 0.7 * fw), c.colour(*_BROWN), enabled=frame_on)
    canvas.layer(
        _box(fx, fy, 0.8 * fw, 0.52 * fw),
        c.colour((0.0, 1.0), (0.2, 0.5), (0.6, 0.9)),
        enabled=frame_on,
    )
    wood = c.colour((0.05, 0.1), (0.35, 0.6), (0.5, 0.75))
    canvas.layer(_below(top), wood)
    canvas.layer(_below(top + c.uniform(0.2, 0.3)), wood * 0.75)  # the table's front edge
    on, base = _sorted_slots(c, 4, 2, 0.6, top + 0.03, top + 0.18)
    for k in range(4):
        by, x, s = base[:, k], c.uniform(-0.8 * aspect, 0.8 * aspect), c.uniform(0.16, 0.3)
        kind = (c.uniform(0, 4).long()).clamp(max=3)
        fruit = _circle(x, by - s, s)
        box = _box(x, by - 0.8 * s, 0.9 * s, 0.8 * s, 0.06 * s)
        bottle = _union(
            _box(x, by - 0.9 * s, 0.6 * s, 0.9 * s, 0.25 * s),
            _box(x, by - 2.1 * s, 0.2 * s, 0.5 * s, 0.05 * s),
        )
        bowl = _bowl(x, by - 0.9 * s, 1.2 * s)
        colour = c.colour((0.0, 1.0), (0.5, 0.9), (0.6, 0.95))
        shine = c.coin(0.7) & (kind == 0)
        canvas.layer(
            _select(kind, fruit, box, bottle, bowl),
            colour,
            enabled=on[:, k],
            shadow=(0.3 * s, 0.7),
            highlight=(0.18 * s, 0.45 * shine.float()),
        )
    return canvas


_SCENES = {
    "countryside": _countryside,
    "village": _village,
    "forest": _forest,
    "still_life": _still_life,
}


# ---------------------------------------------------------------------------------- cartoons
def _hw(size) -> tuple[int, int]:
    if isinstance(size, bool) or not isinstance(size, int | tuple | list):
        raise TypeError(f"size: expected an int or (height, width), got {size!r}")
    hw = (size, size) if isinstance(size, int) else tuple(size)
    if len(hw) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in hw):
        raise ValueError(f"size: expected an int or (height, width) of ints, got {size!r}")
    if min(hw) < 16:
        raise ValueError(f"size: images must be at least 16×16 pixels, got {hw[0]}×{hw[1]}")
    return hw


def cartoons(
    n: int = 1000,
    *,
    size: int | tuple[int, int] = 64,
    seed: int = 0,
    outline: float | None = None,
    shading: bool = True,
    scenes: Sequence[str] | None = None,
    device: str | torch.device = "cpu",
    return_outlines: bool = False,
) -> ImageSet | tuple[ImageSet, torch.Tensor]:
    """``n`` procedural cartoon scenes as N×3×H×W floats in [0, 1], labelled by scene type.

    What makes a cartoon (CartoonGAN §1, §3): flat colours, clear edges, smooth shading, little
    texture. Every shape is a signed distance field d (negative inside) rendered with

    * fill where d < −w/2 and a black outline where |d| < w/2 (w = ``outline`` pixels), each
      anti-aliased over one pixel: coverage = clamp(1/2 − d/pixel, 0, 1);
    * cel shading: a darker tone (×0.7–0.85) on the part of the shape that a step δ away from
      the light leaves, d(p − δ·l) > 0, and on some shapes a lighter tone on the lit side, so a
      shape has two or three flat tones;
    * no texture at all: inside a tone every pixel has exactly the same colour.

    Scene types (labels index ``SCENE_TYPES``): ``countryside`` (sky, sun, clouds, hills, trees),
    ``village`` (houses with roofs, doors and windows), ``forest`` (round and conifer trees),
    ``still_life`` (objects built from primitives on a table). All random numbers of image k
    come from a generator seeded with ``(seed, k)`` (drawn on the CPU), and scenes are drawn in
    resolution-independent units, so image k is the same for any ``n``, any device, and (up to
    the pixel grid) any ``size``. 1,000 images of 64×64 take about a second on two CPU cores.

    Args:
        n: number of images.
        size: side in pixels, or (height, width); at least 16.
        seed: the random seed.
        outline: outline width in pixels; ``None`` gives height / 48 (1.33 px at 64², 2.67 px
            at 128²), so the scene looks the same at every size. 0 draws no outlines.
        shading: False paints every shape in one flat tone.
        scenes: the scene types to draw from (uniformly), ``SCENE_TYPES`` by default.
        device: where to render (``"auto"`` picks CUDA when present).
        return_outlines: also return the N×1×H×W fraction of each pixel covered by visible
            outline ink (the exact outline mask, for testing edge detectors).
    """
    check_positive_int(n, "n")
    height, width = _hw(size)
    if outline is None:
        outline = height / 48
    if isinstance(outline, bool) or not isinstance(outline, int | float):
        raise TypeError(f"outline: expected a width in pixels, got {outline!r}")
    if not (math.isfinite(outline) and 0 <= outline <= height / 4):
        raise ValueError(
            f"outline: expected a width in [0, {height / 4:g}] pixels, got {outline!r}"
        )
    if not isinstance(shading, bool):
        raise TypeError(f"shading: expected True or False, got {shading!r}")
    names = SCENE_TYPES if scenes is None else tuple(scenes)
    if isinstance(scenes, str):
        raise TypeError(f"scenes: expected a sequence of names, e.g. ({scenes!r},)")
    if not names:
        raise ValueError("scenes: give at least one scene type")
    for name in names:
        check_choice(name, "scenes", SCENE_TYPES)
    device = resolve_device(device)

    u = _image_uniforms(seed, n)
    labels = torch.tensor([SCENE_TYPES.index(s) for s in names])[
        (u[:, 0] * len(names)).long().clamp(max=len(names) - 1)
    ]
    aspect = width / height
    ys = (torch.arange(height, dtype=torch.float32, device=device) * 2 + 1) / height - 1
    xs = ((torch.arange(width, dtype=torch.float32, device=device) * 2 + 1) / width - 1) * aspect
    canvas_args = (xs, ys, 2.0 / height, float(outline), shading)

    images = torch.empty(n, 3, height, width, device=device)
    ink = torch.empty(n, 1, height, width, device=device) if return_outlines else None
    chunk = max(1, _PIXELS_PER_CHUNK // (height * width))
    for label in torch.unique(labels).tolist():
        idx = torch.nonzero(labels == label).squeeze(1)
        for start in range(0, idx.numel(), chunk):
            part = idx[start : start + chunk]
            draws = _Draws(u[part, 1:].to(device))
            canvas = _SCENES[SCENE_TYPES[label]](draws, canvas_args)
            images[part.to(device)] = canvas.images()
            if ink is not None:
                ink[part.to(device)] = canvas.outlines()
    info = {"seed": seed, "outline": float(outline), "shading": shading, "scenes": names}
    result = ImageSet(images, labels.to(device), SCENE_TYPES, "cartoons", info)
    return (result, ink) if return_outlines else result


# ------------------------------------------------------------------------------ edge smoothing
# CartoonGAN §3.2 and its reference implementations (the authors' and the widely used PyTorch /
# TensorFlow ports): cv2.Canny(grey, 100, 200) on the 8-bit grey image, cv2.dilate with a 5×5
# block of ones, and inside the dilated band each pixel replaced by its 5×5 Gaussian blur
# (cv2.getGaussianKernel(5, 0), borders reflected), at 256×256.
CANNY_THRESHOLDS = (100, 200)
DILATE_SIZE = 5
BLUR_SIZE = 5
_TG22 = 13573  # round(tan(22.5°) · 2^15), OpenCV's fixed-point direction test
_OPENCV_SMALL_GAUSSIANS = {
    1: (1.0,),
    3: (0.25, 0.5, 0.25),
    5: (0.0625, 0.25, 0.375, 0.25, 0.0625),
    7: (0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125),
    9: tuple(v / 256 for v in (4, 13, 30, 51, 60, 51, 30, 13, 4)),
}


def _check_odd(value, name: str, minimum: int = 1) -> int:
    check_positive_int(value, name, minimum)
    if value % 2 == 0:
        raise ValueError(f"{name}: expected an odd kernel size (3, 5, 7, …), got {value}")
    return value


def _check_thresholds(low, high) -> tuple[int, int]:
    for value, name in ((low, "low"), (high, "high")):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise TypeError(
                f"{name}: expected a finite number (0–255 grey-level units), got {value!r}"
            )
        if value < 0:
            raise ValueError(f"{name}: expected a threshold >= 0, got {value!r}")
    if low > high:
        raise ValueError(f"low: must not exceed high, got low={low!r} > high={high!r}")
    return math.floor(low), math.floor(high)


def _grey_levels(images: torch.Tensor) -> torch.Tensor:
    """N×1×H×W integer grey levels 0..255 (as float), as OpenCV's ``cvtColor(RGB2GRAY)``
    computes them: round to 8 bits, then Y = (9798 R + 19235 G + 3735 B + 2¹⁴) >> 15 (the
    BT.601 weights 0.299, 0.587, 0.114 in 15-bit fixed point; OpenCV 4 used 14 bits, which
    differs by one grey level on about 0.3 % of pixels)."""
    q = torch.round(images.float() * 255)
    if q.shape[1] == 1:
        return q
    weights = torch.tensor([9798.0, 19235.0, 3735.0], device=q.device).view(1, 3, 1, 1)
    return torch.floor(((q * weights).sum(1, keepdim=True) + 16384) / 32768)


def _sobel(grey: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """3×3 Sobel derivatives (x to the right, y down) with replicated borders, as cv2.Sobel:
    gx = [1, 2, 1]ᵀ ⊗ [−1, 0, 1], gy its transpose, computed separably from shifted slices."""
    p = F.pad(grey, (1, 1, 1, 1), mode="replicate")
    dx = p[..., :, 2:] - p[..., :, :-2]
    gx = dx[..., :-2, :] + 2 * dx[..., 1:-1, :] + dx[..., 2:, :]
    sy = p[..., :, :-2] + 2 * p[..., :, 1:-1] + p[..., :, 2:]
    return gx, sy[..., 2:, :] - sy[..., :-2, :]


def _as_images(images, name: str = "images", min_size: int = 3) -> torch.Tensor:
    if isinstance(images, ImageSet):
        images = images.images
    return check_images(images, name, channels=(1, 3), min_size=min_size)


def canny(
    images, low: float = CANNY_THRESHOLDS[0], high: float = CANNY_THRESHOLDS[1]
) -> torch.Tensor:
    """Canny edges of a batch, as ``cv2.Canny(grey, low, high)`` gives them (N×1×H×W bool).

    Batched torch, so it runs on the GPU, and written to give OpenCV's edges pixel for pixel:

    1. grey = the 8-bit BT.601 luma OpenCV computes (colour images) or the 8-bit image;
    2. gx, gy = 3×3 Sobel derivatives (replicated borders); magnitude m = |gx| + |gy| (L1, the
       default of cv2.Canny);
    3. non-maximum suppression along the gradient quantised to 0°, 45°, 90° or 135° (OpenCV's
       fixed-point test |gy|·2¹⁵ < |gx|·13573, i.e. tan 22.5°; magnitude 0 outside the image);
       pixels with m > low that survive are candidates, those with m > high are strong;
    4. hysteresis: a candidate is an edge when a chain of 8-connected candidates joins it to a
       strong pixel — found by iterated 3×3 dilation of the edge set inside the candidates
       until nothing changes.

    Thresholds are in OpenCV's units (the Sobel magnitude of 0–255 grey levels; compared as
    m > ⌊low⌋ and m > ⌊high⌋). CartoonGAN uses (100, 200).
    """
    x = _as_images(images)
    lo, hi = _check_thresholds(low, high)
    return _canny(x, lo, hi)


def _canny(x: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
    gx, gy = _sobel(_grey_levels(x))
    gx, gy = gx.to(torch.int32), gy.to(torch.int32)
    ax, ay = gx.abs(), gy.abs()
    m = ax + ay
    p = F.pad(m, (1, 1, 1, 1))  # zero magnitude outside the image

    def at(dy: int, dx: int) -> torch.Tensor:
        h, w = m.shape[-2:]
        return p[..., 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]

    tg22 = ax * _TG22
    ys = ay * (1 << 15)
    horizontal = ys < tg22
    vertical = ys > tg22 + ax * (1 << 16)
    same_sign = (gx ^ gy) >= 0  # gradient along the main diagonal (down-right or up-left)
    keep_h = (m > at(0, -1)) & (m >= at(0, 1))
    keep_v = (m > at(-1, 0)) & (m >= at(1, 0))
    keep_d = torch.where(
        same_sign, (m > at(-1, -1)) & (m > at(1, 1)), (m > at(-1, 1)) & (m > at(1, -1))
    )
    peak = torch.where(horizontal, keep_h, torch.where(vertical, keep_v, keep_d))
    candidate = peak & (m > lo)
    edges = candidate & (m > hi)
    active = torch.arange(edges.shape[0], device=edges.device)
    while active.numel():  # only images whose edge set still grows
        before = edges[active]
        grown = _dilate(before, 3) & candidate[active]
        edges[active] = grown
        active = active[(grown != before).flatten(1).any(1)]
    return edges


def _dilate(mask: torch.Tensor, size: int) -> torch.Tensor:
    """Binary dilation of an N×1×H×W bool mask with a size×size block of ones (as cv2.dilate:
    nothing outside the image), separable: an OR of shifted copies along rows, then columns."""
    r = size // 2
    if r == 0:
        return mask.clone()
    h, w = mask.shape[-2:]
    p = F.pad(mask.to(torch.uint8), (r, r, 0, 0))
    rows = p[..., :, 0:w].clone()
    for i in range(1, 2 * r + 1):
        rows |= p[..., :, i : i + w]
    p = F.pad(rows, (0, 0, r, r))
    out = p[..., 0:h, :].clone()
    for i in range(1, 2 * r + 1):
        out |= p[..., i : i + h, :]
    return out.bool()


def edge_band(
    images,
    *,
    low: float = CANNY_THRESHOLDS[0],
    high: float = CANNY_THRESHOLDS[1],
    dilate: int = DILATE_SIZE,
) -> torch.Tensor:
    """The dilated Canny edge mask: ``cv2.dilate(cv2.Canny(grey, low, high), ones(dilate,
    dilate))`` for a batch (N×1×H×W bool). CartoonGAN: (100, 200), 5×5."""
    x = _as_images(images)
    _check_odd(dilate, "dilate")
    return _dilate(_canny(x, *_check_thresholds(low, high)), dilate)


def opencv_gaussian_kernel(size: int) -> torch.Tensor:
    """``cv2.getGaussianKernel(size, 0)`` (float64, sums to 1): OpenCV's fixed tables for sizes
    1, 3, 5, 7, 9 (size 5 is the binomial [1, 4, 6, 4, 1]/16) and otherwise a Gaussian with
    σ = 0.3·((size − 1)/2 − 1) + 0.8."""
    _check_odd(size, "size")
    if size in _OPENCV_SMALL_GAUSSIANS:
        return torch.tensor(_OPENCV_SMALL_GAUSSIANS[size], dtype=torch.float64)
    sigma = 0.3 * ((size - 1) * 0.5 - 1) + 0.8
    t = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(t**2) / (2 * sigma**2))
    return g / g.sum()


def gaussian_blur(images, size: int = BLUR_SIZE) -> torch.Tensor:
    """Blur every channel with OpenCV's size×size Gaussian (:func:`opencv_gaussian_kernel`),
    separably (a weighted sum of shifted copies along rows, then along columns, for the whole
    batch at once) with mirrored borders (``BORDER_REFLECT_101``, numpy's ``mode="reflect"``), as
    CartoonGAN's reference code does. Images need more than size // 2 pixels per side."""
    _check_odd(size, "size")
    x = _as_images(images, min_size=size // 2 + 1)
    return _blur(x, size)


def _blur(x: torch.Tensor, size: int) -> torch.Tensor:
    r = size // 2
    if r == 0:
        return x.clone()
    g = opencv_gaussian_kernel(size).tolist()
    h, w = x.shape[-2:]
    p = F.pad(x, (r, r, 0, 0), mode="reflect")
    rows = g[0] * p[..., :, 0:w]
    for i in range(1, size):
        rows = rows + g[i] * p[..., :, i : i + w]
    p = F.pad(rows, (0, 0, r, r), mode="reflect")
    out = g[0] * p[..., 0:h, :]
    for i in range(1, size):
        out = out + g[i] * p[..., i : i + h, :]
    return out


def edge_smooth(
    images,
    *,
    low: float = CANNY_THRESHOLDS[0],
    high: float = CANNY_THRESHOLDS[1],
    dilate: int = DILATE_SIZE,
    blur: int = BLUR_SIZE,
    return_mask: bool = False,
):
    """CartoonGAN's edge-smoothed cartoons (Chen, Lai & Liu 2018, §3.2): the negatives that teach
    the discriminator that a cartoon has *clear* edges.

    m = dilate(Canny(x, low, high), dilate×dilate) (:func:`edge_band`), and

        x_smooth = m · blur(x) + (1 − m) · x,

    with blur = OpenCV's blur×blur Gaussian (:func:`gaussian_blur`). The reference code's
    parameters are the defaults: Canny (100, 200) on the 8-bit grey image, a 5×5 dilation, a
    5×5 Gaussian (cv2.getGaussianKernel(5, 0) = binomial [1, 4, 6, 4, 1]/16, σ = 1), reflected
    borders; the authors work at 256×256. One blur of the whole batch and a mask replace the
    reference code's per-pixel loop; pixels outside the band are returned unchanged, bit for bit.

    Args:
        images: N×C×H×W floats in [0, 1] (C = 1 or 3), or an ImageSet (then an ImageSet with the
            same labels is returned).
        low, high: Canny thresholds in OpenCV's units (see :func:`canny`).
        dilate, blur: odd kernel sizes.
        return_mask: also return the band m (N×1×H×W bool).
    """
    source = images if isinstance(images, ImageSet) else None
    x = _as_images(images, min_size=3)
    lo, hi = _check_thresholds(low, high)
    _check_odd(dilate, "dilate")
    _check_odd(blur, "blur")
    if blur // 2 >= min(x.shape[-2:]):
        raise ValueError(
            f"blur: a {blur}×{blur} kernel needs images larger than {blur // 2} pixels, got "
            f"{x.shape[-2]}×{x.shape[-1]}"
        )
    mask = _dilate(_canny(x, lo, hi), dilate)
    smooth = torch.where(mask, _blur(x, blur), x)
    if source is not None:
        info = {
            **source.info,
            "edge_smooth": {"low": low, "high": high, "dilate": dilate, "blur": blur},
        }
        smooth = ImageSet(
            smooth, source.labels, source.class_names, f"{source.name}-smoothed", info
        )
    return (smooth, mask) if return_mask else smooth


# ------------------------------------------------------------------------------- measurements
def gradient_magnitude(images) -> torch.Tensor:
    """|∇Y| per pixel (N×1×H×W) of the luma Y = 0.299 R + 0.587 G + 0.114 B: the 3×3 Sobel
    derivatives divided by 8, so a ramp rising by g per pixel has magnitude g, with replicated
    borders."""
    return _gradient_magnitude(_as_images(images))


def _gradient_magnitude(x: torch.Tensor) -> torch.Tensor:
    if x.shape[1] == 3:
        grey = (
            x * torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        ).sum(1, keepdim=True)
    else:
        grey = x
    gx, gy = _sobel(grey)
    return torch.sqrt(gx**2 + gy**2) / 8


def _mask_for(x: torch.Tensor, mask, name: str) -> torch.Tensor:
    if mask is None:
        return _dilate(_canny(x, *_check_thresholds(*CANNY_THRESHOLDS)), DILATE_SIZE)
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


def texture_energy(images, band: torch.Tensor | None = None) -> torch.Tensor:
    """Per image, the mean gradient magnitude (:func:`gradient_magnitude`) *away from edges*:
    over the pixels outside ``band`` (default: the image's own dilated Canny band,
    :func:`edge_band`). Flat cel-shaded regions give ~0; photos' texture does not. NaN for an
    image whose band covers everything."""
    x = _as_images(images)
    return _masked_mean(_gradient_magnitude(x), ~_mask_for(x, band, "band"))


def edge_sharpness(images, edges: torch.Tensor | None = None) -> torch.Tensor:
    """Per image, the mean over edge pixels of the largest gradient magnitude within one pixel
    (3×3 maximum of :func:`gradient_magnitude`): a clear edge jumps within a pixel, a blurred one
    spreads the same jump over several, so its peak gradient is lower. ``edges`` (N×1×H×W bool)
    defaults to the image's own Canny edges; pass the *original* image's edges to compare an
    image with its smoothed or generated version on the same pixels. NaN where there are none."""
    x = _as_images(images)
    mask = _canny(x, *CANNY_THRESHOLDS) if edges is None else _mask_for(x, edges, "edges")
    peak = F.max_pool2d(_gradient_magnitude(x), 3, stride=1, padding=1)
    return _masked_mean(peak, mask)


def colour_count(images, *, levels: int = 32, min_share: float = 0.002) -> torch.Tensor:
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


# ----------------------------------------------------------------------------- unpaired sides
def _side(data, name: str) -> tuple[tuple[torch.Tensor, ...], bool]:
    """A side of the unpaired data as a tuple of aligned tensors, and whether it was one."""
    if isinstance(data, ImageSet):
        return (data.images,), True
    if isinstance(data, torch.Tensor):
        return (data,), True
    if isinstance(data, tuple | list) and data and all(isinstance(t, torch.Tensor) for t in data):
        lengths = {t.shape[0] for t in data}
        if len(lengths) != 1:
            raise ValueError(
                f"{name}: the aligned tensors must have the same length, got "
                f"{[t.shape[0] for t in data]}"
            )
        return tuple(data), False
    raise TypeError(
        f"{name}: expected an ImageSet, a tensor or a tuple of aligned tensors, got "
        f"{type(data).__name__}"
    )


def unpaired_batches(
    a,
    b,
    *,
    batch_size: int = 8,
    seed: int = 0,
    epochs: int | None = 1,
    drop_last: bool = True,
) -> Iterator[tuple]:
    """Batches of two *unpaired* sides, e.g. photos and cartoons: ``(batch_a, batch_b)``.

    Each side is shuffled with its own generator (seeded by ``(seed, 0)`` and ``(seed, 1)``)
    every epoch, so which photo meets which cartoon is random and changes between epochs. A side
    may be an ImageSet or a tensor (a batch is a tensor) or a tuple of aligned tensors that are
    indexed together (a batch is a tuple): CartoonGAN draws ``(cartoons, edge_smooth(cartoons))``
    as one side, so a cartoon and its smoothed copy stay together. An epoch has
    min(len a, len b) / batch_size batches (the longer side is subsampled; the last, short batch
    is dropped unless ``drop_last=False``). ``epochs=None`` repeats forever.
    """
    side_a, single_a = _side(a, "a")
    side_b, single_b = _side(b, "b")
    check_positive_int(batch_size, "batch_size")
    if epochs is not None:
        check_positive_int(epochs, "epochs")
    n = min(side_a[0].shape[0], side_b[0].shape[0])
    if n == 0:
        raise ValueError("a, b: both sides need at least one image")
    if drop_last and n < batch_size:
        raise ValueError(
            f"batch_size: {batch_size} is more than the shorter side has ({n}); lower it or pass "
            "drop_last=False"
        )
    gens = []
    for k in range(2):
        state = np.random.SeedSequence([int(seed) & (2**63 - 1), k]).generate_state(2, np.uint32)
        gens.append(torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1])))

    def pick(side, order):
        return tuple(t[order.to(t.device)] for t in side)

    epoch = 0
    while epochs is None or epoch < epochs:
        order_a = torch.randperm(side_a[0].shape[0], generator=gens[0])
        order_b = torch.randperm(side_b[0].shape[0], generator=gens[1])
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            batch_a = pick(side_a, order_a[start : start + batch_size])
            batch_b = pick(side_b, order_b[start : start + batch_size])
            yield (
                batch_a[0] if single_a else batch_a,
                batch_b[0] if single_b else batch_b,
            )
        epoch += 1


def unpaired_folders(
    cartoon_dir: str | Path,
    photo_dir: str | Path,
    *,
    size: int | tuple[int, int] = 256,
    crop: bool = True,
    recursive: bool = True,
    skip_bad: bool = False,
) -> tuple[ImageSet, ImageSet]:
    """A user's own unpaired data: cartoon (e.g. anime) frames from one folder and photos from
    another, both as N×3×H×W floats in [0, 1] at one size, through
    :func:`lib.datasets.image_folder`. With ``crop`` (default) each image is centre-cropped to
    the target aspect ratio before resizing, so nothing is stretched (CartoonGAN trains on
    256×256). Labels are dropped: the two sides are unpaired and unlabelled."""
    if isinstance(size, bool) or not isinstance(size, int | tuple | list):
        raise TypeError(f"size: expected an int or (height, width), got {size!r}")
    sets = []
    for path, name in ((cartoon_dir, "cartoons"), (photo_dir, "photos")):
        s = image_folder(
            path, size=size, crop=crop, mode="RGB", recursive=recursive, skip_bad=skip_bad
        )
        sets.append(ImageSet(s.images, None, (), name, {**s.info, "path": str(path)}))
    return sets[0], sets[1]
