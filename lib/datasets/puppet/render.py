"""Rendering a pose: stick figures in OpenPose's colours (:func:`render_pose`) and the dressed,
shaded subject (:func:`render_puppet`), each body part a distance field evaluated for a chunk of
frames inside the box the part covers.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast, overload

import torch

from lib._checks import ArrayLike, as_tensor, check_positive_int
from lib.datasets.puppet.skeleton import (
    _PART,
    ANKLES,
    JOINT_NAMES,
    JOINTS,
    LIMB_COLOURS,
    LIMBS,
    Subject,
    _check_confidence,
    _check_keypoints,
    get_subject,
)
from lib.device import cpu_threads, resolve_device

_CHUNK = 48  # frames rendered at once; results do not depend on it


def _one_cpu_thread(device: torch.device):
    """Render CPU crops on one thread: the crops are small, and on a busy machine the
    synchronisation of torch's thread pool costs far more than the second core saves (measured
    on two shared cores: 0.8 s on one thread against 5–30 s on two for 600 frames at 128²)."""
    return cpu_threads(1) if device.type == "cpu" else contextlib.nullcontext()


# ---------------------------------------------------------------------------- distance fields
def _grid(size: int, device: torch.device):
    coords = torch.arange(size, device=device, dtype=torch.float32)
    return coords.view(1, 1, size), coords.view(1, size, 1)  # x (columns), y (rows)


def _segment(px, py, a, b):
    """Distance of every pixel to segment a→b (n×2 each) and the position along it in [0, 1]."""
    ax, ay = a[:, 0, None, None], a[:, 1, None, None]
    bax, bay = b[:, 0, None, None] - ax, b[:, 1, None, None] - ay
    dx, dy = px - ax, py - ay
    inv = 1.0 / (bax * bax + bay * bay).clamp(min=1e-9)
    h = ((dx * bax + dy * bay) * inv).clamp_(0, 1)
    ex, ey = dx - h * bax, dy - h * bay
    return torch.sqrt(ex * ex + ey * ey), h


def _local(px, py, centre, up):
    """Coordinates across (u, towards +x when upright) and down (v) a frame with axis ``up``."""
    dx = px - centre[:, 0, None, None]
    dy = py - centre[:, 1, None, None]
    ux, uy = up[:, 0, None, None], up[:, 1, None, None]
    return dx * -uy + dy * ux, -(dx * ux + dy * uy)


def _boxes_of_points(points: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """T×4 (x0, y0, x1, y1) around T×P×2 points grown by a per-frame radius."""
    lo = points.amin(dim=1) - radius[:, None]
    hi = points.amax(dim=1) + radius[:, None]
    return torch.cat([lo, hi], dim=1)


def _chunk_box(boxes: torch.Tensor, size: int, margin: float = 1.5):
    """Integer crop (x0, x1, y0, y1) covering all finite boxes of a chunk, or None when empty."""
    ok = torch.isfinite(boxes).all(dim=1)
    if not bool(ok.any()):
        return None
    b = boxes[ok]
    x0 = max(0, int(math.floor(float(b[:, 0].min()) - margin)))
    y0 = max(0, int(math.floor(float(b[:, 1].min()) - margin)))
    x1 = min(size, int(math.ceil(float(b[:, 2].max()) + margin)) + 1)
    y1 = min(size, int(math.ceil(float(b[:, 3].max()) + margin)) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, x1, y0, y1


def _coverage(distance: torch.Tensor, antialias: bool = True) -> torch.Tensor:
    """Fraction of a pixel inside a shape from its signed distance (pixels)."""
    if antialias:
        return (0.5 - distance).clamp_(0, 1)
    return (distance <= 0).to(distance.dtype)


# --------------------------------------------------------------------------------- stick figures
@overload
def render_pose(
    keypoints: ArrayLike,
    size: int = ...,
    *,
    confidence: ArrayLike | None = ...,
    limbs: Sequence[Sequence[int]] = ...,
    colours: ArrayLike | None = ...,
    radius: float | None = ...,
    background: float | tuple[float, float, float] = ...,
    antialias: bool = ...,
    return_labels: Literal[False] = ...,
    device: str | torch.device | None = ...,
) -> torch.Tensor: ...
@overload
def render_pose(
    keypoints: ArrayLike,
    size: int = ...,
    *,
    confidence: ArrayLike | None = ...,
    limbs: Sequence[Sequence[int]] = ...,
    colours: ArrayLike | None = ...,
    radius: float | None = ...,
    background: float | tuple[float, float, float] = ...,
    antialias: bool = ...,
    return_labels: Literal[True],
    device: str | torch.device | None = ...,
) -> tuple[torch.Tensor, torch.Tensor]: ...
@overload
def render_pose(
    keypoints: ArrayLike,
    size: int = ...,
    *,
    confidence: ArrayLike | None = ...,
    limbs: Sequence[Sequence[int]] = ...,
    colours: ArrayLike | None = ...,
    radius: float | None = ...,
    background: float | tuple[float, float, float] = ...,
    antialias: bool = ...,
    return_labels: bool,
    device: str | torch.device | None = ...,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]: ...
def render_pose(
    keypoints: ArrayLike,
    size: int = 128,
    *,
    confidence: ArrayLike | None = None,
    limbs: Sequence[Sequence[int]] = LIMBS,
    colours: ArrayLike | None = None,
    radius: float | None = None,
    background: float | tuple[float, float, float] = 1.0,
    antialias: bool = True,
    return_labels: bool = False,
    device: str | torch.device | None = None,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Stick figures of poses: each limb a round-capped line in its OpenPose colour.

    Limbs are painted in the order of ``limbs`` (later ones on top); a limb is skipped in a frame
    where either of its joints is missing (NaN coordinates, or ``confidence <= 0``). Limb pixels
    are anti-aliased by coverage ``clamp(0.5 + radius − d, 0, 1)`` with ``d`` the distance of
    the pixel centre to the limb's segment; with ``antialias=False`` a pixel takes the limb's
    colour exactly when ``d <= radius``.

    Args:
        keypoints: T×J×2 (or J×2) float (x, y) pixel coordinates, pixel centres at integers (as
            :func:`puppet_keypoints` returns them); J ≥ the largest joint index in ``limbs``.
        size: side of the square images.
        confidence: optional T×J (or J) confidences; joints at 0 are missing.
        limbs: pairs of joint indices (default: OpenPose's BODY_25 pairs among 15 joints).
        colours: L×3 RGB in [0, 1], one per limb (default :data:`LIMB_COLOURS`).
        radius: half the line width in pixels (default ``max(1, size / 96)``).
        background: grey level or RGB of the empty image (white by default).
        antialias: smooth edges (default) or hard ones.
        return_labels: also return a T×H×W int64 map, ``k + 1`` where limb ``k`` is on top
            (coverage > 0.5), 0 on the background.
        device: where to render (default: where the keypoints are).

    Returns T×3×size×size float images in [0, 1] (3×size×size for J×2 input), and the labels
    when asked for.
    """
    kp, single = _check_keypoints(keypoints)
    check_positive_int(size, "size", minimum=4)
    conf = _check_confidence(confidence, kp)
    pairs = tuple(tuple(int(j) for j in pair) for pair in limbs)
    if not pairs or any(len(p) != 2 for p in pairs):
        raise ValueError("limbs: expected a non-empty sequence of (joint, joint) index pairs")
    limbs = cast(tuple[tuple[int, int], ...], pairs)  # each pair has two joints (checked above)
    top = max(max(p) for p in limbs)
    if min(min(p) for p in limbs) < 0 or top >= kp.shape[1]:
        raise ValueError(
            f"limbs: joint indices must lie in [0, {kp.shape[1] - 1}] for keypoints with "
            f"{kp.shape[1]} joints, got a pair using joint {top}"
        )
    if colours is None:
        if len(limbs) > len(LIMB_COLOURS):
            raise ValueError(f"colours: give one colour per limb for more than {len(LIMBS)} limbs")
        colours = LIMB_COLOURS[: len(limbs)]
    colours = as_tensor(colours, "colours").float()
    if colours.shape != (len(limbs), 3) or bool((colours < 0).any() | (colours > 1).any()):
        raise ValueError(
            f"colours: expected {len(limbs)}×3 RGB values in [0, 1], got shape "
            f"{tuple(colours.shape)}"
        )
    if radius is None:
        radius = max(1.0, size / 96)
    if not (isinstance(radius, int | float) and math.isfinite(radius) and radius > 0):
        raise ValueError(f"radius: expected a positive number of pixels, got {radius!r}")
    bg = torch.as_tensor(background, dtype=torch.float32).flatten()
    if bg.numel() not in (1, 3) or bool((bg < 0).any() | (bg > 1).any()):
        raise ValueError(f"background: expected a grey level or RGB in [0, 1], got {background!r}")
    device = kp.device if device is None else resolve_device(device)

    kp_cpu = kp.detach().float().cpu()
    missing = torch.isnan(kp_cpu).any(dim=-1)
    if conf is not None:
        missing |= conf.detach().cpu() <= 0
    n = kp_cpu.shape[0]
    images = torch.empty(n, 3, size, size, device=device)
    images[:] = bg.to(device).view(1, -1, 1, 1)
    labels = torch.zeros(n, size, size, dtype=torch.int64, device=device) if return_labels else None
    colours_dev = colours.to(device).view(-1, 1, 3, 1, 1)
    with _one_cpu_thread(device):
        _paint_limbs(kp_cpu, missing, limbs, colours_dev, radius, antialias, images, labels)
    images.clamp_(0, 1)
    if single:
        images = images[0]
        labels = None if labels is None else labels[0]
    # labels is there exactly when return_labels asks for it
    return (images, labels) if labels is not None else images


