"""Drawing tools of the procedural scenes: per-image random numbers seeded by ``(seed, k)``,
signed distance fields of batched primitives with bounding boxes, and the canvas that paints
the shapes either as a cartoon (outlines, cel shading) or as a photo (texture, continuous light,
soft shadows, lens and sensor; the noise and materials are in
:mod:`~lib.datasets.cartoon.photo_style`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from lib.datasets.cartoon.photo_style import (
    _AMBIENT,
    _CAST,
    _ELEVATION,
    _GOLDEN,
    _HAZE,
    _KNEE,
    _MATERIALS,
    _SHININESS,
    _VIGNETTE,
    _fractal,
    _hash,
    _Material,
    _smooth,
)

_UNIFORMS = 320  # random numbers per image; every scene consumes a fixed prefix of them


# ------------------------------------------------------------------------------ random numbers
def _image_uniforms(seed: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n×_UNIFORMS uniforms and n 32-bit keys (int64); row k comes from its own generator, and
    key k is the next word of the same seed sequence ``(seed, k)``, so an image does not depend
    on how many others are drawn. The uniforms place the shapes; the keys seed the photo style's
    texture and noise, so the two styles share every shape."""
    rows, keys = [], []
    for k in range(n):
        state = np.random.SeedSequence([int(seed) & (2**63 - 1), k]).generate_state(3, np.uint32)
        gen = torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))
        rows.append(torch.rand(_UNIFORMS, generator=gen))
        keys.append(int(state[2]))
    return torch.stack(rows), torch.tensor(keys, dtype=torch.int64)


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


@dataclass(frozen=True)
class _Frame:
    """What every canvas of one render shares: pixel centres (``xs``, ``ys``) and size in units,
    the style (``"cartoon"``: outline width in pixels, cel shading on or off; ``"photo"``: lens
    blur σ and sensor noise σ) and, for the photo style, each image's 32-bit key (``keys``, one
    per image of the chunk, from ``(seed, k)``). ``regions`` asks the canvas to record which
    layer covers each pixel (the same in both styles)."""

    xs: torch.Tensor
    ys: torch.Tensor
    pixel: float
    style: str = "cartoon"
    outline: float = 0.0
    shading: bool = True
    blur: float = 0.0
    noise: float = 0.0
    keys: torch.Tensor | None = None
    regions: bool = False


