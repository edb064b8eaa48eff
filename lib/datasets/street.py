"""``street``: a toy street video with exact optical flow, occlusion, labels and instances.

A side view of a street: sky, a row of buildings, a sidewalk with people walking on it and a
two-lane road with cars, seen by a camera that pans (and sways a little). Every layer is a textured
sprite (an RGBA image, procedural in scene units) placed in each frame by a known axis-aligned
affine map ``A_{l,t}`` (texel → pixel: scale and shift per axis), and every frame is rendered by
*inverse mapping*: pixel p of frame t shows, of the layers that cover it, the front one, at texel
``u = A_{l,t}⁻¹ p`` (bilinear lookup; one ``grid_sample`` per layer for all clips and frames at
once, restricted to the layer's bounding box). Because the maps are known, the ground truth is
exact:

* **backward flow** of pixel p in frame t, seen on layer l: the same texture point was at
  ``q = A_{l,t−1} A_{l,t}⁻¹ p`` in frame t−1, so ``flow(p) = q − p`` (pixels, x then y);
  warping frame t−1 with it (:func:`lib.video.warp`) gives frame t up to the texture's bilinear
  interpolation error;
* **occlusion**: p is occluded when q lies outside frame t−1 (entering the frame), when its layer
  was not visible in frame t−1 (a face of a turning car seen edge-on or from behind) or when a
  layer in front covered q in frame t−1 (the background uncovered behind a moving car). It is
  computed from the layers' shapes at q, not by comparing colours.

Frame 0 has no previous frame: its flow is zero and all of it is marked occluded (invalid).

Options show the limits of flow-based video synthesis: ``turning=True`` makes one car per clip
turn towards the camera (its side shrinks and its front appears: new appearance that no warp of
the previous frame contains), ``scaling=True`` makes it approach or recede (it grows or shrinks).
The turning car is a box seen under orthographic projection, so each face moves by an exact
affine map, and its flow is exact too.

Scene units: 1 = the frame height, x right, y down. Every random number of clip ``k`` comes from a
generator seeded with ``(seed, k)``, so clip k is the same for any ``n`` and any chunking, and the
scene does not depend on the pixel size (textures are procedural in scene units): the same seed at
64² and at 256² shows the same street.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from lib._checks import check_positive_int
from lib.device import resolve_device

STREET_CLASSES = ("sky", "building", "sidewalk", "road", "car", "person")
# Cityscapes colours of the same classes, for showing label maps.
STREET_PALETTE = (
    torch.tensor(
        [[70, 130, 180], [70, 70, 70], [244, 35, 232], [128, 64, 128], [0, 0, 142], [220, 20, 60]]
    )
    / 255.0
)
_SKY, _BUILDING, _SIDEWALK, _ROAD, _CAR, _PERSON = range(6)

# Layout in scene units (1 = frame height, y down).
_HORIZON, _KERB, _LANE = 0.56, 0.665, 0.80  # ground top, road top, lane divider
_FAR_LANE, _NEAR_LANE = (0.735, 0.775), (0.90, 0.945)  # where car wheels touch the road
_SIDEWALK_FEET = (0.60, 0.655)
_CAR_L, _CAR_H, _CAR_D = 0.40, 0.16, 0.18  # car length, height, width (the front face)
_PERSON_W, _PERSON_H = 0.08, 0.22
_PARALLAX = (0.15, 0.7, 1.0)  # sky, buildings, ground (people and cars move with the ground)
_CAM_SPEED = (0.008, 0.03)  # units per frame, times camera_speed
_CAM_ACCEL = 0.3  # the pan speed drifts by up to ±30 % over a clip
_SWAY = 0.008  # vertical camera sway amplitude (units)
_CAR_SPEED = (0.01, 0.035)
_PERSON_SPEED = (0.002, 0.008)
_MARGIN = 0.1
# Procedural texture lattices (cells per scene unit): fixed, so the scene is size independent.
_GRAIN, _BLOTCH, _CLOUD = 48, 6, 5
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


# ------------------------------------------------------------------------------------ validation
def _check_size(size) -> tuple[int, int]:
    if isinstance(size, bool):
        raise TypeError(f"size: expected an int or (height, width), got {size!r}")
    if isinstance(size, int):
        size = (size, size)
    if (
        not isinstance(size, tuple | list)
        or len(size) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in size)
    ):
        raise TypeError(f"size: expected an int or a (height, width) pair of ints, got {size!r}")
    h, w = size
    if h < 16 or w < 16:
        raise ValueError(f"size: frames must be at least 16×16 pixels, got {h}×{w}")
    if not 0.25 <= w / h <= 4:
        raise ValueError(f"size: width/height must be between 1/4 and 4, got {w}/{h}")
    return h, w


def _check_number(value, name: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TypeError(f"{name}: expected a finite number, got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name}: expected a number in [{lo}, {hi}], got {value!r}")
    return float(value)


# --------------------------------------------------------------------------------- random scenes
def _clip_generator(seed: int, k: int) -> torch.Generator:
    state = np.random.SeedSequence([int(seed) & (2**63 - 1), k]).generate_state(2, np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def _uniform(gen, lo, hi, *shape) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(*shape, generator=gen, dtype=torch.float64)


def _sign(gen, *shape) -> torch.Tensor:
    return torch.randint(0, 2, shape, generator=gen).double() * 2 - 1


class _Extent:
    """A texture's rectangle in its own units, rasterised at ``rho`` texels per unit."""

    def __init__(self, u0: float, u1: float, v0: float, v1: float, rho: float):
        self.w = max(2, math.ceil((u1 - u0) * rho))
        self.h = max(2, math.ceil((v1 - v0) * rho))
        self.u0, self.v0 = u0, v0
        self.u1, self.v1 = u0 + self.w / rho, v0 + self.h / rho
        self.span = (v1 - v0, u1 - u0)  # as asked for, before rounding to whole texels

    def coords(self, device) -> tuple[torch.Tensor, torch.Tensor]:
        """Texel-centre coordinates: U of shape 1×1×w and V of shape 1×h×1."""
        u = torch.linspace(self.u0, self.u1, self.w + 1, device=device, dtype=torch.float32)
        v = torch.linspace(self.v0, self.v1, self.h + 1, device=device, dtype=torch.float32)
        return ((u[1:] + u[:-1]) / 2).view(1, 1, -1), ((v[1:] + v[:-1]) / 2).view(1, -1, 1)

    def to_local(self) -> torch.Tensor:
        """3×3 map from texel coordinates (texel centres at integers) to texture units."""
        su, sv = (self.u1 - self.u0) / self.w, (self.v1 - self.v0) / self.h
        return torch.tensor(
            [[su, 0, self.u0 + su / 2], [0, sv, self.v0 + sv / 2], [0, 0, 1]], dtype=torch.float64
        )

    def lattice_shape(self, cells: float) -> tuple[int, int]:
        """Noise lattice over the rectangle in scene units (independent of the pixel size)."""
        return tuple(max(2, math.ceil(round(side * cells, 6)) + 1) for side in self.span)


