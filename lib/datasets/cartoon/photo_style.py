"""The photo style of the procedural scenes: hashed value noise, fractal texture and the
materials (texture, shape of the surface, gloss, shadows, haze) with which the canvas
(:mod:`~lib.datasets.cartoon.canvas`) paints a layer when it renders a photo, not a cartoon.

The noise comes from an integer hash of (image key, layer, lattice point), not from a random
generator: its value at any point is computed where it is needed, in any window, on any device,
from the same integers — so a photo render, like a cartoon, depends only on ``(seed, k)``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

# ------------------------------------------------------------------------------ hashed noise
# The photo style's texture and sensor noise come from an integer hash of (image key, layer,
# lattice point) instead of a random generator: the noise at any point is computed where it is
# needed, in any window, on any device, from the same integers.
_MASK = 0xFFFFFFFF
_GOLDEN = 0x9E3779B9  # 2³²/φ, spreads consecutive layer numbers over the 32-bit keys


def _hash(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer hash (Thomas Mueller's) of an int64 tensor, elementwise, in [0, 2³²).
    The multiplier is below 2³¹, so no product leaves int64 and every device gets the same bits."""
    x = x & _MASK
    x = ((x >> 16) ^ x) * 0x45D9F3B & _MASK
    x = ((x >> 16) ^ x) * 0x45D9F3B & _MASK
    return (x >> 16) ^ x


def _unit(h: torch.Tensor) -> torch.Tensor:
    """The top 24 bits of a hash as a float in [0, 1) (exact in float32)."""
    return (h >> 8).float() * 2.0**-24


def _value_noise(x: torch.Tensor, y: torch.Tensor, seed: torch.Tensor) -> torch.Tensor:
    """Value noise in [−1, 1] at lattice coordinates x (B×1×W), y (B×H×1): a hashed value at
    every integer point, interpolated with the quintic fade 6t⁵ − 15t⁴ + 10t³ (smooth to the
    second derivative, so no lattice lines show in the gradient)."""
    fx, fy = torch.floor(x), torch.floor(y)
    tx, ty = x - fx, y - fy
    ix, iy = fx.long() + seed, fy.long()
    sx = tx * tx * tx * (tx * (6 * tx - 15) + 10)
    sy = ty * ty * ty * (ty * (6 * ty - 15) + 10)
    h0, h1 = _hash(ix), _hash(ix + 1)  # the column hashes, B×1×W
    top = torch.lerp(_unit(_hash(h0 + iy)), _unit(_hash(h1 + iy)), sx)
    bottom = torch.lerp(_unit(_hash(h0 + iy + 1)), _unit(_hash(h1 + iy + 1)), sx)
    return 2 * torch.lerp(top, bottom, sy) - 1


def _fractal(x, y, seed, freq: float, stretch, nyquist: float, scale=None) -> torch.Tensor:
    """Fractal (1/f) value noise: octaves at freq·2ᵒ cycles per unit (times ``stretch`` along
    x and y) with amplitudes 2⁻ᵒ, each faded out between half the pixel grid's Nyquist frequency
    and the Nyquist frequency, where a camera would average the texture away. ``scale`` (per
    pixel, optional) is how many texture units one image unit spans there (the perspective of
    a ground plane), so the fade is decided per pixel. Octave o has its own lattice values (the
    seed hashed with o). With every octave kept the standard deviation is about 0.5."""
    shape = torch.broadcast_shapes(x.shape, y.shape)
    total = torch.zeros(shape, device=x.device)
    finest = 1.0 if scale is None else float(scale.min())
    for o in range(_OCTAVES):
        f = freq * 2.0**o
        screen = f * max(stretch) / nyquist  # the octave's frequency over Nyquist, per unit scale
        if screen * finest >= 1:
            break
        ramp = 2 - 2 * screen * (1.0 if scale is None else scale)
        weight = (ramp.clamp(0, 1) if isinstance(ramp, torch.Tensor) else min(ramp, 1.0)) * 0.5**o
        s = _hash(seed + o * _GOLDEN)[:, None, None]
        total += weight * _value_noise(x * (f * stretch[0]), y * (f * stretch[1]) + 0.5 * o, s)
    return total


