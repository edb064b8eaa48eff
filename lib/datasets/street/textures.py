"""Procedural textures of the street's layers (sky, buildings, ground, car sides and fronts,
people): RGBA sprites drawn from fixed lattices in scene units, so the street looks the same at
any pixel size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lib.datasets.street.layout import (
    _CAR_D,
    _CAR_H,
    _CAR_L,
    _HORIZON,
    _KERB,
    _LANE,
    _PERSON_H,
    _PERSON_W,
    _Extent,
)


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
    """A 3×3 binomial blur ([1, 2, 1]/4 along each axis, replicated borders): band-limits the
    textures so bilinear resampling stays accurate. Not torchvision's ``gaussian_blur``: that
    reflects the borders and builds its kernel from σ, so the sprites' edges would change."""
    x = F.pad(rgb, (1, 1, 1, 1), mode="replicate")
    x = (x[..., :, :-2] + 2 * x[..., :, 1:-1] + x[..., :, 2:]) / 4
    return (x[..., :-2, :] + 2 * x[..., 1:-1, :] + x[..., 2:, :]) / 4