def _draw_clip(gen: torch.Generator, cfg: dict) -> dict:
    """All random numbers of one clip, drawn in a fixed order (CPU, float64)."""
    t_idx = torch.arange(cfg["frames"], dtype=torch.float64)
    span = max(cfg["frames"] - 1, 1)
    aspect = cfg["aspect"]
    p: dict = {}
    # Camera: pan with a drifting speed, and a small vertical sway.
    speed = _uniform(gen, *_CAM_SPEED, 1) * cfg["camera_speed"] * _sign(gen, 1)
    accel = _uniform(gen, -_CAM_ACCEL, _CAM_ACCEL, 1)
    sway, period, phase = (
        _uniform(gen, 0, _SWAY, 1),
        _uniform(gen, 6, 14, 1),
        _uniform(gen, 0, 2 * math.pi, 1),
    )
    sway = sway * min(cfg["camera_speed"], 1.0)
    p["cam_x"] = speed * (t_idx + accel * t_idx**2 / (2 * span))
    p["cam_y"] = sway * (torch.sin(2 * math.pi * t_idx / period + phase) - torch.sin(phase))

    # Sky: colours and cloud lattice.
    p["sky_top"] = torch.stack(
        [_uniform(gen, 0.2, 0.45, 1), _uniform(gen, 0.4, 0.65, 1), _uniform(gen, 0.7, 0.95, 1)], 1
    )[0]
    p["sky_horizon"] = 0.55 * p["sky_top"] + 0.45 * _uniform(gen, 0.8, 1.0, 3)
    p["cloud_cover"] = _uniform(gen, 0.3, 1.0, 1)
    p["sky_clouds"] = torch.rand(1, *cfg["sky"].lattice_shape(_CLOUD), generator=gen)
    p["sky_grain"] = torch.rand(1, *cfg["sky"].lattice_shape(_GRAIN), generator=gen) * 2 - 1

    # Buildings: a row of blocks with gaps, heights, colours and window grids.
    nb = cfg["buildings"]
    p["b_width"] = _uniform(gen, 0.16, 0.42, nb)
    p["b_gap"] = _uniform(gen, 0.0, 0.06, nb) * (torch.rand(nb, generator=gen) < 0.5)
    p["b_top"] = _uniform(gen, 0.05, 0.36, nb)
    base = torch.tensor(
        [[0.62, 0.32, 0.26], [0.80, 0.72, 0.58], [0.55, 0.55, 0.57], [0.45, 0.50, 0.60],
         [0.70, 0.58, 0.40], [0.38, 0.36, 0.36]],
        dtype=torch.float64,
    )  # fmt: skip
    kind = torch.randint(0, len(base), (nb,), generator=gen)
    p["b_colour"] = (base[kind] + _uniform(gen, -0.07, 0.07, nb, 3)).clamp(0, 1)
    p["b_win_dx"] = _uniform(gen, 0.045, 0.07, nb)
    p["b_win_dy"] = _uniform(gen, 0.05, 0.075, nb)
    p["b_win_fill"] = _uniform(gen, 0.45, 0.65, nb, 2)
    p["b_lit"] = (
        torch.rand(nb, 16, 16, generator=gen) < _uniform(gen, 0.1, 0.5, nb, 1, 1)
    ).double()
    p["b_grain"] = torch.rand(1, *cfg["buildings_ext"].lattice_shape(_GRAIN), generator=gen) * 2 - 1
    first = cfg["buildings_ext"].u0 - _uniform(gen, 0.0, 0.3, 1)  # the row starts off-texture
    edges = torch.cumsum(p["b_width"] + p["b_gap"], 0)
    p["b_start"] = torch.cat([torch.zeros(1, dtype=torch.float64), edges[:-1]]) + first

    # Ground: sidewalk tiles, kerb, asphalt, lane dashes.
    p["walk_colour"] = _uniform(gen, 0.58, 0.75, 1) + _uniform(gen, -0.03, 0.03, 3)
    p["walk_tile"] = _uniform(gen, 0.09, 0.14, 1)
    p["walk_tiles"] = _uniform(gen, -0.05, 0.05, 512)
    p["road_colour"] = _uniform(gen, 0.22, 0.34, 1) + _uniform(gen, -0.015, 0.015, 3)
    p["dash_period"] = _uniform(gen, 0.22, 0.34, 1)
    p["dash_phase"] = _uniform(gen, 0.0, 1.0, 1)
    p["g_grain"] = torch.rand(1, *cfg["ground"].lattice_shape(_GRAIN), generator=gen) * 2 - 1
    p["g_blotch"] = torch.rand(1, *cfg["ground"].lattice_shape(_BLOTCH), generator=gen) * 2 - 1

    # People on the sidewalk, farther ones first.
    n_people = cfg["people"]
    feet = torch.sort(_uniform(gen, *_SIDEWALK_FEET, n_people)).values
    p["person_feet"] = feet
    p["person_x0"] = _uniform(gen, -0.1, aspect + 0.1, n_people)
    p["person_v"] = _uniform(gen, *_PERSON_SPEED, n_people) * _sign(gen, n_people)
    p["person_bob"] = _uniform(gen, 0.002, 0.006, n_people)
    p["person_period"] = _uniform(gen, 4.0, 7.0, n_people)
    p["person_phase"] = _uniform(gen, 0.0, math.pi, n_people)
    skin = torch.tensor(
        [[0.96, 0.80, 0.69], [0.88, 0.67, 0.52], [0.71, 0.50, 0.36], [0.45, 0.31, 0.22]],
        dtype=torch.float64,
    )
    p["person_skin"] = skin[torch.randint(0, 4, (n_people,), generator=gen)]
    p["person_hair"] = _uniform(gen, 0.05, 0.45, n_people, 1) * torch.tensor([1.0, 0.8, 0.6])
    p["person_shirt"] = _uniform(gen, 0.1, 0.95, n_people, 3)
    p["person_trousers"] = _uniform(gen, 0.08, 0.45, n_people, 3)
    p["person_grain"] = torch.rand(n_people, *cfg["person"].lattice_shape(_GRAIN), generator=gen)

    # Cars: the far lane first (drawn behind), the near lane; the last car is the "hero" that
    # turns or scales when asked, in the near lane and near the middle of the frame.
    k = cfg["cars"]
    hero = cfg["turning"] or cfg["scaling"]
    near_dir = _sign(gen, 1)
    n_far = int(torch.randint(0, k + 1, (1,), generator=gen)) if k else 0
    if hero:
        n_far = min(n_far, k - 1)
    near = torch.arange(k) >= n_far
    p["car_ground"] = torch.where(near, _uniform(gen, *_NEAR_LANE, k), _uniform(gen, *_FAR_LANE, k))
    p["car_scale"] = _uniform(gen, 0.9, 1.1, k) * torch.where(near, 1.0, 0.85)
    p["car_dir"] = torch.where(near, near_dir, -near_dir)
    p["car_speed"] = _uniform(gen, *_CAR_SPEED, k)
    p["car_x0"] = _uniform(gen, -0.25, aspect + 0.25, k)
    hue = torch.rand(k, 3, generator=gen, dtype=torch.float64)
    grey = torch.rand(k, 1, generator=gen, dtype=torch.float64)
    is_grey = (torch.rand(k, 1, generator=gen) < 0.3).double()
    p["car_colour"] = (is_grey * grey * 0.9 + (1 - is_grey) * (0.15 + 0.8 * hue)).clamp(0, 1)
    p["car_grain"] = torch.rand(k, *cfg["car"].lattice_shape(_GRAIN), generator=gen)
    hero_x = _uniform(gen, 0.35, 0.65, 1) * aspect
    hero_speed = _uniform(gen, 0.003, 0.01, 1)
    turn_end = _uniform(gen, math.radians(60), math.radians(90), 1)
    grow = _uniform(gen, 0.35, 0.6, 1) * _sign(gen, 1)
    # Per-frame yaw and scale of every car (only the hero's change).
    yaw = torch.zeros(k, cfg["frames"], dtype=torch.float64)
    scale = p["car_scale"][:, None].expand(k, cfg["frames"]).clone()
    ground = p["car_ground"][:, None].expand(k, cfg["frames"]).clone()
    speed = p["car_speed"][:, None].expand(k, cfg["frames"]).clone()
    if hero:
        p["car_x0"][-1], speed[-1] = hero_x[0], hero_speed[0]
        if cfg["turning"]:
            yaw[-1] = turn_end * t_idx / span
        if cfg["scaling"]:
            log_s = grow * t_idx / span
            scale[-1] = scale[-1] * torch.exp(log_s)
            ground[-1] = ground[-1] + 0.1 * log_s
    # Position: integrate the speed along the heading (a turning car slows as it faces us).
    step = speed * torch.cos(yaw)
    travel = torch.cat([torch.zeros(k, 1, dtype=torch.float64), torch.cumsum(step, 1)[:, :-1]], 1)
    p["car_x"] = p["car_x0"][:, None] + p["car_dir"][:, None] * travel
    p["car_yaw"], p["car_k"], p["car_y"] = yaw, scale, ground
    return p