def _paint_limbs(kp_cpu, missing, limbs, colours, radius, antialias, images, labels) -> None:
    n, size, device = kp_cpu.shape[0], images.shape[-1], images.device
    px, py = _grid(size, device)
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        for k, (ja, jb) in enumerate(limbs):
            gone = missing[start:stop, ja] | missing[start:stop, jb]
            if bool(gone.all()):
                continue
            a, b = kp_cpu[start:stop, ja], kp_cpu[start:stop, jb]
            boxes = _boxes_of_points(torch.stack([a, b], 1), torch.full((stop - start,), radius))
            boxes[gone] = float("nan")
            crop = _chunk_box(boxes, size)
            if crop is None:
                continue
            x0, x1, y0, y1 = crop
            far = torch.where(gone[:, None], torch.full_like(a, -1e6), a)
            far_b = torch.where(gone[:, None], torch.full_like(b, -1e6), b)
            d, _ = _segment(px[..., x0:x1], py[:, y0:y1], far.to(device), far_b.to(device))
            alpha = _coverage(d - radius, antialias)
            region = images[start:stop, :, y0:y1, x0:x1]
            region.lerp_(colours[k], alpha[:, None])
            if labels is not None:
                lab = labels[start:stop, y0:y1, x0:x1]
                lab[alpha > 0.5] = k + 1


