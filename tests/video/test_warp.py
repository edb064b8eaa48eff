"""Backward warping: the flow convention, sub-pixel exactness, gradients and clear errors."""

from __future__ import annotations

import math

import pytest
import torch

from lib.video import pixel_grid, warp

# A smooth texture (a few sinusoids, periods of 9 px and more) that can be evaluated anywhere.
_WAVES = [(0.7, 0.3, 0.0), (-0.25, 0.5, 1.0), (0.45, -0.4, 2.0), (0.1, 0.62, 0.5)]


def _texture(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    value = sum(torch.sin(a * x + b * y + c) for a, b, c in _WAVES)
    return 0.5 + value / (2 * len(_WAVES))


def _texture_grad(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    gx = sum(a * torch.cos(a * x + b * y + c) for a, b, c in _WAVES) / (2 * len(_WAVES))
    gy = sum(b * torch.cos(a * x + b * y + c) for a, b, c in _WAVES) / (2 * len(_WAVES))
    return gx, gy


def _recovered_shift(warped, target, x, y, shift) -> torch.Tensor:
    """The residual displacement between ``warped`` and the analytic ``target``, by one
    Lucas–Kanade step with the texture's exact gradient: the least-squares δ with
    warped ≈ target + ∇target · δ."""
    gx, gy = _texture_grad(x + shift[0], y + shift[1])
    jac = torch.stack([gx.flatten(), gy.flatten()], 1).double()
    residual = (warped - target).flatten().double()
    return torch.linalg.lstsq(jac, residual[:, None]).solution[:, 0]


def test_integer_shift_is_exact(device):
    """A flow of exactly +3 px samples exactly three pixels over (align_corners=False)."""
    gen = torch.Generator().manual_seed(0)
    image = torch.rand(2, 3, 20, 24, generator=gen).to(device)
    flow = torch.zeros(2, 2, 20, 24, device=device)
    flow[:, 0] = 3.0
    out = warp(image, flow)
    torch.testing.assert_close(out[..., :-3], image[..., 3:], atol=1e-6, rtol=0)
    flow = torch.zeros(2, 2, 20, 24, device=device)
    flow[:, 1] = -2.0
    out = warp(image, flow, padding_mode="zeros")
    torch.testing.assert_close(out[..., 2:, :], image[..., :-2, :], atol=1e-6, rtol=0)
    assert float(out[..., :2, :].abs().max()) < 1e-5  # sampled outside: zeros


@pytest.mark.parametrize("shift", [(0.37, -0.61), (-1.25, 0.5), (2.8, 1.9)])
def test_subpixel_shift_recovered_within_0_05_px(shift):
    """Warping a textured image by a constant sub-pixel flow moves it by that flow: the shift
    recovered between the warp and the analytically shifted texture is below 0.05 px."""
    h, w = 48, 64
    x, y = pixel_grid(h, w, dtype=torch.float64)
    image = _texture(x, y)[None, None].float()
    flow = torch.tensor(shift, dtype=torch.float32).view(1, 2, 1, 1).expand(1, 2, h, w)
    warped = warp(image, flow)[0, 0].double()
    target = _texture(x + shift[0], y + shift[1])
    inner = (slice(4, -4), slice(4, -4))  # away from the border, where samples are clamped
    delta = _recovered_shift(
        warped[inner], target[inner], x[inner], y[inner], torch.tensor(shift, dtype=torch.float64)
    )
    assert float(delta.abs().max()) < 0.05, delta
    # The check has teeth: warping by a flow 0.1 px off is recovered as that error.
    off = warp(image, flow + torch.tensor([0.1, 0.0]).view(1, 2, 1, 1))[0, 0].double()
    delta_off = _recovered_shift(
        off[inner], target[inner], x[inner], y[inner], torch.tensor(shift, dtype=torch.float64)
    )
    assert abs(float(delta_off[0]) - 0.1) < 0.03


def test_warp_handles_leading_dimensions_and_varying_flow():
    gen = torch.Generator().manual_seed(1)
    frames = torch.rand(2, 3, 1, 16, 16, generator=gen)
    flow = torch.randn(2, 3, 2, 16, 16, generator=gen)
    out = warp(frames, flow)
    assert out.shape == frames.shape
    each = torch.stack([warp(frames[:, k], flow[:, k]) for k in range(3)], 1)
    torch.testing.assert_close(out, each)
    # A rotation field: pixel p samples p + (R − I)(p − c).
    x, y = pixel_grid(16, 16)
    angle = math.radians(15)
    dx = (math.cos(angle) - 1) * (x - 7.5) - math.sin(angle) * (y - 7.5)
    dy = math.sin(angle) * (x - 7.5) + (math.cos(angle) - 1) * (y - 7.5)
    image = _texture(x, y)[None, None]
    rotated = warp(image, torch.stack([dx, dy])[None])
    target = _texture(x + dx, y + dy)
    error = (rotated[0, 0] - target)[3:-3, 3:-3].abs()  # bilinear interpolation error only
    assert float(error.mean()) < 0.005 and float(error.max()) < 0.02
    assert float((image[0, 0] - target)[3:-3, 3:-3].abs().mean()) > 0.02  # it did move


def test_warp_is_differentiable_in_frames_and_flow():
    gen = torch.Generator().manual_seed(2)
    frames = torch.rand(1, 3, 12, 12, generator=gen, requires_grad=True)
    flow = (torch.randn(1, 2, 12, 12, generator=gen) * 0.7).requires_grad_()
    warp(frames, flow).square().sum().backward()
    assert frames.grad is not None and float(frames.grad.abs().sum()) > 0
    assert flow.grad is not None and float(flow.grad.abs().sum()) > 0
    assert bool(torch.isfinite(flow.grad).all())


@pytest.mark.parametrize(
    "frames, flow, kwargs, error, match",
    [
        (torch.rand(1, 3, 8, 8), torch.zeros(1, 3, 8, 8), {}, ValueError, "2×H×W"),
        (torch.rand(1, 3, 8, 8), torch.zeros(1, 2, 8, 9), {}, ValueError, "does not match"),
        (torch.rand(2, 3, 8, 8), torch.zeros(1, 2, 8, 8), {}, ValueError, "does not match"),
        (torch.rand(8, 8), torch.zeros(2, 8, 8), {}, ValueError, "C×H×W"),
        (torch.rand(1, 3, 8, 8), torch.zeros(1, 2, 8, 8, dtype=torch.long), {}, TypeError, "float"),
        (torch.rand(1, 3, 8, 8), torch.full((1, 2, 8, 8), math.nan), {}, ValueError, "NaN"),
        (torch.rand(1, 3, 8, 8), torch.zeros(1, 2, 8, 8), {"mode": "cubic"}, ValueError, "mode"),
        ([1, 2], torch.zeros(1, 2, 8, 8), {}, TypeError, "frames"),
    ],
)
def test_warp_bad_inputs(frames, flow, kwargs, error, match):
    with pytest.raises(error, match=match):
        warp(frames, flow, **kwargs)
