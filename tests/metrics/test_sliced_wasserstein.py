"""1-D, sliced and multi-scale (Progressive GAN) Wasserstein distances."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import scipy.ndimage
import scipy.stats
import torch
import torch.nn.functional as F
from skimage import data

from lib.metrics.sliced_wasserstein import (
    SWDResult,
    laplacian_pyramid,
    random_projections,
    reconstruct_laplacian_pyramid,
    sliced_wasserstein,
    swd,
    wasserstein_1d,
)

# small protocol settings so a test runs in about a second on two CPU cores
FAST = {"n_patches": 32, "n_repeats": 2, "n_projections": 32}


def _clouds(n: int, m: int, d: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.randn(m, d, generator=g, dtype=torch.float64) * 1.3 + 0.4
    return x, y


def _crops(n: int, size: int = 64, seed: int = 0, image: str = "astronaut") -> torch.Tensor:
    """n random size×size uint8 RGB crops of a bundled photo (N×3×H×W)."""
    photo = torch.from_numpy(getattr(data, image)()).permute(2, 0, 1)
    g = torch.Generator().manual_seed(seed)
    ys = torch.randint(0, photo.shape[1] - size, (n,), generator=g)
    xs = torch.randint(0, photo.shape[2] - size, (n,), generator=g)
    idx_y = (ys[:, None] + torch.arange(size)).view(n, 1, size, 1)
    idx_x = (xs[:, None] + torch.arange(size)).view(n, 1, 1, size)
    return photo[torch.arange(3).view(1, 3, 1, 1), idx_y, idx_x]


# ---------------------------------------------------------------------------------------------
# 1-D


def test_wasserstein_1d_matches_scipy():
    x, y = _clouds(300, 300, 1)
    u, v = x[:, 0], y[:, 0]
    for a, b in [(u, v), (u[:17], v[:5]), (u[:100], v), (u[:1], v[:3])]:
        ref = scipy.stats.wasserstein_distance(a.numpy(), b.numpy())
        assert abs(wasserstein_1d(a, b).item() - ref) <= 1e-12 * max(ref, 1)
    # equal sizes: the mean absolute difference of the sorted samples
    closed = (u.sort().values - v.sort().values).abs().mean()
    assert abs(wasserstein_1d(u, v).item() - closed.item()) < 1e-15


@pytest.mark.parametrize("p", [1, 2, 3.5])
def test_wasserstein_1d_matches_pot_for_any_order(p):
    ot = pytest.importorskip("ot")
    x, y = _clouds(40, 25, 4)
    ours = wasserstein_1d(x, y, p=p)  # four columns at once
    ref = ot.wasserstein_1d(x.numpy(), y.numpy(), p=p) ** (1 / p)
    assert ours.shape == (4,)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-12)
    for j in range(4):
        assert abs(wasserstein_1d(x[:, j], y[:, j], p=p).item() - ours[j].item()) < 1e-14


def test_wasserstein_1d_closed_forms():
    u = torch.randn(50, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert wasserstein_1d(u, u).item() == 0.0
    assert abs(wasserstein_1d(u, u + 2.5).item() - 2.5) < 1e-14  # a shift moves everything
    assert abs(wasserstein_1d(u, u + 2.5, p=2).item() - 2.5) < 1e-14
    # Two point masses: W1(δ0, δ1) = 1 whatever the sample sizes
    assert wasserstein_1d(torch.zeros(3), torch.ones(7)).item() == 1.0
    # numpy and integer input
    assert wasserstein_1d(np.array([0, 1, 2]), np.array([1, 2, 3])).item() == 1.0


# ---------------------------------------------------------------------------------------------
# sliced


@pytest.mark.parametrize("p", [1, 2, 1.5])
@pytest.mark.parametrize(("n", "m"), [(200, 200), (200, 130), (7, 300)])
def test_sliced_matches_pot_with_the_same_projections(p, n, m):
    ot = pytest.importorskip("ot")
    x, y = _clouds(n, m, 6, seed=n + m)
    theta = random_projections(6, 50, seed=4, dtype=torch.float64)
    ours = sliced_wasserstein(x, y, p=p, projections=theta).item()
    ref = ot.sliced_wasserstein_distance(x.numpy(), y.numpy(), p=p, projections=theta.numpy())
    assert abs(ours - ref) <= 1e-6 * ref  # measured: ~1e-14
    # float32 data: agreement limited by float32 rounding
    ours32 = sliced_wasserstein(x.float(), y.float(), p=p, projections=theta).item()
    assert abs(ours32 - ref) <= 1e-5 * ref


def test_sliced_seed_and_projections():
    x, y = _clouds(100, 80, 5)
    a = sliced_wasserstein(x, y, n_projections=64, seed=3)
    theta = random_projections(5, 64, seed=3, dtype=torch.float64)
    assert torch.allclose(theta.norm(dim=0), torch.ones(64, dtype=torch.float64))
    assert a.item() == sliced_wasserstein(x, y, projections=theta).item()
    assert a.item() == sliced_wasserstein(x, y, n_projections=64, seed=3).item()
    assert a.item() != sliced_wasserstein(x, y, n_projections=64, seed=4).item()
    assert sliced_wasserstein(x, x, seed=3).item() == 0.0
    # the sample order does not matter
    perm = torch.randperm(100, generator=torch.Generator().manual_seed(0))
    assert abs(sliced_wasserstein(x[perm], y, n_projections=64, seed=3).item() - a.item()) < 1e-14
    # p = 2 is the root of the mean of the squared 1-D distances (POT's normalisation)
    px, py = (theta.T @ x.T).sort(-1).values, (theta.T @ y.T).sort(-1).values
    assert px.shape == (64, 100)
    w2 = torch.stack([wasserstein_1d(px[i], py[i], p=2) for i in range(64)])
    expected = (w2**2).mean().sqrt()
    assert abs(sliced_wasserstein(x, y, p=2, projections=theta).item() - expected.item()) < 1e-14


def test_sliced_blocks_over_many_directions(monkeypatch):
    sw = importlib.import_module("lib.metrics.sliced_wasserstein")  # the module, not the function

    x, y = _clouds(60, 40, 3)
    full = sliced_wasserstein(x, y, n_projections=100)
    monkeypatch.setattr(sw, "_BLOCK_ELEMENTS", 700)  # 7 directions per block
    assert abs(sliced_wasserstein(x, y, n_projections=100).item() - full.item()) < 1e-14


def test_sliced_runs_on_the_device_of_its_inputs(device):
    x, y = _clouds(64, 50, 8)
    out = sliced_wasserstein(x.float().to(device), y.float().to(device), n_projections=32)
    assert out.device.type == device and out.dtype == torch.float32
    ref = sliced_wasserstein(x, y, n_projections=32)
    assert abs(out.item() - ref.item()) < 1e-5 * ref.item()


# ---------------------------------------------------------------------------------------------
# Laplacian pyramid

_BINOMIAL_5x5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0


def _reference_pyramid(images: np.ndarray, levels: int) -> list[np.ndarray]:
    """Progressive GAN's pyramid written with scipy.ndimage ('mirror' borders), float64."""
    kernel = _BINOMIAL_5x5[None, None]

    def down(x):
        return scipy.ndimage.convolve(x, kernel, mode="mirror")[:, :, ::2, ::2]

    def up(x):
        res = np.zeros(x.shape[:2] + (x.shape[2] * 2, x.shape[3] * 2))
        res[:, :, ::2, ::2] = x
        return scipy.ndimage.convolve(res, kernel * 4.0, mode="mirror")

    pyramid = [images.astype(np.float64)]
    for _ in range(1, levels):
        pyramid.append(down(pyramid[-1]))
        pyramid[-2] = pyramid[-2] - up(pyramid[-1])
    return pyramid