# --------------------------------------------------------------------------------- the subject
def _background(subject: Subject, size: int, device: torch.device) -> torch.Tensor:
    """Wall above the horizon, a floor of boards in perspective below it, with shading."""
    px, py = _grid(size, device)
    x, y = px[0], py[0]  # 1×W, H×1
    horizon = subject.horizon * size
    wall = torch.tensor(subject.wall, device=device).view(3, 1, 1)
    floor = torch.tensor(subject.floor, device=device).view(3, 1, 1)
    # Wall: lighter towards the top, a soft vignette to the sides.
    wall_shade = 1.0 - 0.12 * (y / size) - 0.1 * ((x / size - 0.5) ** 2) * 4
    # Floor: boards converge to a vanishing point on the horizon, nearer floor is lighter.
    below = (y - horizon).clamp(min=0.5)
    across = (x - 0.5 * size) / below  # constant along each board edge
    fade = ((y - horizon) / (0.35 * size)).clamp(0, 1)  # no aliasing moiré near the horizon
    boards = 1.0 - 0.12 * fade * torch.sin(across * 5.0 * math.pi).abs() ** 8
    depth_shade = 0.72 + 0.28 * ((y - horizon) / max(size - horizon, 1.0)).clamp(0, 1)
    floor_img = floor * (boards * depth_shade)[None]
    wall_img = wall * wall_shade[None]
    is_floor = ((y - horizon) + 0.5).clamp(0, 1)[None]  # anti-aliased horizon
    image = wall_img * (1 - is_floor) + floor_img * is_floor
    skirting = (1.0 - (y - horizon).abs() / 1.2).clamp(0, 1)[None]  # a dark line at the wall
    image = image * (1 - 0.35 * skirting)
    return image.expand(3, size, size).clamp(0, 1)


