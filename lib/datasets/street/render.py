"""Rendering the street by inverse mapping: each layer's texel → pixel affine maps, one bilinear
lookup per layer for all clips and frames of a chunk, and the exact backward flow and occlusion
read off the same maps (:func:`street`, :class:`StreetClips`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from lib._checks import check_positive_int
from lib.datasets.street.layout import (
    _BUILDING,
    _CAM_ACCEL,
    _CAM_SPEED,
    _CAR,
    _CAR_D,
    _CAR_H,
    _CAR_L,
    _HORIZON,
    _MARGIN,
    _PARALLAX,
    _PERSON,
    _PERSON_H,
    _PERSON_W,
    _ROAD,
    _SIDEWALK,
    _SKY,
    _SWAY,
    STREET_CLASSES,
    STREET_PALETTE,
    _check_number,
    _check_size,
    _clip_generator,
    _draw_clip,
    _Extent,
    _stack,
)
from lib.datasets.street.textures import (
    _building_texture,
    _car_front_texture,
    _car_side_texture,
    _ground_texture,
    _person_texture,
    _sky_texture,
    _soften,
)
from lib.device import resolve_device

_PIXELS_PER_CHUNK = 1 << 21  # clips × frames × H × W rendered at once; results do not depend on it


@dataclass(frozen=True)
class StreetClips:
    """Clips of the toy street with exact per-frame ground truth.

    Shapes (N clips of T frames of H×W pixels):

    * ``frames``: N×T×3×H×W float32 RGB in [0, 1];
    * ``labels``: N×T×H×W int64 class ids, ``class_names[labels]`` (sky, building, sidewalk,
      road, car, person);
    * ``instances``: N×T×H×W int64, 0 for "stuff" (sky, building, sidewalk, road), 1…K for the
      cars and K+1…K+P for the people of a clip, the same id in every frame;
    * ``flow``: N×T×2×H×W float32 backward flow in pixels (x, y): pixel p of frame t was at
      ``p + flow(p)`` in frame t−1; zero at t = 0;
    * ``occlusion``: N×T×H×W bool, True where the pixel's surface point was not visible in frame
      t−1 (disoccluded, entering the frame, or a newly visible face); all True at t = 0, where
      the flow is invalid.
    """

    frames: torch.Tensor
    labels: torch.Tensor
    instances: torch.Tensor
    flow: torch.Tensor
    occlusion: torch.Tensor
    class_names: tuple[str, ...] = STREET_CLASSES
    name: str = "street"
    info: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.frames.ndim != 5 or self.frames.shape[2] != 3:
            raise ValueError(f"frames: expected N×T×3×H×W, got {tuple(self.frames.shape)}")
        n, t, _, h, w = self.frames.shape
        expected = {
            "labels": (n, t, h, w),
            "instances": (n, t, h, w),
            "flow": (n, t, 2, h, w),
            "occlusion": (n, t, h, w),
        }
        for key, shape in expected.items():
            got = tuple(getattr(self, key).shape)
            if got != shape:
                raise ValueError(f"{key}: expected shape {shape} to match the frames, got {got}")

    def __len__(self) -> int:
        return self.frames.shape[0]

    def __getitem__(self, index) -> StreetClips:
        if isinstance(index, int):
            index = slice(index, index + 1) if index != -1 else slice(-1, None)
        return StreetClips(
            self.frames[index],
            self.labels[index],
            self.instances[index],
            self.flow[index],
            self.occlusion[index],
            self.class_names,
            self.name,
            dict(self.info),
        )

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def num_frames(self) -> int:
        return self.frames.shape[1]

    def to(self, device: str | torch.device) -> StreetClips:
        return StreetClips(
            self.frames.to(device),
            self.labels.to(device),
            self.instances.to(device),
            self.flow.to(device),
            self.occlusion.to(device),
            self.class_names,
            self.name,
            self.info,
        )

    def label_colours(self) -> torch.Tensor:
        """The label maps drawn in the Cityscapes colours: N×T×3×H×W float in [0, 1]."""
        palette = STREET_PALETTE.to(self.labels.device)
        return palette[self.labels].permute(0, 1, 4, 2, 3).contiguous()

    def __repr__(self) -> str:
        n, t, _, h, w = self.frames.shape
        return f"StreetClips({n} clips × {t} frames, 3×{h}×{w}, {self.frames.device})"


# -------------------------------------------------------------------------------- transforms
def _affine(sx, tx, sy, ty) -> torch.Tensor:
    """Batched 3×3 maps (x, y) → (sx·x + tx, sy·y + ty); all arguments broadcast."""
    sx, tx, sy, ty = torch.broadcast_tensors(*(torch.as_tensor(a) for a in (sx, tx, sy, ty)))
    m = torch.zeros(*sx.shape, 3, 3, dtype=torch.float64)
    m[..., 0, 0], m[..., 0, 2], m[..., 1, 1], m[..., 1, 2] = sx, tx, sy, ty
    m[..., 2, 2] = 1
    return m


def _layer_maps(p: dict, cfg: dict) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Texel → pixel maps A (N×L×T×3×3, float64) and visibility (N×L×T) of every layer in
    back-to-front order, and the layer list (kinds, instances, texture extents)."""
    n, t = p["cam_x"].shape
    h_px = cfg["height"]
    pix = _affine(h_px, -0.5, h_px, -0.5)  # scene units → pixel coordinates (centres at ints)

    def camera(parallax):
        return _affine(1.0, -parallax * p["cam_x"], 1.0, -parallax * p["cam_y"])  # N×T

    maps, vis = [], []
    for ext, parallax in zip(
        (cfg["sky"], cfg["buildings_ext"], cfg["ground"]), _PARALLAX, strict=True
    ):
        maps.append(pix @ camera(parallax) @ ext.to_local())
        vis.append(torch.ones(n, t, dtype=torch.bool))
    cam = camera(1.0)
    # People: sprite of width W centred on x, feet on the sidewalk, bobbing with their gait.
    t_idx = torch.arange(t, dtype=torch.float64)
    for j in range(cfg["people"]):
        x = p["person_x0"][:, j, None] + p["person_v"][:, j, None] * t_idx
        bob = (
            p["person_bob"][:, j, None]
            * torch.sin(
                math.pi * t_idx / p["person_period"][:, j, None] + p["person_phase"][:, j, None]
            ).abs()
        )
        s = torch.sign(p["person_v"][:, j, None]).expand(n, t)
        pose = _affine(
            s, x - s * _PERSON_W / 2, 1.0, p["person_feet"][:, j, None] - bob - _PERSON_H
        )
        maps.append(pix @ cam @ pose @ cfg["person"].to_local())
        vis.append(torch.ones(n, t, dtype=torch.bool))
    # Cars: orthographic box turning by yaw θ about its vertical axis. The near side face maps
    # a ∈ [−L/2, L/2] to x + s·k·(a cos θ − (D/2) sin θ); the front face maps b ∈ [−D/2, D/2] to
    # x + s·k·((L/2) cos θ + b sin θ). Each face is visible while it faces the camera.
    faces = []
    for j in range(cfg["cars"]):
        faces.append((j, "side"))
    if cfg["turning"]:
        faces.append((cfg["cars"] - 1, "front"))
    for j, face in faces:
        x, y = p["car_x"][:, j], p["car_y"][:, j]
        k, s = p["car_k"][:, j], p["car_dir"][:, j, None].expand(n, t)
        c, sn = torch.cos(p["car_yaw"][:, j]), torch.sin(p["car_yaw"][:, j])
        top = y - k * _CAR_H
        if face == "side":
            scale = s * k * c
            pose = _affine(scale, x - s * k * (_CAR_L / 2 * c + _CAR_D / 2 * sn), k, top)
            maps.append(pix @ cam @ pose @ cfg["car"].to_local())
            vis.append(c > 1e-3)
        else:
            scale = s * k * sn
            pose = _affine(scale, x + s * k * (_CAR_L / 2 * c - _CAR_D / 2 * sn), k, top)
            maps.append(pix @ cam @ pose @ cfg["front"].to_local())
            vis.append(sn > 1e-3)
    layers = {
        "kind": ["sky", "building", "ground"]
        + ["person"] * cfg["people"]
        + ["car"] * cfg["cars"]
        + (["front"] if cfg["turning"] else []),
        "instance": [0, 0, 0]
        + [cfg["cars"] + 1 + j for j in range(cfg["people"])]
        + [j + 1 for j, _ in faces],
        "extent": [cfg["sky"], cfg["buildings_ext"], cfg["ground"]]
        + [cfg["person"]] * cfg["people"]
        + [cfg["car"] if face == "side" else cfg["front"] for _, face in faces],
    }
    return torch.stack(maps, 1), torch.stack(vis, 1), layers


