"""The street's classes and layout in scene units (1 = the frame height, y down), argument checks,
and the random draw of every clip: camera path, buildings, cars and people, from a generator
seeded by ``(seed, k)`` for clip ``k``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

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
        rows, cols = (max(2, math.ceil(round(side * cells, 6)) + 1) for side in self.span)
        return rows, cols


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