@dataclass
class _Shape:
    """One part to paint: its geometry per frame and how to colour it."""

    kind: str  # "capsule", "ellipse" or "trunk"
    label: int  # index into PART_NAMES (0: background, used for the shadow)
    colour: tuple[float, float, float]
    boxes: torch.Tensor  # T×4 bounding boxes in pixels
    a: torch.Tensor | None = None  # capsule end points, ellipse centre
    b: torch.Tensor | None = None  # capsule end point, ellipse "up" axis (unit)
    r: torch.Tensor | None = None  # capsule radius, ellipse horizontal radius
    ry: torch.Tensor | None = None  # ellipse vertical radius
    extra: tuple = ()  # trunk: ((a, b, r), ...) extra capsules in the union
    shade: bool = True
    opacity: float = 1.0
    softness: float = 1.0  # edge width in pixels (the shadow is soft)
    pattern: str = "plain"
    pattern_colour: tuple[float, float, float] = (1.0, 1.0, 1.0)
    above: float | None = None  # ellipse: only the part with v < above × ry (a fringe)


def _capsule(label, colour, a, b, r, **kw) -> _Shape:
    boxes = _boxes_of_points(torch.stack([a, b], 1), r)
    return _Shape("capsule", label, colour, boxes, a=a, b=b, r=r, **kw)


def _ellipse(label, colour, centre, up, rx, ry, **kw) -> _Shape:
    reach = torch.maximum(rx, ry)
    boxes = _boxes_of_points(centre[:, None], reach)
    return _Shape("ellipse", label, colour, boxes, a=centre, b=up, r=rx, ry=ry, **kw)


