"""SSIM and MS-SSIM: paper oracles, scikit-image and pytorch-msssim agreement, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage import data
from skimage.metrics import structural_similarity

from lib.metrics.ssim import MS_SSIM_WEIGHTS, SSIMOutput, gaussian_window, ms_ssim, ssim

CONSTANT_SSIM = 0.6000639897616381  # 0.25 vs 0.75, L = 1: the luminance term alone
CONSTANT_MS_SSIM = 0.9341868193718892  # the same to the power 0.1333 (cs = 1 at every scale)
CAMERA_NOISY_SSIM = 0.35796


def _skimage_ssim(x: torch.Tensor, y: torch.Tensor, data_range: float) -> np.ndarray:
    """Per-image SSIM from scikit-image with the paper's settings (N×C×H×W in)."""
    out = []
    for a, b in zip(x.double().numpy(), y.double().numpy(), strict=True):
        out.append(
            structural_similarity(
                a,
                b,
                gaussian_weights=True,
                sigma=1.5,
                use_sample_covariance=False,
                data_range=data_range,
                channel_axis=0,
            )
        )
    return np.array(out)


def _photo_pair(h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two natural RGB photos (astronaut, coffee) cropped to h×w, float64 in [0, 1]."""
    a = torch.from_numpy(data.astronaut()[:h, :w]).permute(2, 0, 1)[None]
    b = torch.from_numpy(data.coffee()[:h, :w]).permute(2, 0, 1)[None]
    return a.double() / 255, b.double() / 255


def _noisy_camera() -> tuple[np.ndarray, np.ndarray]:
    img = data.camera()
    noise = np.random.RandomState(5).randn(*img.shape) * 20
    return img, np.clip(img + noise, 0, 255).astype(np.uint8)


def _random_pair(shape, seed: int, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=g, dtype=torch.float64)
    # y correlated with x so SSIM sits in the interesting middle range
    y = (0.6 * x + 0.4 * torch.rand(shape, generator=g, dtype=torch.float64)).clamp(0, 1)
    return x.to(dtype), y.to(dtype)


# ---------------------------------------------------------------------------------------------
# oracles


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_constant_images_oracle(device, dtype):
    x = torch.full((2, 3, 192, 192), 0.25, dtype=dtype, device=device)
    y = torch.full((2, 3, 192, 192), 0.75, dtype=dtype, device=device)
    tol = 1e-12 if dtype == torch.float64 else 1e-6
    assert abs(ssim(x, y).item() - CONSTANT_SSIM) < tol
    assert abs(ms_ssim(x, y).item() - CONSTANT_MS_SSIM) < tol
    assert abs(CONSTANT_SSIM**0.1333 - CONSTANT_MS_SSIM) < 1e-15


def test_constant_ms_ssim_needs_sizes_divisible_by_16():
    # The average pool zero-pads odd sizes (pytorch-msssim's convention), which darkens the
    # border of a constant image: the closed form holds when every scale has an even size.
    x = torch.full((1, 1, 176, 208), 0.25, dtype=torch.float64)
    assert abs(ms_ssim(x, x + 0.5).item() - CONSTANT_MS_SSIM) < 1e-12
    x = torch.full((1, 1, 170, 170), 0.25, dtype=torch.float64)
    assert abs(ms_ssim(x, x + 0.5).item() - CONSTANT_MS_SSIM) > 1e-4


def test_camera_with_noise_oracle():
    img, noisy = _noisy_camera()
    x = torch.from_numpy(img)[None, None]
    y = torch.from_numpy(noisy)[None, None]
    ref = structural_similarity(
        img, noisy, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255
    )
    assert round(ref, 5) == CAMERA_NOISY_SSIM
    assert abs(ssim(x, y, data_range=255).item() - ref) < 1e-6
    assert abs(ssim(x.double() / 255, y.double() / 255).item() - ref) < 1e-12
    assert abs(ssim(x.float() / 255, y.float() / 255).item() - ref) < 1e-6


# ---------------------------------------------------------------------------------------------
# scikit-image


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [
        ((3, 1, 40, 37), torch.float64),
        ((2, 3, 33, 50), torch.float64),
        ((3, 1, 40, 37), torch.float32),
        ((2, 3, 64, 61), torch.float32),
        ((1, 3, 11, 11), torch.float64),  # the smallest size: a 1×1 map
    ],
)
def test_matches_skimage_on_random_images(shape, dtype):
    x, y = _random_pair(shape, seed=sum(shape), dtype=dtype)
    ours = ssim(x, y, reduction="none").double().numpy()
    ref = _skimage_ssim(x, y, 1.0)
    assert np.abs(ours - ref).max() < (1e-12 if dtype == torch.float64 else 1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matches_skimage_on_photos_and_maps(dtype):
    x, y = _photo_pair(200, 230)
    blurred = torch.nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    x, y, blurred = x.to(dtype), y.to(dtype), blurred.to(dtype)
    tol = 1e-12 if dtype == torch.float64 else 1e-6
    for other in (y, blurred):
        ref_value, ref_map = structural_similarity(
            x[0].double().numpy(),
            other[0].double().numpy(),
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=1.0,
            channel_axis=0,
            full=True,
        )
        out = ssim(x, other, return_map=True)
        assert abs(out.value.item() - ref_value) < tol
        # skimage filters the full image and crops the border; ours is the valid region
        assert out.ssim_map.shape == (1, 3, 190, 220)
        # Per pixel, float32 loses more than the mean: E[x²] − μ² cancels on flat patches
        map_tol = 1e-12 if dtype == torch.float64 else 5e-4
        assert np.abs(out.ssim_map[0].double().numpy() - ref_map[:, 5:-5, 5:-5]).max() < map_tol


@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_matches_skimage_with_other_windows(sigma):
    x, y = _random_pair((2, 1, 30, 30), seed=3)
    win = 2 * int(3.5 * sigma + 0.5) + 1  # skimage's truncate = 3.5
    ours = ssim(x, y, win_size=win, sigma=sigma, reduction="none").numpy()
    ref = [
        structural_similarity(
            a[0].numpy(),
            b[0].numpy(),
            gaussian_weights=True,
            sigma=sigma,
            use_sample_covariance=False,
            data_range=1.0,
        )
        for a, b in zip(x, y, strict=True)
    ]
    assert np.abs(ours - np.array(ref)).max() < 1e-12


# ---------------------------------------------------------------------------------------------
# pytorch-msssim


def _pm_window(channels: int) -> torch.Tensor:
    return gaussian_window(dtype=torch.float64).view(1, 1, 1, 11).repeat(channels, 1, 1, 1)


@pytest.mark.parametrize("size", [(192, 192), (201, 187)])  # the odd one exercises the padding
def test_matches_pytorch_msssim(size):
    pytorch_msssim = pytest.importorskip("pytorch_msssim")
    x, y = _photo_pair(*size)
    x = torch.cat([x, y.flip(-1)])
    y = torch.cat([y, x[:1].flip(-2)])
    # Same window (ours is exact in float64; pytorch-msssim builds its window in float32)
    win = _pm_window(3)
    ref = pytorch_msssim.ms_ssim(x, y, data_range=1, size_average=False, win=win)
    assert (ms_ssim(x, y, reduction="none") - ref).abs().max() < 1e-12
    ref = pytorch_msssim.ssim(x, y, data_range=1, size_average=False, win=win)
    assert (ssim(x, y, reduction="none") - ref).abs().max() < 1e-12
    # Its own float32-rounded window moves the numbers by a few 1e-6
    ref = pytorch_msssim.ms_ssim(x, y, data_range=1)
    assert abs(ms_ssim(x, y).item() - ref.item()) < 1e-5
    ref = pytorch_msssim.ssim(x, y, data_range=1)
    assert abs(ssim(x, y).item() - ref.item()) < 1e-5
    # uint8 with L = 255
    xu, yu = (x * 255).round().to(torch.uint8), (y * 255).round().to(torch.uint8)
    ref = pytorch_msssim.ms_ssim(xu.double(), yu.double(), data_range=255, win=win)
    assert abs(ms_ssim(xu, yu, 255).item() - ref.item()) < 1e-6


def test_custom_weights_match_pytorch_msssim():
    pytorch_msssim = pytest.importorskip("pytorch_msssim")
    x, y = _photo_pair(170, 175)
    weights = (0.2, 0.3, 0.5)
    ref = pytorch_msssim.ms_ssim(x, y, data_range=1, weights=list(weights), win=_pm_window(3))
    assert abs(ms_ssim(x, y, weights=weights).item() - ref.item()) < 1e-12
    # Fewer scales also work on images too small for five: (11 − 1) · 2² = 40 < 48
    small_x, small_y = x[..., :48, :48], y[..., :48, :48]
    assert 0 < ms_ssim(small_x, small_y, weights=weights).item() < 1


# ---------------------------------------------------------------------------------------------
# properties


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_components_multiply_to_the_map(dtype):
    x, y = _photo_pair(64, 80)
    x, y = x.to(dtype), (0.5 * y + 0.1).to(dtype)
    out = ssim(x, y, return_map=True, return_components=True)
    assert isinstance(out, SSIMOutput)
    product = out.luminance * out.contrast * out.structure
    torch.testing.assert_close(
        product, out.ssim_map, rtol=0, atol=1e-12 if dtype == torch.float64 else 1e-5
    )
    torch.testing.assert_close(out.value, out.ssim_map.mean(), rtol=0, atol=1e-6)
    assert out.luminance.shape == out.ssim_map.shape == (1, 3, 54, 70)
    assert float(out.luminance.max()) <= 1 + 1e-6 and float(out.contrast.max()) <= 1 + 1e-6
    # only what was asked for
    assert ssim(x, y, return_components=True).ssim_map is None
    assert ssim(x, y, return_map=True).luminance is None


def test_reduction_and_batch_invariance():
    x, y = _random_pair((5, 3, 32, 29), seed=7, dtype=torch.float32)
    per_image = ssim(x, y, reduction="none")
    assert per_image.shape == (5,)
    singles = torch.stack([ssim(x[i : i + 1], y[i : i + 1]) for i in range(5)])
    torch.testing.assert_close(per_image, singles, rtol=0, atol=1e-6)
    torch.testing.assert_close(ssim(x, y), per_image.mean(), rtol=0, atol=1e-7)
    perm = torch.tensor([3, 0, 4, 1, 2])
    torch.testing.assert_close(ssim(x[perm], y[perm], reduction="none"), per_image[perm])
    # symmetric, and 1 for identical images
    torch.testing.assert_close(ssim(y, x, reduction="none"), per_image, rtol=0, atol=1e-6)
    torch.testing.assert_close(ssim(x, x, reduction="none"), torch.ones(5), rtol=0, atol=1e-6)
    big_x, big_y = _photo_pair(176, 176)
    pair_x, pair_y = torch.cat([big_x, big_y]), torch.cat([big_y, big_x])
    ms = ms_ssim(pair_x, pair_y, reduction="none")
    torch.testing.assert_close(ms[0], ms_ssim(big_x, big_y), rtol=0, atol=1e-12)
    torch.testing.assert_close(ms_ssim(pair_x, pair_y), ms.mean(), rtol=0, atol=1e-12)


def test_uint8_float_and_numpy_inputs_agree():
    x, y = _photo_pair(48, 48)
    xu, yu = (x * 255).round().to(torch.uint8), (y * 255).round().to(torch.uint8)
    v_uint8 = ssim(xu, yu, data_range=255).item()
    assert abs(v_uint8 - ssim(xu.double() / 255, yu.double() / 255).item()) < 1e-6
    assert abs(v_uint8 - ssim(xu.numpy(), yu.numpy(), data_range=255).item()) < 1e-12
    # float images in [0, 255] are fine with data_range=255
    assert abs(v_uint8 - ssim(xu.double(), yu.double(), data_range=255).item()) < 1e-6
    # half precision is computed in float32
    v_half = ssim(x.half(), y.half())
    assert v_half.dtype == torch.float32
    assert abs(v_half.item() - ssim(x, y).item()) < 1e-2


def test_ms_ssim_is_zero_not_nan_for_anticorrelated_images():
    x = torch.rand(2, 1, 176, 176, generator=torch.Generator().manual_seed(0))
    y = 1 - x  # negative contrast-structure terms are clamped at 0 before the powers
    value = ms_ssim(x, y, reduction="none")
    assert torch.equal(value, torch.zeros(2))
    assert ssim(x, y).item() < -0.9  # plain SSIM can be negative


def test_runs_on_the_device_of_its_inputs(device):
    x, y = _photo_pair(176, 176)
    x, y = x.float(), y.float()
    on_device = ssim(x.to(device), y.to(device), return_map=True)
    assert on_device.value.device.type == device and on_device.ssim_map.device.type == device
    assert abs(on_device.value.item() - ssim(x, y).item()) < 1e-5
    assert abs(ms_ssim(x.to(device), y.to(device)).item() - ms_ssim(x, y).item()) < 1e-5


def test_gaussian_window():
    g = gaussian_window(11, 1.5, dtype=torch.float64)
    assert g.shape == (11,) and abs(g.sum().item() - 1) < 1e-15
    assert torch.equal(g, g.flip(0)) and int(g.argmax()) == 5
    assert abs(g[5].item() / g[4].item() - math.exp(1 / (2 * 1.5**2))) < 1e-12
    assert len(MS_SSIM_WEIGHTS) == 5


# ---------------------------------------------------------------------------------------------
# bad input

_OK = torch.rand(1, 3, 32, 32)
_BIG = torch.rand(1, 1, 176, 176)


def _nan():
    x = _OK.clone()
    x[0, 0, 3, 3] = float("nan")
    return x


BAD_INPUTS = [
    # (id, function, x, y, kwargs, error, message fragment)
    ("shape mismatch", ssim, _OK, torch.rand(1, 3, 32, 31), {}, ValueError, "same shape"),
    ("batch mismatch", ssim, _OK, torch.rand(2, 3, 32, 32), {}, ValueError, "same shape"),
    ("3-D input", ssim, _OK[0], _OK[0], {}, ValueError, "x[None]"),
    (
        "2 channels",
        ssim,
        torch.rand(1, 2, 32, 32),
        torch.rand(1, 2, 32, 32),
        {},
        ValueError,
        "1 or 3 channels",
    ),
    ("NaN", ssim, _nan(), _OK, {}, ValueError, "NaN"),
    ("above range", ssim, _OK * 2, _OK, {}, ValueError, "x / 255"),
    ("below range", ssim, _OK, _OK - 1, {}, ValueError, "(x + 1) / 2"),
    (
        "uint8 without 255",
        ssim,
        (_OK * 255).byte(),
        (_OK * 255).byte(),
        {},
        ValueError,
        "data_range=255",
    ),
    ("dtype mismatch", ssim, (_OK * 255).byte(), _OK, {"data_range": 255}, TypeError, "same dtype"),
    ("int images", ssim, (_OK * 9).int(), (_OK * 9).int(), {}, TypeError, "float images"),
    (
        "too small for window",
        ssim,
        torch.rand(1, 1, 8, 40),
        torch.rand(1, 1, 8, 40),
        {},
        ValueError,
        "smaller than the 11×11 window",
    ),
    (
        "too small for MS-SSIM",
        ms_ssim,
        torch.rand(1, 1, 160, 300),
        torch.rand(1, 1, 160, 300),
        {},
        ValueError,
        "must exceed (win_size − 1)·2^4 = 160 pixels",
    ),
    ("even window", ssim, _OK, _OK, {"win_size": 10}, ValueError, "odd"),
    ("zero sigma", ssim, _OK, _OK, {"sigma": 0}, ValueError, "sigma"),
    ("zero k1", ssim, _OK, _OK, {"k1": 0.0}, ValueError, "k1"),
    ("zero data range", ssim, _OK, _OK, {"data_range": 0}, ValueError, "data_range"),
    ("bad reduction", ssim, _OK, _OK, {"reduction": "sum"}, ValueError, "reduction"),
    ("empty weights", ms_ssim, _BIG, _BIG, {"weights": ()}, ValueError, "weights"),
    ("negative weight", ms_ssim, _BIG, _BIG, {"weights": (0.5, -0.5)}, ValueError, "weights"),
    ("list input", ssim, [[1.0]], _OK, {}, TypeError, "torch.Tensor or numpy array"),
]


@pytest.mark.parametrize(
    ("fn", "x", "y", "kwargs", "error", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUTS],
)
def test_bad_inputs_get_clear_errors(fn, x, y, kwargs, error, fragment):
    with pytest.raises(error) as info:
        fn(x, y, **kwargs)
    assert fragment in str(info.value)


def test_ms_ssim_size_error_suggests_fewer_scales():
    x = torch.rand(1, 1, 100, 100)
    with pytest.raises(ValueError, match="fewer scales") as info:
        ms_ssim(x, x)
    assert "weights=(0.0448, 0.2856, 0.3001)" in str(info.value)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_different_devices_refused():
    with pytest.raises(ValueError, match="same device"):
        ssim(_OK, _OK.cuda())
