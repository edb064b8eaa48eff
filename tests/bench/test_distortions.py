"""lib.bench.distortions: each distortion, MSE monotone in the strength, MSE matching."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.fft import dct

from lib import bench
from lib.bench.distortions import (
    DISTORTIONS,
    JPEG_LUMINANCE_TABLE,
    STRENGTH_RANGES,
    MSEMatch,
    _dct_matrix,
    distort,
    match_mse,
    mse,
)
from lib.datasets import photos, shapes

TARGET = 210 / 255**2  # Wang et al.'s MSE 210 on 8-bit grey levels


@pytest.fixture(scope="module")
def grey():
    """A 128-px grey photo (the notebook's image at half size)."""
    colour = photos(1, size=128, sources=("chelsea",), scale=(1.0, 1.0), seed=0).images
    luma = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (colour * luma).sum(1, keepdim=True).clamp(0, 1)


@pytest.fixture(scope="module")
def rgb():
    return shapes(3, seed=0).images  # 3×3×32×32


def _strengths(kind: str, images: torch.Tensor, n: int = 6) -> list[float]:
    top = STRENGTH_RANGES[kind][1]
    top = min(images.shape[-2:]) / 2 if math.isinf(top) else top / 4
    return [top * i / n for i in range(n + 1)]


@pytest.mark.parametrize("kind", DISTORTIONS)
def test_strength_zero_is_an_unchanged_copy_and_output_stays_in_range(kind, rgb):
    out = distort(rgb, kind, 0.0)
    assert torch.equal(out, rgb) and out is not rgb
    strong = distort(rgb, kind, _strengths(kind, rgb)[-1])
    assert strong.shape == rgb.shape and strong.dtype == rgb.dtype
    assert float(strong.min()) >= 0 and float(strong.max()) <= 1


@pytest.mark.parametrize("kind", DISTORTIONS)
def test_mse_grows_with_the_strength(kind, grey):
    errors = [float(mse(grey, distort(grey, kind, s))) for s in _strengths(kind, grey)]
    assert errors[0] == 0.0
    assert all(b >= a - 1e-12 for a, b in zip(errors, errors[1:], strict=False)), errors
    assert errors[-1] > 0


@pytest.mark.parametrize("kind", DISTORTIONS)
def test_match_mse_reaches_the_target(kind, grey):
    found = match_mse(grey, kind, TARGET)
    assert isinstance(found, MSEMatch)
    # Salt-and-pepper and JPEG move in steps; 0.5 % is what the notebook's check allows.
    assert abs(found.mse - TARGET) < 0.005 * TARGET
    assert found.mse == pytest.approx(float(mse(grey, found.images)), rel=1e-12)
    again = distort(grey, kind, found.strength)
    assert torch.equal(again, found.images)


def test_brightness_contrast_and_the_bench_kinds_follow_their_formulas(grey, rgb):
    assert torch.equal(distort(grey, "brightness", 0.1), (grey + 0.1).clamp(0, 1))
    x = torch.full((1, 1, 16, 16), 0.5)
    x[..., :8] = 0.4
    out = distort(x, "contrast", 1.0)  # gain 2 about the mean 0.45
    assert torch.allclose(out[..., :8], torch.full_like(out[..., :8], 0.35))
    assert torch.allclose(out[..., 8:], torch.full_like(out[..., 8:], 0.55))
    for kind in ("blur", "noise", "salt_pepper"):
        assert torch.equal(
            distort(rgb, kind, 0.05, seed=3), bench.degrade(rgb, kind, strength=0.05, seed=3)
        )
    assert not torch.equal(distort(rgb, "noise", 0.1, seed=1), distort(rgb, "noise", 0.1, seed=2))


def test_dct_matrix_is_the_orthonormal_dct_ii():
    d = _dct_matrix(torch.float64, torch.device("cpu"))
    expected = dct(np.eye(8), norm="ortho", axis=0)
    assert np.allclose(d.numpy(), expected, atol=1e-12)
    assert torch.allclose(d @ d.T, torch.eye(8, dtype=torch.float64), atol=1e-12)


def test_jpeg_rounds_each_blocks_dct_to_the_quantisation_steps():
    # A smooth image that stays inside [0, 1] (no clipping), of a size that is not a multiple
    # of 8 (the last row and column of blocks are padded and cropped back).
    i = torch.arange(20, dtype=torch.float64)
    x = (0.5 + 0.2 * torch.sin(i[:, None] / 3) * torch.cos(i[None, :] / 4))[None, None]
    s = 1.5
    out = distort(x, "jpeg", s)
    assert out.shape == x.shape
    d = _dct_matrix(torch.float64, torch.device("cpu"))
    step = torch.tensor(JPEG_LUMINANCE_TABLE, dtype=torch.float64) * s / 255
    block = out[0, 0, :8, :8]  # a full block, unaffected by padding
    coef = d @ block @ d.T / step
    assert torch.allclose(coef, coef.round(), atol=1e-9)
    assert float((out - x).abs().max()) > 1e-3
    assert float((distort(x, "jpeg", 1e-6) - x).abs().max()) < 1e-6


def test_patch_is_a_black_square_with_soft_edges():
    ones = torch.ones(1, 1, 40, 40)
    for side in (4.0, 7.5, 10.25):
        dark = 1 - distort(ones, "patch", side)
        assert float(dark.sum()) == pytest.approx(side**2, rel=1e-6)
    full = distort(ones, "patch", 10.0, centre=(0.25, 0.5))
    assert float(full[0, 0, 5:15, 15:25].max()) == 0.0  # rows 5..14, columns 15..24
    assert float(full.sum()) == 40 * 40 - 100


def test_mse_per_image_and_mean(rgb):
    y = distort(rgb, "brightness", 0.2)
    per = mse(rgb, y)
    manual = ((rgb.double() - y.double()) ** 2).flatten(1).mean(1)
    assert per.shape == (3,) and torch.allclose(per, manual)
    assert float(mse(rgb, y, reduction="mean")) == pytest.approx(float(manual.mean()))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda x: distort(x, "sharpen", 1.0), ValueError, "kind: unknown value 'sharpen'"),
        (lambda x: distort(x, 3, 1.0), TypeError, "kind: expected one of"),
        (lambda x: distort(x, "blur", 11.0), ValueError, r"strength: 'blur' takes a strength"),
        (lambda x: distort(x, "patch", 33.0), ValueError, r"in \[0, 32\]"),
        (lambda x: distort(x, "noise", -0.1), ValueError, "strength"),
        (lambda x: distort(x, "noise", True), TypeError, "strength: expected a number"),
        (lambda x: distort(x, "noise", 0.1, seed=1.5), TypeError, "seed: expected an integer"),
        (lambda x: distort(x, "patch", 3.0, centre=(1.5, 0.5)), ValueError, "centre"),
        (lambda x: distort(x, "patch", 3.0, centre="middle"), TypeError, "centre"),
        (lambda x: distort(x * 2, "blur", 1.0), ValueError, r"images: float images must lie"),
        (lambda x: match_mse(x, "brightness", 0.0), ValueError, "target: the MSE to reach"),
        (lambda x: match_mse(x, "brightness", "a"), TypeError, "target: expected a number"),
        (lambda x: match_mse(x, "patch", 0.9), ValueError, "reaches at most MSE"),
        (lambda x: match_mse(x, "blur", 1e-3, rtol=2.0), ValueError, "rtol"),
        (lambda x: match_mse(x, "blur", 1e-3, max_iter=0), ValueError, "max_iter"),
        (lambda x: mse(x, x[:1]), ValueError, "x, y: must have the same shape"),
        (lambda x: mse(x, x, reduction="sum"), ValueError, "reduction: unknown value"),
    ],
)
def test_bad_inputs_raise_clear_errors(rgb, call, error, match):
    with pytest.raises(error, match=match):
        call(rgb)