# ------------------------------------------------------------------------------- the canvas
class _Canvas:
    """Paints layers back to front, as a cartoon or as a photo (``frame.style``).

    Cartoon: a layer is a distance field d with a fill colour; its outline is the band
    |d| < w/2 around the boundary, its cel shadow the part of the shape that a step δ away from
    the light leaves, d(p − δl) > 0 (a crescent on the dark side), and a highlight the part that
    a step towards the light leaves. Every boundary is anti-aliased over one pixel:
    coverage = clamp(1/2 − d/pixel, 0, 1).

    Photo (:meth:`_photo_layer`): the same shapes and colours, no outlines; the colour is
    modulated by fractal noise of the layer's material, lit continuously (Lambert and
    Blinn-Phong on a dome-shaped surface over the shape), and the shape casts a soft shadow;
    :meth:`images` adds lens fall-off, a tone curve, lens blur and sensor noise.

    The canvas is kept channels-last and flat, (B·H·W)×3, so a layer reads and writes only a
    window around its bounding box (the same window size for the batch, placed per image)."""

    def __init__(self, background, frame: _Frame, light, material: str = "sky"):
        n = background.shape[0]
        self.frame, self.style = frame, frame.style
        self.xs, self.ys, self.h, self.w = frame.xs, frame.ys, frame.ys.numel(), frame.xs.numel()
        self.pixel, self.shading = frame.pixel, frame.shading
        self.half = frame.outline * frame.pixel / 2
        self.light = light
        self.aspect = self.w / self.h
        self.count = 1  # layer numbers start at 1; 0 is the background
        device = background.device
        self.regions = (
            torch.zeros(n * self.h * self.w, dtype=torch.int32, device=device)
            if frame.regions
            else None
        )
        if self.style == "photo":
            self.rgb = self._photo_background(background, _MATERIALS[material])
            solid = float(_MATERIALS[material].solid)
            self.solid = torch.full((n * self.h * self.w,), solid, device=device)
        else:
            self.rgb = background[:, None, :].expand(n, self.h * self.w, 3).reshape(-1, 3).clone()
        self.ink = torch.zeros(n * self.h * self.w, device=device)

    def _cover(self, d: torch.Tensor) -> torch.Tensor:
        return (0.5 - d / self.pixel).clamp_(0, 1)

    def _window(self, lo: torch.Tensor, hi: torch.Tensor, offset: float, size: int):
        """Per image, the first pixel index of a window of the batch's common length that holds
        the pixels whose centres lie in [lo, hi]."""
        first = torch.ceil((lo + offset) / self.pixel - 0.5).clamp(0, size - 1).long()
        last = torch.floor((hi + offset) / self.pixel - 0.5).clamp(0, size - 1).long()
        length = int((last - first).clamp(min=0).max()) + 1
        return first.clamp(max=size - length), length

    def _grid(self, box: torch.Tensor, margin, idx: torch.Tensor):
        """The window around ``box`` ± ``margin``: pixel coordinates x (B×1×w), y (B×h×1) and the
        flat indices of its pixels in the canvas."""
        c0, wb = self._window(box[:, 0] - margin, box[:, 2] + margin, self.aspect, self.w)
        r0, hb = self._window(box[:, 1] - margin, box[:, 3] + margin, 1.0, self.h)
        cols = c0[:, None] + torch.arange(wb, device=c0.device)
        rows = r0[:, None] + torch.arange(hb, device=r0.device)
        x, y = self.xs[cols][:, None, :], self.ys[rows][:, :, None]
        flat = (idx[:, None, None] * self.h + rows[:, :, None]) * self.w + cols[:, None, :]
        return x, y, flat.reshape(-1)

    def _record(self, flat: torch.Tensor, d: torch.Tensor, number: int) -> None:
        if self.regions is not None:
            self.regions[flat] = torch.where(d.reshape(-1) < 0, number, self.regions[flat])

    def layer(
        self,
        shape,
        colour,
        *,
        enabled=None,
        outline=True,
        shadow=None,
        highlight=None,
        material: str = "plain",
    ):
        number, self.count = self.count, self.count + 1  # numbered whether drawn or not
        n = colour.shape[0]
        light, keys = self.light, self.frame.keys
        idx = torch.arange(n, device=colour.device)
        if enabled is not None:
            idx = torch.nonzero(enabled).squeeze(1)
            if idx.numel() == 0:
                return
            if idx.numel() < n:
                shape, colour = shape.sub(idx), colour[idx]
                light = (light[0][idx], light[1][idx])
                keys = None if keys is None else keys[idx]
                shadow = None if shadow is None else tuple(_sub(v, idx) for v in shadow)
                highlight = None if highlight is None else tuple(_sub(v, idx) for v in highlight)
        if self.style == "photo":
            self._photo_layer(number, idx, shape, colour, light, keys, shadow, material)
            return
        half = self.half if outline else 0.0
        x, y, flat = self._grid(shape.bbox, half + self.pixel, idx)

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

        window = tone.shape[1] * tone.shape[2]
        keep = (1 - alpha).reshape(-1, 1)
        rgb = self.rgb[flat] * keep + colour.repeat_interleave(window, 0) * tone.reshape(-1, 1)
        if white is not None:
            rgb = rgb + white.reshape(-1, 1)
        self.rgb[flat] = rgb
        self.ink[flat] = self.ink[flat] * keep[:, 0] + (alpha - fill).reshape(-1)
        self._record(flat, d, number)

    # ------------------------------------------------------------------------ the photo style
    def _texture(self, x, y, keys, number: int, m: _Material, horizon=None) -> torch.Tensor:
        """1 + texture × fractal noise of the material, for layer ``number`` of each image; on a
        ground plane (``m.perspective`` = camera height h, ``horizon`` the (B,) top of the
        plane) at (x·h/depth, h/depth), depth = y − horizon, as a camera sees a flat ground."""
        if m.texture == 0:
            return torch.ones(torch.broadcast_shapes(x.shape, y.shape), device=x.device)
        seed, nyquist = _hash(keys + number * _GOLDEN), 0.5 / self.pixel
        if m.perspective > 0 and horizon is not None:
            depth = (y - _b(horizon)).clamp(min=0.5 * self.pixel)
            scale = m.perspective / depth  # texture units per image unit across, and ÷ depth up
            x, y, scale = x * scale, scale, scale * torch.clamp(1 / depth, min=1)
            # the lattice turned by 30° on the plane, so its columns do not run to the horizon
            x, y = 0.866 * x - 0.5 * y, 0.5 * x + 0.866 * y
            return 1 + m.texture * _fractal(x, y, seed, m.freq, m.stretch, nyquist, scale)
        return 1 + m.texture * _fractal(x, y, seed, m.freq, m.stretch, nyquist)

    def _photo_background(self, colour: torch.Tensor, m: _Material) -> torch.Tensor:
        n = colour.shape[0]
        keys = self.frame.keys
        assert keys is not None, "the photo style needs per-image keys"
        x, y = self.xs.expand(n, 1, -1), self.ys[:, None].expand(n, -1, 1)
        value = self._texture(x, y, keys, 0, m)[..., None]
        fade = (m.fade * ((y + 1) / 2) ** 2)[..., None]  # lighter towards the horizon
        haze = torch.tensor(_HAZE, device=colour.device)
        rgb = (colour[:, None, None, :] * value) * (1 - fade) + haze * fade
        return rgb.reshape(-1, 3)

    def _photo_layer(self, number, idx, shape, colour, light, keys, shadow, material) -> None:
        """The layer as a photo: coverage over the material's edge width (no outline), colour
        × texture, continuous shading, a specular highlight, a soft cast shadow and a glow.

        Shading treats the shape as a dome: at depth t = −d inside, with R = ``round`` × half
        the box's smaller side and u = min(t/R, 1), the surface normal is ((1 − u)·∇d, √(u(2−u)))
        (a circle with round = 1 is lit exactly as a sphere). With the light at elevation e
        along l, n·L = (1 − u)·cos e·(∇d·l) + √(u(2−u))·sin e, where ∇d·l is a central difference
        of d along l; brightness = ambient + (1 − ambient)·max(n·L, 0)/sin e, so a face turned
        to the camera keeps its base colour exactly."""
        m = _MATERIALS[material]
        px, lx, ly = self.pixel, _b(light[0]), _b(light[1])
        width = m.soft + px
        margin = torch.full_like(colour[:, 0], width + px)
        offset = None  # how far the cast shadow falls, (B,)
        if shadow is not None and m.cast > 0:
            offset = _CAST * torch.as_tensor(shadow[0], device=colour.device) + 0 * margin
            margin = torch.maximum(margin, 1.5 * offset + 2 * px)
        if m.glow > 0:
            margin = margin.clamp(min=m.glow + px)
        box = shape.bbox
        x, y, flat = self._grid(box, margin, idx)

        d = shape(x, y)
        alpha = _smooth(0.5 - d / width)
        value = self._texture(x, y, keys, number, m, box[:, 1])
        if m.round > 0:
            eps = 0.5 * px
            along = shape(x + eps * lx, y + eps * ly) - shape(x - eps * lx, y - eps * ly)
            g = (along / (2 * eps)).clamp(-1, 1)  # ∇d·l
            size = 0.5 * torch.minimum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1])
            u = (-d / _b(m.round * size.clamp(min=px, max=1.5))).clamp(0, 1)
            q = torch.sqrt(u * (2 - u))
            cos_e, sin_e = math.cos(_ELEVATION), math.sin(_ELEVATION)
            lambert = ((1 - u) * cos_e * g + q * sin_e).clamp(min=0)
            value = value * (_AMBIENT + (1 - _AMBIENT) / sin_e * lambert)
            if m.gloss > 0:  # Blinn-Phong: the half vector lies between L and the camera (0, 0, 1)
                norm = math.hypot(cos_e, sin_e + 1)
                nh = (((1 - u) * cos_e * g + q * (sin_e + 1)) / norm).clamp(min=0)
                specular = m.gloss * nh**_SHININESS
            else:
                specular = None
        else:
            specular = None
        rgb = colour[:, None, None, :] * value[..., None]
        if m.fade > 0:  # aerial haze, strongest at the top of the box (the horizon)
            fade = (m.fade * torch.exp(-(y - _b(box[:, 1])).clamp(min=0) / 0.35))[..., None]
            rgb = rgb * (1 - fade) + torch.tensor(_HAZE, device=rgb.device) * fade
        if specular is not None:
            rgb = rgb + specular[..., None]

        old = self.rgb[flat].view(rgb.shape)
        if offset is not None:  # the soft shadow the shape casts, away from the light, on solids
            off = _b(offset)
            reach = shape(x + off * lx, y + off * ly)
            shade = (
                m.cast * _smooth(0.5 - reach / (0.6 * off + px)) * self.solid[flat].view(d.shape)
            )
            old = old * (1 - shade)[..., None]
        a = alpha[..., None]
        out = old * (1 - a) + rgb * a
        if m.glow > 0:
            halo = 0.5 * (1 - d.clamp(min=0) / m.glow).clamp(min=0) ** 3 * (1 - alpha)
            out = out + colour[:, None, None, :] * halo[..., None]
        self.rgb[flat] = out.reshape(-1, 3)
        cover = alpha.reshape(-1)
        self.solid[flat] = self.solid[flat] * (1 - cover) + float(m.solid) * cover
        self._record(flat, d, number)

    def _develop(self, rgb: torch.Tensor) -> torch.Tensor:
        """What the camera adds (photo style): lens fall-off towards the corners, a tone curve
        that rolls highlights off above _KNEE, a Gaussian lens blur of σ = ``frame.blur``
        pixels, and sensor noise of σ = ``frame.noise``·√(0.25 + 0.75·value) (read noise plus
        shot noise), hashed per (image, channel, pixel); finally clamped to [0, 1]."""
        frame, device = self.frame, rgb.device
        keys = frame.keys
        assert keys is not None
        r2 = (self.xs[None, :] ** 2 + self.ys[:, None] ** 2) / (self.aspect**2 + 1)
        rgb = rgb * (1 - _VIGNETTE * r2)
        over = (rgb - _KNEE).clamp(min=0)
        rgb = rgb - over + (1 - _KNEE) * torch.tanh(over / (1 - _KNEE))
        if frame.blur > 0:
            radius = max(1, math.ceil(3 * frame.blur))
            t = torch.arange(-radius, radius + 1, dtype=torch.float32, device=device)
            k = torch.exp(-(t**2) / (2 * frame.blur**2))
            k = (k / k.sum()).to(rgb.dtype)
            pad = F.pad(rgb, (radius, radius, radius, radius), mode="replicate")
            rgb = F.conv2d(pad, k.view(1, 1, 1, -1).expand(3, 1, 1, -1), groups=3)
            rgb = F.conv2d(rgb, k.view(1, 1, -1, 1).expand(3, 1, -1, 1), groups=3)
        if frame.noise > 0:
            n = rgb.shape[0]
            channel = _hash(keys[:, None] + (torch.arange(3, device=device) + 1) * _GOLDEN)
            rows = torch.arange(self.h, device=device)
            cols = torch.arange(self.w, device=device)
            h = _hash(_hash(channel[:, :, None, None] + rows[:, None]) + cols)  # n×3×H×W
            # Four bytes of the hash as four uniforms: their sum, centred and scaled, has mean 0
            # and variance 1 (Irwin–Hall, close to a Gaussian).
            total = ((h & 255) + (h >> 8 & 255) + (h >> 16 & 255) + (h >> 24 & 255)).float()
            gauss = (total / 255 - 2) * math.sqrt(3)
            sigma = frame.noise * torch.sqrt(0.25 + 0.75 * rgb.clamp(0, 1))
            rgb = rgb + sigma * gauss.view(n, 3, self.h, self.w)
        return rgb.clamp(0, 1)

    def images(self) -> torch.Tensor:
        n = self.rgb.shape[0] // (self.h * self.w)
        rgb = self.rgb.view(n, self.h, self.w, 3).permute(0, 3, 1, 2)
        return self._develop(rgb) if self.style == "photo" else rgb.clamp(0, 1)

    def outlines(self) -> torch.Tensor:
        n = self.ink.shape[0] // (self.h * self.w)
        return self.ink.view(n, 1, self.h, self.w).clamp(0, 1)

    def region_map(self) -> torch.Tensor:
        """N×1×H×W int32: the number of the last layer whose shape (d < 0) covers each pixel."""
        assert self.regions is not None, "the frame did not ask for regions"
        n = self.regions.shape[0] // (self.h * self.w)
        return self.regions.view(n, 1, self.h, self.w)