def test_pyramid_matches_the_reference_and_opencv():
    images = _crops(3, 64).double() / 255
    ours = laplacian_pyramid(images)
    assert [lvl.shape[-1] for lvl in ours] == [64, 32, 16]
    ref = _reference_pyramid(images.numpy(), 3)
    for a, b in zip(ours, ref, strict=True):
        np.testing.assert_allclose(a.numpy(), b, rtol=0, atol=1e-12)
    cv2 = pytest.importorskip("cv2")
    img = images[0].permute(1, 2, 0).numpy()
    low = cv2.pyrDown(img)  # OpenCV's default border is the same mirror (reflect-101)
    two = laplacian_pyramid(images, min_size=32)
    np.testing.assert_allclose(two[1][0].permute(1, 2, 0).numpy(), low, rtol=0, atol=1e-6)
    band0 = img - cv2.pyrUp(low)
    np.testing.assert_allclose(ours[0][0].permute(1, 2, 0).numpy(), band0, rtol=0, atol=1e-6)


@pytest.mark.parametrize("size", [(64, 64), (61, 50), (256, 40)])
def test_pyramid_reconstructs_the_image(size):
    images = torch.rand(2, 3, *size, generator=torch.Generator().manual_seed(0))
    pyramid = laplacian_pyramid(images, min_size=16)
    assert len(pyramid) == {64: 3, 50: 2, 40: 2}[min(size)]
    assert (reconstruct_laplacian_pyramid(pyramid) - images).abs().max().item() < 1e-6
    # the band-pass levels of a constant image are zero, its low-pass residual is the constant
    flat = laplacian_pyramid(torch.full((1, 1, *size), 0.3, dtype=torch.float64))
    assert all(lvl.abs().max().item() < 1e-15 for lvl in flat[:-1])
    assert (flat[-1] - 0.3).abs().max().item() < 1e-15