def _subject_shapes(subject: Subject, kp: torch.Tensor, scale: torch.Tensor, mouth: torch.Tensor):
    """The list of parts in painting order, and the face boxes."""
    s = subject
    j = JOINTS
    P = lambda name: kp[:, j[name]]  # noqa: E731
    limb_r = s.limb_width * scale
    trunk_r = s.torso_width * scale
    head_rx = s.head * scale
    head_ry = 1.2 * head_rx
    neck, nose, mid_hip = P("neck"), P("nose"), P("mid_hip")
    up = nose - neck
    up = up / up.norm(dim=1, keepdim=True).clamp(min=1e-9)
    head_c = nose + 0.15 * head_ry[:, None] * up
    across = torch.stack([-up[:, 1], up[:, 0]], dim=1)
    shapes: list[_Shape] = []

    # Shadow on the floor under the feet.
    ankles = kp[:, list(ANKLES)]
    floor_row = ankles[..., 1].amax(dim=1) + s.ankle_height * scale
    shadow_c = torch.stack([ankles[..., 0].mean(dim=1), floor_row], dim=1)
    shadow_rx = (s.shoulder + 0.06) * scale * 1.3
    flat = torch.tensor([[0.0, -1.0]]).expand_as(shadow_c)
    shapes.append(
        _ellipse(
            0,
            (0.0, 0.0, 0.0),
            shadow_c,
            flat,
            shadow_rx,
            0.18 * shadow_rx,
            shade=False,
            opacity=0.35,
            softness=4.0,
        )
    )
    if s.hair_style == "long":
        tail = neck + (0.35 * s.torso) * scale[:, None] * (-up)
        shapes.append(
            _capsule(_PART["long_hair"], s.hair, head_c, tail, 1.05 * head_rx, shade=False)
        )

    legs_colour = s.trousers
    shin_colour = s.trousers if s.legwear == "trousers" else s.skin
    for side, label in (("right", _PART["right_leg"]), ("left", _PART["left_leg"])):
        hip, knee, ankle = P(f"{side}_hip"), P(f"{side}_knee"), P(f"{side}_ankle")
        shapes.append(_capsule(label, legs_colour, hip, knee, limb_r * 1.12))
        shapes.append(_capsule(label, shin_colour, knee, ankle, limb_r))
        out = -1.0 if side == "right" else 1.0
        toe = ankle + torch.stack([out * 1.6 * limb_r, 0.7 * limb_r], dim=1)
        heel = ankle + torch.stack([-out * 0.3 * limb_r, 0.7 * limb_r], dim=1)
        shapes.append(_capsule(label, s.shoes, heel, toe, 0.75 * limb_r))
    pelvis_r = limb_r * 1.2
    shapes.append(
        _capsule(_PART["torso"], legs_colour, P("right_hip"), P("left_hip"), pelvis_r, shade=False)
    )
    shapes.append(_capsule(_PART["torso"], s.skin, neck, nose, 0.55 * head_rx))
    trunk_boxes = _boxes_of_points(
        torch.stack([neck, mid_hip, P("right_shoulder"), P("left_shoulder")], 1),
        torch.maximum(trunk_r, limb_r * 1.3),
    )
    trunk_extra = (
        (P("right_shoulder"), P("left_shoulder"), limb_r * 1.3),
        (P("right_hip"), P("left_hip"), pelvis_r),
    )
    shapes.append(
        _Shape(
            "trunk",
            _PART["torso"],
            s.shirt,
            trunk_boxes,
            a=neck,
            b=mid_hip,
            r=trunk_r,
            extra=trunk_extra,
            pattern=s.shirt_pattern,
            pattern_colour=s.shirt_pattern_colour,
        )
    )

    # Head: hair behind, the face, a fringe, eyes and mouth.
    shapes.append(
        _ellipse(
            _PART["head"],
            s.hair,
            head_c + 0.1 * head_ry[:, None] * up,
            up,
            1.1 * head_rx,
            1.05 * head_ry,
            shade=False,
        )
    )
    shapes.append(_ellipse(_PART["head"], s.skin, head_c, up, head_rx, head_ry))
    shapes.append(
        _ellipse(_PART["head"], s.hair, head_c, up, head_rx, head_ry, shade=False, above=-0.55)
    )
    eye_r = 0.14 * head_rx
    for side in (-1.0, 1.0):
        eye = head_c + (side * 0.4 * head_rx)[:, None] * across + (0.1 * head_ry)[:, None] * up
        shapes.append(_capsule(_PART["head"], (0.1, 0.08, 0.08), eye, eye, eye_r, shade=False))
    mouth_c = head_c - (0.45 * head_ry)[:, None] * up
    mouth_ry = (0.06 + 0.14 * mouth.clamp(0, 1)) * head_ry
    shapes.append(
        _ellipse(
            _PART["head"], (0.55, 0.12, 0.15), mouth_c, up, 0.33 * head_rx, mouth_ry, shade=False
        )
    )

    # Arms in front of the body.
    sleeve = s.shirt
    forearm_colour = s.shirt if s.sleeves == "long" else s.skin
    for side, label in (("right", _PART["right_arm"]), ("left", _PART["left_arm"])):
        sho, elb, wri = P(f"{side}_shoulder"), P(f"{side}_elbow"), P(f"{side}_wrist")
        shapes.append(_capsule(label, sleeve, sho, elb, limb_r * 1.05))
        shapes.append(_capsule(label, forearm_colour, elb, wri, limb_r * 0.9))
        shapes.append(_capsule(label, s.skin, wri, wri, limb_r * 1.25))

    # Face box: the head with its hair (a rotated ellipse's axis-aligned extent) and a margin.
    rx, ry = 1.1 * head_rx, 1.05 * head_ry + 0.1 * head_ry
    cos_a, sin_a = up[:, 1].abs(), up[:, 0].abs()
    half_w = torch.sqrt((rx * cos_a) ** 2 + (ry * sin_a) ** 2) + 1.0
    half_h = torch.sqrt((rx * sin_a) ** 2 + (ry * cos_a) ** 2) + 1.0
    centre = head_c + 0.05 * head_ry[:, None] * up
    half = torch.stack([half_w, half_h], dim=1)
    face_boxes = torch.cat([centre - half, centre + half], dim=1)
    return shapes, face_boxes