def _stack(clips: list[dict]) -> dict:
    return {key: torch.stack([c[key] for c in clips]) for key in clips[0]}


# ------------------------------------------------------------------------------------- textures
def _upsample(lattice: torch.Tensor, ext: _Extent, mode: str = "bilinear") -> torch.Tensor:
    """A B×C×h×w lattice stretched over the texture (B×C×ext.h×ext.w)."""
    return F.interpolate(lattice.float(), size=(ext.h, ext.w), mode=mode, align_corners=False)


def _col(x: torch.Tensor) -> torch.Tensor:
    """Per-texture colours B×3 (or B) → B×3×1×1 (or B×1×1×1) for broadcasting."""
    x = x.float()
    return x.view(x.shape[0], -1, 1, 1)


def _mix(a: torch.Tensor, b: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    return a + (b - a) * m


def _rounded_box(u, v, u0, u1, v0, v1, r) -> torch.Tensor:
    """Inside-test of an axis-aligned box with rounded corners of radius r."""
    cu, cv = (u0 + u1) / 2, (v0 + v1) / 2
    qu = (u - cu).abs() - ((u1 - u0) / 2 - r)
    qv = (v - cv).abs() - ((v1 - v0) / 2 - r)
    outside = torch.sqrt(qu.clamp(min=0) ** 2 + qv.clamp(min=0) ** 2)
    return outside + torch.maximum(qu, qv).clamp(max=0) <= r


def _sky_texture(p: dict, ext: _Extent, texture: float, device) -> torch.Tensor:
    _, v = ext.coords(device)
    b = p["sky_top"].shape[0]
    height = ((v - ext.v0) / (_HORIZON - ext.v0)).clamp(0, 1)[None]  # 1×1×h×1
    rgb = _mix(_col(p["sky_top"]), _col(p["sky_horizon"]), height)
    clouds = _upsample(p["sky_clouds"], ext, "bicubic")
    clouds = ((clouds - 1 + _col(p["cloud_cover"]) * 0.6) * 3).clamp(0, 1)
    rgb = _mix(rgb, torch.full_like(rgb, 0.96), clouds * 0.85)
    rgb = rgb + _upsample(p["sky_grain"], ext) * (0.03 * texture)
    alpha = torch.ones(b, 1, ext.h, ext.w, device=device)
    return torch.cat([rgb.clamp(0, 1).expand(b, 3, ext.h, ext.w), alpha], 1)


def _building_texture(p: dict, ext: _Extent, texture: float, device) -> torch.Tensor:
    u, v = ext.coords(device)
    b = p["b_start"].shape[0]
    starts = p["b_start"].float()
    u_b = u.view(1, -1).expand(b, -1).contiguous()
    idx = (torch.searchsorted(starts, u_b, right=True) - 1).clamp(min=0)  # B×w

    def per_col(key):
        x = p[key].float()
        if x.ndim == 2:
            return torch.gather(x, 1, idx).view(b, 1, 1, -1)
        return torch.gather(x, 1, idx[:, :, None].expand(-1, -1, x.shape[2])).permute(0, 2, 1)[
            :, :, None
        ]

    x = u_b.view(b, 1, 1, -1) - per_col("b_start")
    width, top = per_col("b_width"), per_col("b_top")
    v4 = v[None]
    inside = (x >= 0) & (x < width) & (v4 >= top)
    rgb = per_col("b_colour")  # B×3×1×w
    # Window grid with a margin on every side; each window lit or dark.
    dx, dy = per_col("b_win_dx"), per_col("b_win_dy")
    fill = p["b_win_fill"].float()
    fill_x = torch.gather(fill[:, :, 0], 1, idx).view(b, 1, 1, -1)
    fill_y = torch.gather(fill[:, :, 1], 1, idx).view(b, 1, 1, -1)
    margin = 0.02
    gx = (x - margin) / dx
    gy = (v4 - top - margin) / dy
    n_cols = torch.floor((width - 2 * margin) / dx).clamp(min=1)
    win = (
        (gx >= 0)
        & (gx < n_cols)
        & (gy >= 0)
        & (v4 < _HORIZON - 0.03)
        & (gx - torch.floor(gx) < fill_x)
        & (gy - torch.floor(gy) < fill_y)
    )
    cell = (torch.floor(gy).clamp(0, 15) * 16 + torch.floor(gx).clamp(0, 15)).long()  # B×1×h×w
    lit_table = p["b_lit"].float().reshape(b, -1, 256)  # B×nb×256
    flat = idx.view(b, 1, 1, -1) * 256 + cell
    lit = torch.gather(lit_table.reshape(b, -1), 1, flat.reshape(b, -1)).view(b, 1, ext.h, ext.w)
    lit_rgb = torch.tensor([0.95, 0.85, 0.5], device=device).view(1, 3, 1, 1)
    dark_rgb = torch.tensor([0.18, 0.22, 0.3], device=device).view(1, 3, 1, 1)
    window_rgb = _mix(dark_rgb, lit_rgb, lit)
    rgb = torch.where(win, window_rgb, rgb.expand(b, 3, ext.h, ext.w))
    roof = (v4 >= top) & (v4 < top + 0.012)
    rgb = torch.where(roof, rgb * 0.7, rgb)
    rgb = rgb + _upsample(p["b_grain"], ext) * (0.05 * texture)
    return torch.cat([rgb.clamp(0, 1), inside.float()], 1)


def _ground_texture(p: dict, ext: _Extent, texture: float, device) -> torch.Tensor:
    u, v = ext.coords(device)
    b = p["walk_colour"].shape[0]
    u4, v4 = u[None], v[None]
    tile = _col(p["walk_tile"])
    tile_idx = torch.floor(u4 / tile).long() % p["walk_tiles"].shape[1]
    tile_shade = torch.gather(p["walk_tiles"].float(), 1, tile_idx.view(b, -1)).view(b, 1, 1, -1)
    joint = ((u4 / tile - torch.floor(u4 / tile)) * tile < 0.006) | ((v4 - 0.61).abs() < 0.003)
    walk = _col(p["walk_colour"]) + tile_shade - 0.12 * joint
    kerb = (v4 >= _KERB - 0.012) & (v4 < _KERB)
    walk = torch.where(kerb, walk * 0.0 + 0.82, walk)
    road = _col(p["road_colour"]) + _upsample(p["g_blotch"], ext, "bicubic") * (0.04 * texture)
    phase = u4 / _col(p["dash_period"]) + _col(p["dash_phase"])
    dash = ((v4 - _LANE).abs() < 0.006) & (phase - torch.floor(phase) < 0.55)
    road = torch.where(dash, torch.full_like(road, 0.9), road)
    is_road = v4 >= _KERB
    rgb = torch.where(is_road, road, walk) + _upsample(p["g_grain"], ext) * (0.06 * texture)
    shape = (b, 1, ext.h, ext.w)
    alpha = (v4 >= _HORIZON).float().expand(shape)
    return torch.cat(
        [rgb.clamp(0, 1).expand(b, 3, ext.h, ext.w), alpha, is_road.float().expand(shape)], 1
    )


def _car_side_texture(colour, grain, ext: _Extent, texture: float, device) -> torch.Tensor:
    """Side view of a car facing +u: body, cabin with windows, wheels, head and tail lights."""
    u, v = ext.coords(device)
    u, v = u[None], v[None]
    b = colour.shape[0]
    L, H = _CAR_L, _CAR_H
    body = _rounded_box(u, v, 0.005, L - 0.005, 0.062, H - 0.022, 0.02)
    frac = ((v - 0.005) / 0.065).clamp(0, 1)  # 0 at the roof, 1 at the cabin's foot
    left = 0.30 * L - 0.10 * L * frac
    right = 0.64 * L + 0.16 * L * frac
    cabin = (v >= 0.005) & (v < 0.07) & (u >= left) & (u <= right)
    glass = (
        (v >= 0.015) & (v < 0.066) & (u >= left + 0.012) & (u <= right - 0.014)
        & ((u - 0.49 * L).abs() > 0.006)
    )  # fmt: skip
    wheel_d = torch.minimum(
        torch.sqrt((u - 0.2 * L) ** 2 + (v - (H - 0.032)) ** 2),
        torch.sqrt((u - 0.8 * L) ** 2 + (v - (H - 0.032)) ** 2),
    )
    tyre, hub = wheel_d < 0.032, wheel_d < 0.015
    shade = 1.12 - 0.35 * (v / H)
    paint = _col(colour) * shade + (_upsample(grain, ext) - 0.5) * (0.08 * texture)
    rgb = paint.expand(b, 3, ext.h, ext.w)
    rgb = torch.where(((u - 0.5 * L).abs() < 0.003) & body, rgb * 0.6, rgb)  # door line
    sky_glass = torch.tensor([0.35, 0.45, 0.55], device=device).view(1, 3, 1, 1)
    rgb = torch.where(glass, sky_glass * (1.25 - 0.6 * frac), rgb)
    head = (u > L - 0.02) & (v > 0.075) & (v < 0.095)
    tail = (u < 0.016) & (v > 0.072) & (v < 0.092)
    rgb = torch.where(head, torch.tensor([1.0, 0.95, 0.7], device=device).view(1, 3, 1, 1), rgb)
    rgb = torch.where(tail, torch.tensor([0.85, 0.1, 0.1], device=device).view(1, 3, 1, 1), rgb)
    rgb = torch.where(tyre, torch.full_like(rgb, 0.08), rgb)
    rgb = torch.where(hub, torch.full_like(rgb, 0.62), rgb)
    alpha = (body | cabin | tyre).float().expand(b, 1, ext.h, ext.w)
    return torch.cat([rgb.clamp(0, 1), alpha], 1)


def _car_front_texture(colour, grain, ext: _Extent, texture: float, device) -> torch.Tensor:
    """Front view of the same car: bonnet, windscreen, headlights, grille, plate, tyres."""
    u, v = ext.coords(device)
    u, v = u[None], v[None]
    b = colour.shape[0]
    D, H = _CAR_D, _CAR_H
    body = _rounded_box(u, v, 0.003, D - 0.003, 0.062, H - 0.022, 0.015)
    frac = ((v - 0.005) / 0.065).clamp(0, 1)
    half = 0.3 * D + 0.12 * D * frac
    cabin = (v >= 0.005) & (v < 0.07) & ((u - D / 2).abs() <= half)
    glass = (v >= 0.014) & (v < 0.066) & ((u - D / 2).abs() <= half - 0.01)
    tyres = (v >= H - 0.04) & ((u < 0.16 * D) | (u > 0.84 * D)) & (u > 0.02 * D) & (u < 0.98 * D)
    lights = (
        torch.minimum(
            torch.sqrt((u - 0.18 * D) ** 2 + (v - 0.09) ** 2),
            torch.sqrt((u - 0.82 * D) ** 2 + (v - 0.09) ** 2),
        )
        < 0.014
    )
    grille = ((u - D / 2).abs() < 0.15 * D) & (v > 0.085) & (v < 0.11)
    slats = grille & ((v * 400).floor() % 2 == 0)
    plate = ((u - D / 2).abs() < 0.08 * D) & (v > 0.115) & (v < 0.126)
    shade = 1.12 - 0.35 * (v / H)
    rgb = (_col(colour) * shade + (_upsample(grain, ext) - 0.5) * (0.08 * texture)).expand(
        b, 3, ext.h, ext.w
    )
    sky_glass = torch.tensor([0.35, 0.45, 0.55], device=device).view(1, 3, 1, 1)
    rgb = torch.where(glass, sky_glass * (1.25 - 0.6 * frac), rgb)
    rgb = torch.where(grille, torch.full_like(rgb, 0.15), rgb)
    rgb = torch.where(slats, torch.full_like(rgb, 0.35), rgb)
    rgb = torch.where(plate, torch.full_like(rgb, 0.95), rgb)
    rgb = torch.where(lights, torch.tensor([1.0, 0.95, 0.7], device=device).view(1, 3, 1, 1), rgb)
    rgb = torch.where(tyres, torch.full_like(rgb, 0.08), rgb)
    alpha = (body | cabin | tyres).float().expand(b, 1, ext.h, ext.w)
    return torch.cat([rgb.clamp(0, 1), alpha], 1)


def _person_texture(p: dict, ext: _Extent, texture: float, device) -> torch.Tensor:
    u, v = ext.coords(device)
    u, v = u[None], v[None]
    W = _PERSON_W
    skin, hair = _col(p["skin"]), _col(p["hair"])
    shirt, trousers = _col(p["shirt"]), _col(p["trousers"])
    b = skin.shape[0]
    head_d = torch.sqrt((u - W / 2) ** 2 + (v - 0.026) ** 2)
    head = head_d < 0.021
    hair_m = head & (v < 0.022)
    torso = _rounded_box(u, v, 0.018, W - 0.018, 0.045, 0.128, 0.008)
    arms = ((u - 0.013).abs() < 0.005) | ((u - (W - 0.013)).abs() < 0.005)
    arms = arms & (v > 0.05) & (v < 0.118)
    hands = arms & (v > 0.108)
    legs = (((u - 0.03).abs() < 0.0075) | ((u - (W - 0.03)).abs() < 0.0075)) & (v >= 0.12)
    legs = legs & (v < _PERSON_H - 0.002)
    shoes = legs & (v > _PERSON_H - 0.014)
    grain = (_upsample(p["grain"], ext) - 0.5) * (0.08 * texture)
    rgb = (shirt + grain).expand(b, 3, ext.h, ext.w)
    rgb = torch.where(arms, rgb * 0.85, rgb)
    rgb = torch.where(legs, (trousers + grain).expand_as(rgb), rgb)
    rgb = torch.where(shoes, torch.full_like(rgb, 0.1), rgb)
    rgb = torch.where(head | hands, skin.expand_as(rgb), rgb)
    rgb = torch.where(hair_m, hair.expand_as(rgb), rgb)
    alpha = (head | torso | arms | legs).float().expand(b, 1, ext.h, ext.w)
    return torch.cat([rgb.clamp(0, 1), alpha], 1)


def _soften(rgb: torch.Tensor) -> torch.Tensor:
    """A 3×3 binomial blur: band-limits the textures so bilinear resampling stays accurate."""
    x = F.pad(rgb, (1, 1, 1, 1), mode="replicate")
    x = (x[..., :, :-2] + 2 * x[..., :, 1:-1] + x[..., :, 2:]) / 4
    return (x[..., :-2, :] + 2 * x[..., 1:-1, :] + x[..., 2:, :]) / 4


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
    return StreetClips(**out, info=info)