# ---------------------------------------------------------------------------------------------
# the Progressive GAN protocol


def _reference_swd(a: np.ndarray, b: np.ndarray, seed: int, n_patches, n_repeats, n_projections):
    """The protocol written out in numpy, fed the same random draws as lib's swd."""
    levels = 3
    results = []
    sets = []
    for images in (a, b):
        pyramid = _reference_pyramid(images.astype(np.float64) / 255, levels)
        gen = torch.Generator().manual_seed(seed)
        descs = []
        for band in pyramid:
            n, c, h, w = band.shape
            ys = torch.randint(3, h - 3, (n, n_patches), generator=gen).numpy()
            xs = torch.randint(3, w - 3, (n, n_patches), generator=gen).numpy()
            patches = np.stack(
                [
                    band[i, :, y - 3 : y + 4, x - 3 : x + 4]
                    for i in range(n)
                    for y, x in zip(ys[i], xs[i], strict=True)
                ]
            )
            patches = patches - patches.mean(axis=(0, 2, 3), keepdims=True)
            patches = patches / patches.std(axis=(0, 2, 3), keepdims=True)
            descs.append(patches.reshape(len(patches), -1))
        sets.append(descs)
    gen = torch.Generator().manual_seed(seed)
    for da, db in zip(*sets, strict=True):
        dirs = torch.randn(
            da.shape[1], n_repeats * n_projections, generator=gen, dtype=torch.float64
        ).numpy()
        dirs /= np.sqrt((dirs**2).sum(axis=0, keepdims=True))
        dists = []
        for r in range(n_repeats):
            d = dirs[:, r * n_projections : (r + 1) * n_projections]
            pa, pb = np.sort(da @ d, axis=0), np.sort(db @ d, axis=0)
            dists.append(np.abs(pa - pb).mean())
        results.append(np.mean(dists) * 1e3)
    return results


def test_swd_equals_the_protocol_written_out():
    a, b = _crops(6, 64, seed=1), _crops(6, 64, seed=2, image="coffee")
    ours = swd(a.double() / 255, b.double() / 255, seed=5, **FAST)
    ref = _reference_swd(a.numpy(), b.numpy(), 5, 32, 2, 32)
    assert isinstance(ours, SWDResult)
    assert ours.resolutions == (64, 32, 16)
    np.testing.assert_allclose(ours.per_level, ref, rtol=1e-9)
    assert abs(ours.mean - np.mean(ref)) < 1e-9 * np.mean(ref)
    assert list(ours.as_dict()) == ["swd_64", "swd_32", "swd_16", "swd_mean"]


def test_swd_identical_sets_and_affine_invariance():
    a = _crops(8, 64, seed=3)
    zero = swd(a, a, **FAST)
    assert zero.per_level == (0.0, 0.0, 0.0) and zero.mean == 0.0
    # Each set is normalised per channel by its own mean and std, so a positive per-channel
    # affine change of one set leaves the descriptors unchanged (same seed → same patches).
    af = a.float() / 255
    scale = torch.tensor([0.5, 0.8, 0.3]).view(1, 3, 1, 1)
    shift = torch.tensor([0.1, 0.0, 0.6]).view(1, 3, 1, 1)
    changed = swd(af, af * scale + shift, **FAST)
    assert max(changed.per_level) < 0.05  # float32 rounding; real differences read 10–100
    different = swd(af, _crops(8, 64, seed=4, image="coffee").float() / 255, **FAST)
    assert min(different.per_level) > 5


def test_swd_is_deterministic_and_batch_size_free():
    a, b = _crops(7, 64, seed=5), _crops(5, 64, seed=6)  # unequal set sizes are fine
    ref = swd(a, b, **FAST)
    assert swd(a, b, **FAST) == ref
    assert swd(a, b, batch_size=2, **FAST) == ref
    assert swd(a, b, seed=1, **FAST) != ref
    # uint8 input is the same as float in [0, 1]
    as_float = swd(a.float() / 255, b.float() / 255, **FAST)
    np.testing.assert_allclose(as_float.per_level, ref.per_level, rtol=1e-4)
    mixed = swd(a, b.double() / 255, **FAST)  # uint8 against float64
    np.testing.assert_allclose(mixed.per_level, ref.per_level, rtol=1e-4)