def _smooth(t: torch.Tensor) -> torch.Tensor:
    """Smoothstep 3t² − 2t³ of t clamped to [0, 1]: a coverage ramp with no kink at its ends."""
    t = t.clamp(0, 1)
    return t * t * (3 - 2 * t)


# ------------------------------------------------------------------------------- materials
class _Material(NamedTuple):
    """How the photo style renders a surface (the cartoon style ignores materials).

    ``freq``: texture frequency in cycles per unit (the image is 2 units high), ``stretch`` its
    multipliers along (x, y) (grain, streaks); ``texture``: the colour's relative modulation by
    the fractal noise; ``round``: the surface's dome radius as a fraction of the shape's half
    size (0 is flat, facing the camera); ``gloss``: specular strength; ``soft``: edge width in
    units (0: anti-aliased over one pixel); ``cast``: opacity of the soft shadow the shape
    casts (offset by _CAST × its cel-shadow depth, away from the light); ``solid``: whether it
    receives cast shadows (the sky does not); ``fade``: lightening towards the horizon (for a
    background: towards the bottom of the image; for a layer: towards the top of its box);
    ``glow``: the reach in units of a halo of the shape's colour around it (the sun), fading
    as (1 − distance/glow)³ to exactly nothing, so a pixel's halo does not depend on the window;
    ``perspective``: for a ground plane below the top of the box (the horizon), the camera's
    height in units: the texture lies on the plane, so it shrinks towards the horizon."""

    freq: float = 2.0
    stretch: tuple[float, float] = (1.0, 1.0)
    texture: float = 0.1
    round: float = 0.0
    gloss: float = 0.0
    soft: float = 0.0
    cast: float = 0.0
    solid: bool = True
    fade: float = 0.0
    glow: float = 0.0
    perspective: float = 0.0


_MATERIALS = {
    "plain": _Material(),
    "sky": _Material(freq=1.0, texture=0.03, soft=0.35, solid=False, fade=0.45),
    "sun": _Material(texture=0.0, soft=0.015, solid=False, glow=0.4),
    "cloud": _Material(freq=3.0, texture=0.25, round=1.0, soft=0.05, solid=False),
    "hill": _Material(freq=4.0, texture=0.35, round=1.0, fade=0.12),
    "ground": _Material(freq=8.0, texture=0.4, fade=0.3, perspective=0.5),
    "bark": _Material(freq=2.0, stretch=(4.0, 0.5), texture=0.35, round=1.0, cast=0.3),
    "foliage": _Material(freq=5.0, texture=0.6, round=0.9, cast=0.35),
    "plaster": _Material(freq=5.0, texture=0.15, round=0.15, cast=0.35),
    "roof": _Material(freq=2.0, stretch=(1.0, 5.0), texture=0.35, round=0.2, cast=0.3),
    "wood": _Material(freq=1.5, stretch=(0.5, 7.0), texture=0.35, round=0.05),
    "glass": _Material(freq=1.5, texture=0.1, round=0.4, gloss=0.5),
    "paint": _Material(freq=4.0, texture=0.4),
    "object": _Material(freq=3.0, texture=0.12, round=0.45, gloss=0.45, cast=0.4),
    "room": _Material(freq=6.0, texture=0.06),
}
_OCTAVES = 6
_ELEVATION = math.radians(40)  # the light's height above the picture plane (photo style)
_AMBIENT = 0.3  # light from everywhere: the darkest a surface turned from the light gets
_SHININESS = 24.0  # Blinn-Phong exponent of the specular highlight
_CAST = 2.5  # cast-shadow offset per unit of the cartoon's shadow depth
_HAZE = (0.86, 0.89, 0.93)  # the colour distant things fade to
_VIGNETTE = 0.12  # lens fall-off: brightness × (1 − vignette·r²) at normalised radius r
_KNEE = 0.8  # above this the camera's tone curve rolls highlights off instead of clipping them
