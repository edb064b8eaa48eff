"""The procedural scenes (countryside, village, forest, still life) and the two renderers
that draw them in batches: :func:`cartoons` (flat colours, outlines, cel shading) and
:func:`photo_renders` (the same scenes as photographs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import torch

from lib._checks import check_choice, check_positive_int
from lib.datasets.base import ImageSet
from lib.datasets.cartoon.canvas import (
    _above,
    _below,
    _bowl,
    _box,
    _Canvas,
    _circle,
    _Draws,
    _Frame,
    _image_uniforms,
    _select,
    _triangle,
    _union,
)
from lib.device import resolve_device

SCENE_TYPES = ("countryside", "village", "forest", "still_life")
_PIXELS_PER_CHUNK = 1 << 20  # images rendered at once; results do not depend on it
# ---------------------------------------------------------------------------------- scenes
_SKY_BLUE, _SKY_WARM = (
    ((0.53, 0.6), (0.25, 0.55), (0.85, 1.0)),
    ((0.02, 0.1), (0.25, 0.5), (0.9, 1)),
)
_GREEN = ((0.22, 0.38), (0.4, 0.75), (0.45, 0.85))
_BROWN = ((0.05, 0.09), (0.45, 0.7), (0.3, 0.5))


def _sky(c: _Draws, n_clouds: int, horizon, sun_p: float, frame: _Frame) -> _Canvas:
    """Sky (blue, or warm at dusk) with a darker upper band, the sun on the lit side, clouds."""
    warm = c.coin(0.2)
    sky = torch.where(warm[:, None], c.colour(*_SKY_WARM), c.colour(*_SKY_BLUE))
    angle = c.uniform(0.2 * math.pi, 0.8 * math.pi)  # the light comes from above, left or right
    light = (torch.cos(angle), -torch.sin(angle))
    canvas = _Canvas(sky, frame, light=light, material="sky")
    aspect = canvas.aspect
    band = c.uniform(-0.75, -0.35)
    canvas.layer(_above(band), sky * 0.88, enabled=c.coin(0.6), outline=False, material="sky")
    sun_r = c.uniform(0.09, 0.17)
    sun_x = light[0] * aspect * c.uniform(0.45, 0.85)
    sun_y = torch.minimum(c.uniform(-0.85, -0.45), horizon - sun_r - 0.1)
    sun = c.colour((0.1, 0.15), (0.6, 0.9), (0.95, 1.0))
    canvas.layer(_circle(sun_x, sun_y, sun_r), sun, enabled=c.coin(sun_p), material="sun")
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
        canvas.layer(puffs, white, enabled=on, shadow=(0.45 * s, 0.85), material="cloud")
    return canvas


def _hills(c: _Draws, canvas: _Canvas, horizon, count: int, p: float) -> None:
    aspect = canvas.aspect
    for k in range(count):
        on = c.coin(1.0 if k == 0 else p)
        r = c.uniform(0.45, 1.1)
        cx, cy = c.uniform(-1.1 * aspect, 1.1 * aspect), horizon + r * c.uniform(0.55, 0.92)
        green = c.colour((0.2, 0.42), (0.3, 0.6), (0.55, 0.85))
        canvas.layer(_circle(cx, cy, r), green, enabled=on, shadow=(0.12 * r, 0.8), material="hill")


def _ground(c: _Draws, canvas: _Canvas, horizon) -> None:
    sand = c.coin(0.2)
    colour = torch.where(
        sand[:, None], c.colour((0.1, 0.14), (0.3, 0.5), (0.75, 0.9)), c.colour(*_GREEN)
    )
    canvas.layer(_below(horizon), colour, material="ground")


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
    canvas.layer(trunk, c.colour(*_BROWN), enabled=on, shadow=(0.05 * h, 0.75), material="bark")
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
        material="foliage",
    )


def _wooded(
    c: _Draws,
    frame,
    *,
    horizon: tuple[float, float],
    sky: tuple[int, float],
    hills: tuple[int, float],
    trees: tuple[int, int, float, float, float],
    heights: tuple[float, float],
    spread: float,
    conifer_p: float,
) -> _Canvas:
    """Sky, hills and ground with trees standing on it, drawn in that order: ``sky`` = (clouds,
    sun probability), ``hills`` = (count, probability), ``trees`` = (slots, always there,
    probability of the others, gap below the horizon, nearest base), tree heights in
    ``heights`` (scaled by perspective), bases within ±``spread`` of the width."""
    horizon_y = c.uniform(*horizon)
    canvas = _sky(c, sky[0], horizon_y, sky[1], frame)
    _hills(c, canvas, horizon_y, *hills)
    _ground(c, canvas, horizon_y)
    aspect = canvas.aspect
    count, always, p, gap, near = trees
    on, base = _sorted_slots(c, count, always, p, horizon_y + gap, torch.full_like(horizon_y, near))
    for k in range(count):
        h = c.uniform(*heights) * _perspective(base[:, k], horizon_y)
        x = c.uniform(-spread * aspect, spread * aspect)
        _tree(c, canvas, on[:, k], x, base[:, k], h, conifer_p)
    return canvas


def _countryside(c: _Draws, frame) -> _Canvas:
    return _wooded(
        c,
        frame,
        horizon=(0.0, 0.4),
        sky=(3, 0.75),
        hills=(3, 0.7),
        trees=(3, 0, 0.6, 0.05, 0.95),
        heights=(0.35, 0.6),
        spread=0.9,
        conifer_p=0.3,
    )


def _village(c: _Draws, frame) -> _Canvas:
    horizon = c.uniform(0.05, 0.4)
    canvas = _sky(c, 2, horizon, 0.6, frame)
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
            material="plaster",
        )
        red = c.coin(0.65)
        roof = torch.where(
            red[:, None],
            c.colour((0.98, 1.06), (0.5, 0.8), (0.5, 0.8)),
            c.colour((0.55, 0.68), (0.35, 0.6), (0.4, 0.65)),
        )
        roof_sdf = _triangle((x - 0.6 * w, eave), (x + 0.6 * w, eave), (x, eave - roof_h))
        canvas.layer(roof_sdf, roof, enabled=on[:, k], shadow=(0.1 * w, 0.75), material="roof")
        door_x = x + w * c.uniform(-0.1, 0.1)
        canvas.layer(
            _box(door_x, by - 0.21 * wall_h, 0.09 * w, 0.21 * wall_h),
            c.colour(*_BROWN),
            enabled=on[:, k],
            material="wood",
        )
        glass = c.colour((0.12, 0.6), (0.15, 0.45), (0.85, 1.0))
        for side in (-1, 1):
            canvas.layer(
                _box(x + side * 0.3 * w, by - 0.68 * wall_h, 0.09 * w, 0.09 * w),
                glass,
                enabled=on[:, k],
                material="glass",
            )
    return canvas


def _forest(c: _Draws, frame) -> _Canvas:
    return _wooded(
        c,
        frame,
        horizon=(-0.1, 0.3),
        sky=(1, 0.5),
        hills=(2, 0.6),
        trees=(6, 2, 0.7, 0.02, 0.98),
        heights=(0.35, 0.65),
        spread=0.95,
        conifer_p=0.6,
    )


def _still_life(c: _Draws, frame) -> _Canvas:
    wall = c.colour((0.0, 1.0), (0.1, 0.35), (0.75, 0.95))
    angle = c.uniform(0.2 * math.pi, 0.8 * math.pi)
    light = (torch.cos(angle), -torch.sin(angle))
    canvas = _Canvas(wall, frame, light=light, material="room")
    aspect = canvas.aspect
    top = c.uniform(0.05, 0.35)
    # A framed picture on the wall: an outlined frame and an inner canvas of another colour.
    fx, fy, fw = c.uniform(-0.5 * aspect, 0.5 * aspect), c.uniform(-0.6, -0.4), c.uniform(0.2, 0.35)
    frame_on = c.coin(0.5)
    canvas.layer(_box(fx, fy, fw, 0.7 * fw), c.colour(*_BROWN), enabled=frame_on, material="wood")
    canvas.layer(
        _box(fx, fy, 0.8 * fw, 0.52 * fw),
        c.colour((0.0, 1.0), (0.2, 0.5), (0.6, 0.9)),
        enabled=frame_on,
        material="paint",
    )
    wood = c.colour((0.05, 0.1), (0.35, 0.6), (0.5, 0.75))
    canvas.layer(_below(top), wood, material="wood")
    front = _below(top + c.uniform(0.2, 0.3))  # the table's front edge
    canvas.layer(front, wood * 0.75, material="wood")
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
            material="object",
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


def _scene_names(scenes) -> tuple[str, ...]:
    if isinstance(scenes, str):
        raise TypeError(f"scenes: expected a sequence of names, e.g. ({scenes!r},)")
    names = SCENE_TYPES if scenes is None else tuple(scenes)
    if not names:
        raise ValueError("scenes: give at least one scene type")
    for name in names:
        check_choice(name, "scenes", SCENE_TYPES)
    return names


def _check_pixels(value, name: str, high: float, what: str) -> float:
    """A finite number in [0, high] (bools refused), as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name}: expected {what}, got {value!r}")
    if not (math.isfinite(value) and 0 <= value <= high):
        raise ValueError(f"{name}: expected {what} in [0, {high:g}], got {value!r}")
    return float(value)