def test_swd_blur_raises_fine_levels_more_than_coarse():
    a = _crops(8, 64, seed=7).float() / 255
    blurred = F.avg_pool2d(F.pad(a, (1, 1, 1, 1), mode="reflect"), 3, stride=1)
    out = swd(a, blurred, **FAST)  # against swd(a, a) = 0 on every level
    assert out.per_level[0] > out.per_level[1] > out.per_level[2]
    assert out.per_level[0] > 5 * out.per_level[2]  # the finest band sees the blur most


def test_swd_runs_on_the_device_of_its_inputs(device):
    a, b = _crops(4, 32, seed=9), _crops(4, 32, seed=10)
    ref = swd(a, b, **FAST)
    out = swd(a.to(device), b.to(device), **FAST)
    assert out.resolutions == (32, 16)
    np.testing.assert_allclose(out.per_level, ref.per_level, rtol=1e-4)


# ---------------------------------------------------------------------------------------------
# bad input

_X = torch.randn(10, 3)


def _with_nan():
    x = _X.clone()
    x[2, 1] = float("nan")
    return x


SLICED_BAD = [
    ("dim mismatch", (_X, torch.randn(10, 4)), {}, ValueError, "same dimension"),
    ("1-D points", (_X[:, 0], _X[:, 0]), {}, ValueError, "2-D (points, dim)"),
    ("no points", (_X[:0], _X), {}, ValueError, "no points"),
    ("NaN", (_with_nan(), _X), {}, ValueError, "NaN"),
    ("p below 1", (_X, _X), {"p": 0.5}, ValueError, "≥ 1"),
    (
        "bad projections",
        (_X, _X),
        {"projections": torch.randn(4, 8)},
        ValueError,
        "(3, n_projections)",
    ),
    ("zero projections", (_X, _X), {"n_projections": 0}, ValueError, "n_projections"),
    ("float seed", (_X, _X), {"seed": 1.5}, TypeError, "seed"),
    ("list input", ([[1.0]], _X), {}, TypeError, "numpy array"),
]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in SLICED_BAD],
)
def test_sliced_bad_inputs(args, kwargs, error, fragment):
    with pytest.raises(error) as info:
        sliced_wasserstein(*args, **kwargs)
    assert fragment in str(info.value)


def test_wasserstein_1d_bad_inputs():
    with pytest.raises(ValueError, match="must both be 1-D"):
        wasserstein_1d(torch.rand(5), torch.rand(5, 2))
    with pytest.raises(ValueError, match="same number of columns"):
        wasserstein_1d(torch.rand(5, 3), torch.rand(5, 2))
    with pytest.raises(ValueError, match="empty"):
        wasserstein_1d(torch.rand(0), torch.rand(3))
    with pytest.raises(ValueError, match="≥ 1"):
        wasserstein_1d(torch.rand(3), torch.rand(3), p=float("inf"))


_IMG = torch.rand(2, 3, 32, 32)

SWD_BAD = [
    ("size mismatch", (_IMG, torch.rand(2, 3, 32, 33)), {}, ValueError, "same C×H×W"),
    ("channel mismatch", (_IMG, torch.rand(2, 1, 32, 32)), {}, ValueError, "same C×H×W"),
    ("4 channels", (torch.rand(2, 4, 32, 32),) * 2, {}, ValueError, "channel"),
    ("too small", (torch.rand(2, 3, 12, 12),) * 2, {}, ValueError, "min_size"),
    ("out of range", (_IMG * 3, _IMG), {}, ValueError, "[0, 1]"),
    ("3-D", (_IMG[0], _IMG[0]), {}, ValueError, "4-D"),
    ("even patch", (_IMG, _IMG), {"patch_size": 6}, ValueError, "odd"),
    ("patch larger than min_size", (_IMG, _IMG), {"patch_size": 17}, ValueError, "patch_size"),
    ("negative seed", (_IMG, _IMG), {"seed": -1}, ValueError, "seed"),
    ("int16 images", ((_IMG * 9).short(), _IMG), {}, TypeError, "float images"),
]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in SWD_BAD],
)
def test_swd_bad_inputs(args, kwargs, error, fragment):
    with pytest.raises(error) as info:
        swd(*args, **kwargs)
    assert fragment in str(info.value)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_different_devices_refused():
    with pytest.raises(ValueError, match="one device"):
        sliced_wasserstein(_X, _X.cuda())
    with pytest.raises(ValueError, match="one device"):
        swd(_IMG, _IMG.cuda())