def _paint(shape: _Shape, images, labels, px, py, start, stop, size, device):
    crop = _chunk_box(shape.boxes[start:stop], size, margin=1.5 + shape.softness)
    if crop is None:
        return
    x0, x1, y0, y1 = crop
    cx, cy = px[..., x0:x1], py[:, y0:y1]
    dev = lambda t: t[start:stop].to(device)  # noqa: E731
    pattern_weight = None
    if shape.kind in ("capsule", "trunk"):
        r = dev(shape.r)[:, None, None]
        d, h = _segment(cx, cy, dev(shape.a), dev(shape.b))
        rel = d / r
        distance = d - r
        for a, b, rr in shape.extra:
            d2, _ = _segment(cx, cy, dev(a), dev(b))
            distance = torch.minimum(distance, d2 - dev(rr)[:, None, None])
        if shape.pattern != "plain":
            length = (dev(shape.b) - dev(shape.a)).norm(dim=1)[:, None, None]
            along = h * length / r  # in units of the trunk's radius
            if shape.pattern == "stripes":
                pattern_weight = (torch.sin(along * 5.0) * 2.5 - 1.0).clamp(0, 1)
            else:
                u, _ = _local(cx, cy, dev(shape.a), -_normalised(dev(shape.b) - dev(shape.a)))
                dots = torch.sin(along * 4.0) * torch.sin(u / r * 4.0)
                pattern_weight = ((dots - 0.55) * 5).clamp(0, 1)
    else:
        rx, ry = dev(shape.r)[:, None, None], dev(shape.ry)[:, None, None]
        u, v = _local(cx, cy, dev(shape.a), dev(shape.b))
        # First-order distance to an ellipse, k0 (k0 - 1) / k1: exact on the boundary and close
        # to it, where anti-aliasing needs it.
        rel = torch.sqrt((u / rx) ** 2 + (v / ry) ** 2)
        k1 = torch.sqrt((u / (rx * rx)) ** 2 + (v / (ry * ry)) ** 2).clamp_(min=1e-9)
        distance = torch.where(rel < 1e-3, -torch.minimum(rx, ry), rel * (rel - 1) / k1)
        if shape.above is not None:
            distance = torch.maximum(distance, v - shape.above * ry)
    alpha = (0.5 - distance / shape.softness).clamp_(0, 1)
    colour = torch.tensor(shape.colour, device=device).view(1, 3, 1, 1)
    if shape.shade:
        shade = 0.7 + 0.3 * torch.sqrt((1 - rel * rel).clamp_(min=0))
        colour = colour * shade[:, None]
    if pattern_weight is not None:
        other = torch.tensor(shape.pattern_colour, device=device).view(1, 3, 1, 1)
        if shape.shade:
            other = other * shade[:, None]
        colour = torch.lerp(colour, other, pattern_weight[:, None])
    if shape.opacity != 1.0:
        alpha = alpha * shape.opacity
    region = images[start:stop, :, y0:y1, x0:x1]
    region.lerp_(colour.expand_as(region) if colour.shape[0] == 1 else colour, alpha[:, None])
    if shape.label > 0:
        lab = labels[start:stop, y0:y1, x0:x1]
        lab[alpha > 0.5] = shape.label