def _sample(tex: torch.Tensor, cx: torch.Tensor, cy: torch.Tensor) -> torch.Tensor:
    """Bilinear lookup of texel coordinates (cx, cy) (texel centres at integers) in each clip's
    texture: ``tex`` is N×C×h×w, the coordinates broadcast to N×T×Hb×Wb; returns
    C×N×T×Hb×Wb. Outside the texture everything is 0 (transparent)."""
    n, c, h, w = tex.shape
    gx = (2 * cx + 1) / w - 1  # align_corners=False: texel c → (2c + 1) / size − 1
    gy = (2 * cy + 1) / h - 1
    gx, gy = torch.broadcast_tensors(gx, gy)
    shape = gx.shape
    grid = torch.stack([gx, gy], -1).view(n, -1, shape[-1], 2)
    out = F.grid_sample(tex, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out.view(n, c, *shape[1:]).transpose(0, 1)


def _boxes(scale, shift, tex_size, frame_size, visible):
    """Pixel index range [lo, hi] (inclusive, clipped to the frame) covered by a texture whose
    texels map to pixels by ``pixel = scale·texel + shift``; empty (lo > hi) where invisible."""
    a = shift - 0.5 * scale
    b = shift + (tex_size - 0.5) * scale
    lo = torch.ceil(torch.minimum(a, b)).clamp(0, frame_size).long()
    hi = torch.floor(torch.maximum(a, b)).clamp(-1, frame_size - 1).long()
    return torch.where(visible, lo, 0), torch.where(visible, hi, -1)


class _Region:
    """The pixels of one box per (clip, frame), as a dense N×T×Hb×Wb block.

    When the boxes of all clips and frames nearly coincide (the sky, the buildings, the ground)
    the block is a plain slice of the frames; otherwise (small moving sprites) each box is
    gathered from the flat pixel buffers by index, padding pointing at a spare last element.
    ``valid`` marks the block's pixels that lie inside their own box.
    """

    def __init__(self, x0, x1, y0, y1, shape, device):
        n, t, h, w = shape
        self.npix = n * t * h * w
        sizes_x, sizes_y = (x1 - x0 + 1).clamp(min=0), (y1 - y0 + 1).clamp(min=0)
        wb, hb = int(sizes_x.max()), int(sizes_y.max())
        self.empty = wb == 0 or hb == 0
        if self.empty:
            return
        live = (sizes_x > 0) & (sizes_y > 0)
        ux0, ux1 = int(x0[live].min()), int(x1[live].max())
        uy0, uy1 = int(y0[live].min()), int(y1[live].max())
        x0, x1, y0, y1 = (v.to(device)[..., None, None] for v in (x0, x1, y0, y1))
        self.shape = (n, t, h, w)
        self.sliced = (ux1 - ux0 + 1) * (uy1 - uy0 + 1) <= 1.5 * wb * hb
        if self.sliced:
            self.xs = torch.arange(ux0, ux1 + 1, device=device).view(1, 1, 1, -1)
            self.ys = torch.arange(uy0, uy1 + 1, device=device).view(1, 1, -1, 1)
            self.window = (slice(uy0, uy1 + 1), slice(ux0, ux1 + 1))
        else:
            self.xs = x0 + torch.arange(wb, device=device).view(1, 1, 1, -1)
            self.ys = y0 + torch.arange(hb, device=device).view(1, 1, -1, 1)
        self.valid = (self.xs >= x0) & (self.xs <= x1) & (self.ys >= y0) & (self.ys <= y1)
        if not self.sliced:
            self.xs, self.ys = self.xs.clamp(max=w - 1), self.ys.clamp(max=h - 1)
            row0 = (torch.arange(n * t, device=device) * h).view(n, t, 1, 1)
            index = torch.where(self.valid, (row0 + self.ys) * w + self.xs, self.npix)
            self.index = index.reshape(-1)
            self.block = self.valid.shape

    def read(self, flat: torch.Tensor) -> torch.Tensor:
        if self.sliced:
            return flat[: self.npix].view(self.shape)[:, :, self.window[0], self.window[1]]
        return flat.index_select(0, self.index).view(self.block)

    def write(self, flat: torch.Tensor, values: torch.Tensor) -> None:
        if self.sliced:
            flat[: self.npix].view(self.shape)[:, :, self.window[0], self.window[1]] = values
        else:
            flat.index_copy_(0, self.index, values.reshape(-1))


def _render_chunk(p: dict, cfg: dict, texture: float, device) -> dict:
    n, t = p["cam_x"].shape
    h, w = cfg["height"], cfg["width"]
    A, vis, layers = _layer_maps(p, cfg)
    n_layers = A.shape[1]
    ext = layers["extent"]
    tex_w = torch.tensor([e.w for e in ext], dtype=torch.float64)[None, :, None]
    tex_h = torch.tensor([e.h for e in ext], dtype=torch.float64)[None, :, None]
    # Every map is axis-aligned: pixel = a·texel + b along each axis.
    ax, bx, ay, by = A[..., 0, 0], A[..., 0, 2], A[..., 1, 1], A[..., 1, 2]
    ax, ay = torch.where(vis, ax, 1.0), torch.where(vis, ay, 1.0)

    def prev(x):  # the value of the previous frame (frame 0 keeps its own)
        return torch.cat([x[:, :, :1], x[:, :, :-1]], 2)

    f32 = {
        # pixel of frame t → texel
        "kx": 1 / ax, "kbx": -bx / ax, "ky": 1 / ay, "kby": -by / ay,
        # pixel of frame t → pixel of frame t−1 where the same texel was (q = g·p + g0)
        "gx": prev(ax) / ax, "gx0": prev(bx) - prev(ax) * bx / ax,
        "gy": prev(ay) / ay, "gy0": prev(by) - prev(ay) * by / ay,
    }  # fmt: skip
    f32["kx_prev"], f32["kbx_prev"] = prev(f32["kx"]), prev(f32["kbx"])
    f32["ky_prev"], f32["kby_prev"] = prev(f32["ky"]), prev(f32["kby"])
    f32 = {k: v.to(device, torch.float32) for k, v in f32.items()}
    x0, x1 = _boxes(ax, bx, tex_w, w, vis)
    y0, y1 = _boxes(ay, by, tex_h, h, vis)
    vis_prev = torch.cat([torch.zeros_like(vis[:, :, :1]), vis[:, :, :-1]], 2)
    box_prev = [prev(v) for v in (x0, x1, y0, y1)]
    box_prev[1] = torch.where(vis_prev, box_prev[1], -1)  # empty at t = 0 and where hidden
    box_prev[3] = torch.where(vis_prev, box_prev[3], -1)

    # Textures: one per layer and clip, built in scene units, then softened.
    dev = {k: v.to(device) for k, v in p.items()}
    textures = {
        "sky": _sky_texture(dev, cfg["sky"], texture, device),
        "building": _building_texture(dev, cfg["buildings_ext"], texture, device),
        "ground": _ground_texture(dev, cfg["ground"], texture, device),
    }
    if cfg["people"]:
        flat = {
            key: dev[f"person_{key}"].flatten(0, 1) for key in ("skin", "hair", "shirt", "trousers")
        }
        flat["grain"] = dev["person_grain"].flatten(0, 1)[:, None]
        textures["person"] = _person_texture(flat, cfg["person"], texture, device)
    if cfg["cars"]:
        textures["car"] = _car_side_texture(
            dev["car_colour"].flatten(0, 1),
            dev["car_grain"].flatten(0, 1)[:, None],
            cfg["car"],
            texture,
            device,
        )
    if cfg["turning"]:
        textures["front"] = _car_front_texture(
            dev["car_colour"][:, -1], dev["car_grain"][:, -1, None], cfg["front"], texture, device
        )
    softened = {k: torch.cat([_soften(v[:, :3]), v[:, 3:]], 1) for k, v in textures.items()}
    per_layer, seen = [], {}  # each layer's textures, N×C×h×w
    for kind in layers["kind"]:
        tex = softened[kind]
        if kind in ("person", "car"):
            j = seen[kind] = seen.get(kind, -1) + 1
            tex = tex.view(n, -1, *tex.shape[1:])[:, j]
        per_layer.append(tex.contiguous())

    # Flat pixel buffers with one spare element at the end (the target of box padding).
    npix, shape = n * t * h * w, (n, t, h, w)
    rgb = [torch.zeros(npix + 1, device=device) for _ in range(3)]
    code = torch.zeros(npix + 1, dtype=torch.int16, device=device)  # 2·(front layer) + road

    # Back to front: each layer overwrites the pixels its shape covers, inside its box.
    for layer in range(n_layers):
        region = _Region(x0[:, layer], x1[:, layer], y0[:, layer], y1[:, layer], shape, device)
        if region.empty:
            continue

        def c(key, layer=layer):
            return f32[key][:, layer, :, None, None]

        e = ext[layer]
        cx = c("kx") * region.xs.float() + c("kbx")
        cy = c("ky") * region.ys.float() + c("kby")
        s = _sample(per_layer[layer], cx, cy)
        keep = region.valid & (s[3] > 0.5)
        for ch in range(3):
            region.write(rgb[ch], torch.lerp(region.read(rgb[ch]), s[ch], keep.float()))
        new = 2 * layer + (s[4] > 0.5).to(torch.int16) if e is cfg["ground"] else 2 * layer
        old = region.read(code)
        region.write(code, old + keep.to(torch.int16) * (new - old))
    code = code[:npix].long()
    top = torch.div(code, 2, rounding_mode="floor")

    # Per-layer tables looked up at each pixel's front layer.
    classes = []
    for kind in layers["kind"]:
        if kind == "ground":
            classes += [_SIDEWALK, _ROAD]
        else:
            cls = {"sky": _SKY, "building": _BUILDING, "person": _PERSON}.get(kind, _CAR)
            classes += [cls, cls]
    label = torch.tensor(classes, device=device).index_select(0, code)
    inst = torch.tensor(layers["instance"], device=device).repeat_interleave(2)
    inst = inst.index_select(0, code)
    offset = (torch.arange(n * t, device=device) * n_layers)[:, None]
    key = (top.view(n * t, h * w) + offset).view(-1)

    def at_pixels(name):  # table N×L×T → its value at each pixel's front layer
        return f32[name].transpose(1, 2).reshape(-1).index_select(0, key).view(shape)

    base_x = torch.arange(w, device=device, dtype=torch.float32)
    base_y = torch.arange(h, device=device, dtype=torch.float32)[:, None]
    # Where each pixel's surface point was in frame t−1 (one spare element, as above).
    qx, qy = torch.zeros(npix + 1, device=device), torch.zeros(npix + 1, device=device)
    qx4, qy4 = qx[:npix].view(shape), qy[:npix].view(shape)
    torch.addcmul(at_pixels("gx0"), at_pixels("gx"), base_x, out=qx4)
    torch.addcmul(at_pixels("gy0"), at_pixels("gy"), base_y, out=qy4)
    hidden = (~vis_prev).transpose(1, 2).reshape(-1).to(device, torch.uint8)  # turned away
    occluded = torch.zeros(npix + 1, dtype=torch.uint8, device=device)
    torch.index_select(hidden, 0, key, out=occluded[:npix])
    top_flat = torch.full((npix + 1,), n_layers, dtype=torch.int16, device=device)
    top_flat[:npix] = top
    top = top_flat

    # Occlusion by nearer layers: pixel p is occluded when, in frame t−1, a layer in front of
    # its own covered q. Candidates lie in that layer's box at t−1 grown by the frame's
    # largest flow.
    reach_x = ((qx4 - base_x).abs().amax((2, 3)).ceil() + 1).long().cpu()
    reach_y = ((qy4 - base_y).abs().amax((2, 3)).ceil() + 1).long().cpu()
    for layer in range(1, n_layers):
        bx0, bx1, by0, by1 = (v[:, layer] for v in box_prev)
        empty = (bx0 > bx1) | (by0 > by1)
        region = _Region(
            torch.where(empty, 0, (bx0 - reach_x).clamp(min=0)),
            torch.where(empty, -1, (bx1 + reach_x).clamp(max=w - 1)),
            torch.where(empty, 0, (by0 - reach_y).clamp(min=0)),
            torch.where(empty, -1, (by1 + reach_y).clamp(max=h - 1)),
            shape,
            device,
        )
        if region.empty:
            continue

        def c(key, layer=layer):
            return f32[key][:, layer, :, None, None]

        e = ext[layer]
        cx = c("kx_prev") * region.read(qx) + c("kbx_prev")
        cy = c("ky_prev") * region.read(qy) + c("kby_prev")
        alpha = _sample(per_layer[layer][:, 3:4], cx, cy)[0]
        cover = region.valid & (alpha > 0.5) & (region.read(top) < layer)
        region.write(occluded, region.read(occluded) | cover.to(torch.uint8))
    occluded = occluded[:npix].view(shape).bool()
    occluded |= (qx4 < -0.5) | (qx4 > w - 0.5) | (qy4 < -0.5) | (qy4 > h - 0.5)  # entering
    occluded[:, 0] = True
    flow = torch.stack([qx4 - base_x, qy4 - base_y], 2)
    flow[:, 0] = 0
    frames = torch.stack([channel[:npix].view(shape) for channel in rgb], 2)
    return {
        "frames": frames,
        "labels": label.view(shape),
        "instances": inst.view(shape),
        "flow": flow,
        "occlusion": occluded,
    }


def street(
    n: int = 16,
    *,
    frames: int = 16,
    size: int | tuple[int, int] = 64,
    seed: int = 0,
    cars: int = 3,
    people: int = 2,
    turning: bool = False,
    scaling: bool = False,
    camera_speed: float = 1.0,
    texture: float = 1.0,
    device: str | torch.device = "cpu",
) -> StreetClips:
    """``n`` toy street clips of ``frames`` frames with exact flow, occlusion and labels.

    Every frame is rendered by inverse mapping of textured layers with known affine maps
    ``A_{l,t}`` (texture → pixels); the backward flow of a pixel p seen on layer l is
    ``A_{l,t−1} A_{l,t}⁻¹ p − p`` and it is occluded when that point is outside frame t−1,
    behind a nearer layer there, or on a face not visible then (see the module docstring).

    Args:
        n: number of clips.
        frames: frames per clip (T ≥ 1; frame 0 has no flow).
        size: frame side in pixels (64 by default; any size ≥ 16, e.g. 256 for a GPU run), or a
            ``(height, width)`` pair (aspect ratio between 1/4 and 4).
        seed: the random seed; clip k depends only on ``(seed, k)``, not on ``n`` or ``size``.
        cars: cars per clip (0 … 8), in two lanes driving in opposite directions.
        people: people walking on the sidewalk per clip (0 … 8).
        turning: the nearest car of each clip turns towards the camera by 60–90° over the clip,
            so its side shrinks and its front appears (what flow warping cannot produce).
        scaling: the nearest car of each clip approaches or recedes (grows or shrinks by a factor
            e^±(0.35…0.6) over the clip).
        camera_speed: multiplies the camera's pan speed (0 gives a still camera; up to 4).
        texture: strength of the textures' grain and blotches (0 leaves flat colours with only
            windows, tiles and lane marks, where flow is hard to observe; up to 2).
        device: where to render (``"auto"`` picks CUDA when present).

    Returns:
        :class:`StreetClips` with frames N×T×3×H×W, labels, instances, flow N×T×2×H×W and the
        occlusion mask; ``info`` holds the options and the instance id of the turning/scaling
        car (``hero_instance``, the last car of each clip).
    """
    check_positive_int(n, "n")
    check_positive_int(frames, "frames")
    height, width = _check_size(size)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed: expected an integer, got {type(seed).__name__}")
    check_positive_int(cars, "cars", minimum=0)
    check_positive_int(people, "people", minimum=0)
    if cars > 8 or people > 8:
        raise ValueError(f"cars, people: at most 8 of each per clip, got {cars} and {people}")
    for name, flag in (("turning", turning), ("scaling", scaling)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name}: expected True or False, got {flag!r}")
    if (turning or scaling) and cars == 0:
        raise ValueError("turning/scaling: need at least one car (cars >= 1)")
    camera_speed = _check_number(camera_speed, "camera_speed", 0.0, 4.0)
    texture = _check_number(texture, "texture", 0.0, 2.0)
    device = resolve_device(device)

    aspect = width / height
    rho = float(height)  # texels per scene unit: one texel per pixel at scale 1
    reach = camera_speed * _CAM_SPEED[1] * max(frames - 1, 0) * (1 + _CAM_ACCEL / 2)
    sway = 2 * _SWAY + 0.02

    def wide(parallax, v0, v1):
        span = parallax * reach + _MARGIN
        return _Extent(-span, aspect + span, v0, v1, rho)

    cfg = {
        "frames": frames,
        "height": height,
        "width": width,
        "aspect": aspect,
        "camera_speed": camera_speed,
        "people": people,
        "cars": cars,
        "turning": turning,
        "scaling": scaling,
        "sky": wide(_PARALLAX[0], -sway, 1 + sway),
        "buildings_ext": wide(_PARALLAX[1], 0.0, _HORIZON + 0.06),
        "ground": wide(_PARALLAX[2], _HORIZON - 0.04, 1 + sway),
        "person": _Extent(0.0, _PERSON_W, 0.0, _PERSON_H, rho),
        "car": _Extent(0.0, _CAR_L, 0.0, _CAR_H, rho),
        "front": _Extent(0.0, _CAR_D, 0.0, _CAR_H, rho),
    }
    ext = cfg["buildings_ext"]
    cfg["buildings"] = math.ceil((ext.u1 - ext.u0 + 0.3) / 0.16) + 1

    params = _stack([_draw_clip(_clip_generator(seed, k), cfg) for k in range(n)])
    per_chunk = max(1, _PIXELS_PER_CHUNK // (frames * height * width))
    out = {
        "frames": torch.empty(n, frames, 3, height, width, device=device),
        "labels": torch.empty(n, frames, height, width, dtype=torch.long, device=device),
        "instances": torch.empty(n, frames, height, width, dtype=torch.long, device=device),
        "flow": torch.empty(n, frames, 2, height, width, device=device),
        "occlusion": torch.empty(n, frames, height, width, dtype=torch.bool, device=device),
    }
    with torch.no_grad():
        for start in range(0, n, per_chunk):
            part = {k: v[start : start + per_chunk] for k, v in params.items()}
            rendered = _render_chunk(part, cfg, texture, device)
            for key, value in rendered.items():
                out[key][start : start + per_chunk] = value
    info = {
        "seed": seed,
        "size": (height, width),
        "cars": cars,
        "people": people,
        "turning": turning,
        "scaling": scaling,
        "camera_speed": camera_speed,
        "texture": texture,
        "hero_instance": cars if (turning or scaling) else None,
        "person_instances": list(range(cars + 1, cars + people + 1)),
    }
    return StreetClips(
        frames=out["frames"],
        labels=out["labels"],
        instances=out["instances"],
        flow=out["flow"],
        occlusion=out["occlusion"],
        info=info,
    )