def _render(
    n: int,
    height: int,
    width: int,
    seed: int,
    names: tuple[str, ...],
    device: torch.device,
    *,
    style: str,
    outline: float = 0.0,
    shading: bool = True,
    blur: float = 0.0,
    noise: float = 0.0,
    outlines: bool = False,
    regions: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Images, labels and, when asked, outline ink and region maps (the number of the layer
    whose shape covers each pixel) of ``n`` scenes in one style. Everything that places a
    shape or picks a colour comes from the uniforms of ``(seed, k)``; the photo style draws its
    texture and noise from the per-image keys, so both styles of image k share every shape."""
    u, keys = _image_uniforms(seed, n)
    labels = torch.tensor([SCENE_TYPES.index(s) for s in names])[
        (u[:, 0] * len(names)).long().clamp(max=len(names) - 1)
    ]
    aspect = width / height
    ys = (torch.arange(height, dtype=torch.float32, device=device) * 2 + 1) / height - 1
    xs = ((torch.arange(width, dtype=torch.float32, device=device) * 2 + 1) / width - 1) * aspect
    frame = _Frame(
        xs,
        ys,
        2.0 / height,
        style=style,
        outline=outline,
        shading=shading,
        blur=blur,
        noise=noise,
        regions=regions,
    )

    images = torch.empty(n, 3, height, width, device=device)
    ink = torch.empty(n, 1, height, width, device=device) if outlines else None
    layout = torch.empty(n, 1, height, width, dtype=torch.int32, device=device) if regions else None
    chunk = max(1, _PIXELS_PER_CHUNK // (height * width))
    for label in torch.unique(labels).tolist():
        idx = torch.nonzero(labels == label).squeeze(1)
        for start in range(0, idx.numel(), chunk):
            part = idx[start : start + chunk]
            draws = _Draws(u[part, 1:].to(device))
            chunk_frame = replace(frame, keys=keys[part].to(device))
            canvas = _SCENES[SCENE_TYPES[label]](draws, chunk_frame)
            at = part.to(device)
            images[at] = canvas.images()
            if ink is not None:
                ink[at] = canvas.outlines()
            if layout is not None:
                layout[at] = canvas.region_map()
    return images, labels.to(device), ink, layout


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
    :func:`photo_renders` draws the same scenes as photographs.

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
    outline = _check_pixels(outline, "outline", height / 4, "a width in pixels")
    if not isinstance(shading, bool):
        raise TypeError(f"shading: expected True or False, got {shading!r}")
    names = _scene_names(scenes)
    device = resolve_device(device)

    images, labels, ink, _ = _render(
        n,
        height,
        width,
        seed,
        names,
        device,
        style="cartoon",
        outline=outline,
        shading=shading,
        outlines=return_outlines,
    )
    info = {"seed": seed, "outline": outline, "shading": shading, "scenes": names}
    result = ImageSet(images, labels, SCENE_TYPES, "cartoons", info)
    # ink is there exactly when return_outlines asks for it
    return (result, ink) if ink is not None else result


def photo_renders(
    n: int = 1000,
    *,
    size: int | tuple[int, int] = 64,
    seed: int = 0,
    scenes: Sequence[str] | None = None,
    blur: float | None = None,
    noise: float = 0.02,
    device: str | torch.device = "cpu",
) -> ImageSet:
    """The scenes of :func:`cartoons` rendered as photographs: N×3×H×W floats in [0, 1].

    Why: CartoonGAN (Chen, Lai & Liu, CVPR 2018) learns photo → cartoon from *unpaired* photos
    and cartoons, and assumes the two sets show the same kind of world in two styles. The
    bundled :func:`lib.datasets.photos` differ from the cartoons in content (cats, rockets,
    coffee) as well as in style, so a generator has to invent the content it is asked to
    translate. These renders show the cartoons' world in a photo's style: ``photo_renders(n,
    seed=s)`` and ``cartoons(n, seed=s)`` (same ``size`` and ``scenes``) hold the same shapes in
    the same places with the same base colours, image for image. Train on them *unpaired* (draw
    the two sides with different seeds, or shuffle them apart with :func:`unpaired_batches`);
    the pairing is for evaluation only: a translated render can be compared with its cartoon.

    How: every shape is the same signed distance field d as in the cartoon, drawn with

    * no outline: coverage over one pixel (or a material's soft edge: clouds, the sky's band);
    * texture: the base colour × (1 + a·fractal value noise) with a per-material frequency and
      grain (grass, foliage, bark, plaster, roof tiles, wood, glass, paint, glossy objects),
      band-limited to the pixel grid;
    * continuous light from the scene's light direction: each shape is lit as a dome over its
      outline (Lambert, with a Blinn-Phong highlight on glossy materials), instead of two or
      three flat tones; a face turned to the camera keeps its base colour;
    * soft shadows cast away from the light onto solid surfaces; haze towards the horizon;
    * a camera: lens fall-off, a tone curve that rolls off highlights, a Gaussian lens blur and
      sensor noise (read plus shot noise).

    Texture and noise are hashed from a per-image key of ``(seed, k)`` and the pixel's position,
    so image k depends only on ``(seed, k)``, not on ``n``, the batch or the device. About five
    times slower than :func:`cartoons` (texture is evaluated layer by layer): 1,000 images of
    64×64 take about 3 seconds on two CPU cores.

    Args:
        n: number of images.
        size: side in pixels, or (height, width); at least 16.
        seed: the random seed (the scenes of ``cartoons(seed=seed)``).
        scenes: the scene types to draw from (uniformly), ``SCENE_TYPES`` by default.
        blur: σ of the lens blur in pixels; ``None`` gives height / 128 (0.5 px at 64², 1 px at
            128²), the same in scene units at every size. 0 is a perfect lens.
        noise: σ of the sensor noise at full brightness (values in [0, 1]); 0 for none.
        device: where to render (``"auto"`` picks CUDA when present).
    """
    check_positive_int(n, "n")
    height, width = _hw(size)
    blur = _check_pixels(
        height / 128 if blur is None else blur, "blur", height / 8, "a σ in pixels"
    )
    noise = _check_pixels(noise, "noise", 0.5, "a noise level")
    names = _scene_names(scenes)
    device = resolve_device(device)

    images, labels, _, _ = _render(
        n, height, width, seed, names, device, style="photo", blur=blur, noise=noise
    )
    info = {"seed": seed, "blur": blur, "noise": noise, "scenes": names}
    return ImageSet(images, labels, SCENE_TYPES, "photo_renders", info)


def scene_layouts(
    n: int = 1000,
    *,
    size: int | tuple[int, int] = 64,
    seed: int = 0,
    scenes: Sequence[str] | None = None,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """The layout of the scenes of :func:`cartoons` and :func:`photo_renders` (same ``n``-th
    image, ``size``, ``seed`` and ``scenes``): N×1×H×W int32, for each pixel the number of the
    shape that covers it (its drawing order, 0 = the backdrop; later shapes cover earlier ones).
    The boundaries between numbers are where the scene's regions meet, in both styles — the
    ground truth for whether a translation keeps the regions where they were
    (:func:`lib.metrics.cartoon.boundary_f_score`)."""
    check_positive_int(n, "n")
    height, width = _hw(size)
    names = _scene_names(scenes)
    device = resolve_device(device)
    *_, layout = _render(n, height, width, seed, names, device, style="cartoon", regions=True)
    assert layout is not None  # asked for with regions=True
    return layout