def _normalised(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=1, keepdim=True).clamp(min=1e-9)


def render_puppet(
    subject: str | Subject,
    keypoints: ArrayLike,
    size: int = 128,
    *,
    mouth: ArrayLike | None = None,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Render ``subject`` in the poses ``keypoints`` (T×15×2 pixels, all joints present).

    The size of the body's parts follows the keypoints: pixels per body unit is the ratio of
    the summed bone lengths in the keypoints to the subject's (exact for the subject's own
    keypoints; for another subject's poses the look is stretched onto them, which is what motion
    transfer does). Parts are painted back to front: shadow, long hair, legs and shoes, pelvis,
    neck, the shirt (trunk with a pattern in trunk coordinates, so it moves with the body),
    the head (hair, face, fringe, eyes, mouth) and the arms.

    Args:
        subject: a name in :data:`SUBJECTS` or a :class:`Subject`.
        keypoints: T×15×2 (or 15×2) float pixel coordinates in :data:`JOINT_NAMES` order.
        size: side of the square images.
        mouth: optional T mouth opening in [0, 1] (default 0.3).
        device: where to render (default: where the keypoints are).

    Returns ``(frames, parts, face_boxes)``: T×3×H×W float images in [0, 1], T×H×W uint8 part
    labels (:data:`PART_NAMES`), T×4 float face boxes (x0, y0, x1, y1) in pixels enclosing the
    head and its hair.
    """
    subject = get_subject(subject)
    kp, single = _check_keypoints(keypoints, joints=len(JOINT_NAMES))
    check_positive_int(size, "size", minimum=16)
    kp = kp[:, : len(JOINT_NAMES)]
    if bool(torch.isnan(kp).any()):
        raise ValueError(
            "keypoints: the puppet needs every joint in every frame; fill missing joints first "
            "(lib.models.dance_pose.smooth_keypoints fills gaps from neighbouring frames)"
        )
    device = kp.device if device is None else resolve_device(device)
    kp_cpu = kp.detach().float().cpu()
    n = kp_cpu.shape[0]
    if mouth is None:
        mouth_t = torch.full((n,), 0.3)
    else:
        mouth_t = as_tensor(mouth, "mouth").float().flatten().cpu()
        if mouth_t.numel() != n or not bool(torch.isfinite(mouth_t).all()):
            raise ValueError(f"mouth: expected {n} finite values (one per frame)")
    lengths = torch.stack([(kp_cpu[:, b] - kp_cpu[:, a]).norm(dim=1) for a, b in LIMBS], dim=1)
    scale = lengths.sum(dim=1) / float(subject.bone_lengths.sum())
    if bool((scale <= 1e-6).any()):
        raise ValueError("keypoints: a frame has all joints on one point; cannot size the body")
    shapes, face_boxes = _subject_shapes(subject, kp_cpu, scale, mouth_t)

    background = _background(subject, size, device)
    images = torch.empty(n, 3, size, size, device=device)
    parts = torch.zeros(n, size, size, dtype=torch.uint8, device=device)
    px, py = _grid(size, device)
    with _one_cpu_thread(device):
        for start in range(0, n, _CHUNK):
            stop = min(n, start + _CHUNK)
            images[start:stop] = background
            for shape in shapes:
                _paint(shape, images, parts, px, py, start, stop, size, device)
    images.clamp_(0, 1)
    face_boxes = face_boxes.to(device)
    if single:
        return images[0], parts[0], face_boxes[0]
    return images, parts, face_boxes
