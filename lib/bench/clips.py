"""Manipulated clips with known defects: the video analogue of :mod:`lib.bench`.

A video metric is tested the way the image metrics were: take real clips, break them in one known
way, and see which metric notices. Some manipulations keep **every frame perfect** and only break
time (``shuffle``, ``jitter``, ``reverse``) — the set of frames is exactly the real one, so any
per-frame metric must rate them as real; others break the frames a little and time a lot
(``noise``, ``brightness``: independent per frame, i.e. flicker), or drop frames (``repeat``: a
lower frame rate, each frame held).

==============  ==================================================================================
``shuffle``     the frames of each clip in a random order
``jitter``      each frame moved by a few places: order by ``t + strength·u_t``, u_t ~ U(−1, 1)
``reverse``     played backwards
``repeat``      every ``strength``-th frame held ``strength`` times (``x[t // k · k]``)
``noise``       independent Gaussian noise of std ``strength`` added to every frame (clamped)
``brightness``  each frame brightened by an independent N(0, strength²) offset (clamped)
``wobble``      each frame shifted by its own random offset, N(0, strength²) pixels per axis
                (bilinear, edges repeated): plausible frames that do not line up — what a
                per-frame generator gives when nothing ties one frame's layout to the last
==============  ==================================================================================
"""

from __future__ import annotations

import math

import torch

from lib._checks import ArrayLike, check_choice
from lib.features.video import check_clips
from lib.video import warp

__all__ = ["CLIP_CORRUPTIONS", "KEEPS_FRAMES", "corrupt_clips", "frame_order"]

CLIP_CORRUPTIONS = ("shuffle", "jitter", "reverse", "repeat", "noise", "brightness", "wobble")
#: Manipulations whose clips hold exactly the real frames (only their order changes).
KEEPS_FRAMES = ("shuffle", "jitter", "reverse")
_DEFAULT_STRENGTH = {
    "shuffle": 0.0,
    "jitter": 1.5,
    "reverse": 0.0,
    "repeat": 2.0,
    "noise": 0.05,
    "brightness": 0.05,
    "wobble": 0.5,
}


def frame_order(
    n: int, t: int, kind: str, *, strength: float | None = None, seed: int = 0
) -> torch.Tensor:
    """The frame indices (N×T, int64) a time manipulation shows: row k of the result lists, for
    each output frame of clip k, which input frame it is."""
    check_choice(kind, "kind", ("shuffle", "jitter", "reverse", "repeat", "identity"))
    gen = torch.Generator().manual_seed(int(seed))
    base = torch.arange(t).expand(n, t)
    if kind == "identity":
        return base.clone()
    if kind == "reverse":
        return base.flip(1).clone()
    if kind == "shuffle":
        return torch.stack([torch.randperm(t, generator=gen) for _ in range(n)])
    s = _DEFAULT_STRENGTH[kind] if strength is None else float(strength)
    if kind == "jitter":
        if not s >= 0:
            raise ValueError(f"strength: jitter needs a non-negative size, got {strength!r}")
        keys = base.double() + s * (torch.rand(n, t, generator=gen, dtype=torch.float64) * 2 - 1)
        return keys.argsort(dim=1)
    k = int(round(s))
    if k < 1 or not math.isclose(s, k):
        raise ValueError(f"strength: repeat needs a whole number of frames ≥ 1, got {strength!r}")
    return (base // k * k).clone()


def corrupt_clips(
    clips: ArrayLike, kind: str, *, strength: float | None = None, seed: int = 0
) -> torch.Tensor:
    """``clips`` (N×T×C×H×W in [0, 1]) broken in one known way (see the module table).

    ``strength`` defaults per kind: jitter 1.5 frames, repeat 2, noise std 0.05, brightness std
    0.05, wobble 0.5 pixels; shuffle and reverse ignore it. Every random number comes from a
    generator seeded with ``seed``. Returns a new tensor; the input is not modified.
    """
    x = check_clips(clips)
    check_choice(kind, "kind", CLIP_CORRUPTIONS)
    n, t = x.shape[:2]
    if kind in ("shuffle", "jitter", "reverse", "repeat"):
        order = frame_order(n, t, kind, strength=strength, seed=seed).to(x.device)
        return x[torch.arange(n, device=x.device)[:, None], order]
    s = _DEFAULT_STRENGTH[kind] if strength is None else float(strength)
    if not (math.isfinite(s) and s >= 0):
        raise ValueError(f"strength: expected a standard deviation ≥ 0, got {strength!r}")
    gen = torch.Generator().manual_seed(int(seed))
    if kind == "wobble":
        offset = (torch.randn(n, t, 2, 1, 1, generator=gen) * s).to(x.device, torch.float32)
        flow = offset.expand(n, t, 2, *x.shape[-2:])
        return warp(x.float(), flow).clamp(0, 1).to(x.dtype)
    if kind == "noise":
        noise = torch.randn(x.shape, generator=gen) * s
    else:
        noise = (torch.randn(n, t, 1, 1, 1, generator=gen) * s).expand(x.shape)
    return (x + noise.to(x.device, x.dtype)).clamp(0, 1)
