"""Drawing tools of the procedural cartoons: per-image random numbers seeded by ``(seed, k)``,
signed distance fields of batched primitives with bounding boxes, and the canvas that paints
them with outlines and cel shading.
"""

from __future__ import annotations

import numpy as np
import torch

_UNIFORMS = 320  # random numbers per image; every scene consumes a fixed prefix of them


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

    def edge(i: int) -> tuple[torch.Tensor, torch.Tensor]:
        # squared distance to edge i, and the signed side of it
        vx, vy = x - pts[i][0], y - pts[i][1]
        t = ((vx * ex[i] + vy * ey[i]) / (ex[i] ** 2 + ey[i] ** 2)).clamp(0, 1)
        d2 = (vx - ex[i] * t) ** 2 + (vy - ey[i] * t) ** 2
        return d2, orient * (vx * ey[i] - vy * ex[i])

    dist2, side = edge(0)
    for i in (1, 2):
        d2, s = edge(i)
        dist2, side = torch.minimum(dist2, d2), torch.minimum(side, s)
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
