"""Precision / recall (Kynkäänniemi et al. 2019) and density / coverage (Naeem et al. 2020)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lib.metrics.precision_recall import (
    DensityCoverage,
    PrecisionRecall,
    density_coverage,
    knn_radii,
    precision_recall,
)


def _brute_force(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """All four metrics from full distance matrices, straight from the papers' definitions."""

    def dist(a, b):
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))

    def radii(a):
        d = dist(a, a)
        np.fill_diagonal(d, np.inf)
        return np.sort(d, axis=1)[:, k - 1]

    r_real, r_fake = radii(real), radii(fake)
    d = dist(real, fake)  # N × M
    return {
        "radii_real": r_real,
        "precision": (d <= r_real[:, None]).any(axis=0).mean(),
        "recall": (d <= r_fake[None, :]).any(axis=1).mean(),
        "density": (d < r_real[:, None]).sum(axis=0).mean() / k,
        "coverage": (d.min(axis=1) < r_real).mean(),
    }


def _overlapping(n: int, m: int, d: int, seed: int):
    rng = np.random.RandomState(seed)
    real = rng.randn(n, d)
    fake = rng.randn(m, d) * 1.2 + 0.3
    return real, fake


def _modes(n_per_mode: int, modes, seed: int) -> np.ndarray:
    """Unit Gaussian blobs in 2-D around eight centres on a circle of radius 30."""
    rng = np.random.RandomState(seed)
    angles = 2 * np.pi * np.arange(8) / 8
    centres = 30.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)[list(modes)]
    return np.concatenate([c + rng.randn(n_per_mode, 2) for c in centres])


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize(("n", "m", "chunk"), [(80, 80, None), (90, 60, 7), (40, 120, 1)])
def test_matches_brute_force(k, n, m, chunk):
    real, fake = _overlapping(n, m, 6, seed=n + m + k)
    ref = _brute_force(real, fake, k)
    pr = precision_recall(real, fake, k=k, chunk_size=chunk)
    dc = density_coverage(real, fake, k=k, chunk_size=chunk)
    assert isinstance(pr, PrecisionRecall) and isinstance(dc, DensityCoverage)
    assert pr.precision == pytest.approx(ref["precision"], abs=1e-15)
    assert pr.recall == pytest.approx(ref["recall"], abs=1e-15)
    assert dc.density == pytest.approx(ref["density"], abs=1e-12)
    assert dc.coverage == pytest.approx(ref["coverage"], abs=1e-15)
    radii = knn_radii(torch.from_numpy(real), k=k, chunk_size=chunk)
    np.testing.assert_allclose(radii.numpy(), ref["radii_real"], rtol=1e-12)


def test_radii_exclude_the_point_itself_but_not_its_duplicates():
    x = torch.tensor([[0.0], [0.0], [1.0], [3.0]], dtype=torch.float64)
    assert knn_radii(x, k=1).tolist() == [0.0, 0.0, 1.0, 2.0]
    assert knn_radii(x, k=2).tolist() == [1.0, 1.0, 1.0, 3.0]


def test_identical_sets():
    real, _ = _overlapping(150, 1, 10, seed=1)
    pr = precision_recall(real, real.copy())
    assert pr == (1.0, 1.0)
    dc = density_coverage(real, real.copy())
    assert dc.coverage == 1.0
    assert 0.8 < dc.density < 1.2  # each fake sits in its own ball and in about k others / k


def test_far_disjoint_sets_score_zero():
    real, fake = _overlapping(100, 100, 5, seed=2)
    fake = fake + 100.0
    assert precision_recall(real, fake) == (0.0, 0.0)
    assert density_coverage(real, fake) == (0.0, 0.0)


def test_fake_set_covering_half_the_modes():
    real = _modes(100, range(8), seed=3)
    fake = _modes(100, range(4), seed=4)  # new samples from half of the modes
    pr = precision_recall(real, fake)
    dc = density_coverage(real, fake)
    assert pr.precision > 0.9  # what is generated is realistic ...
    assert abs(pr.recall - 0.5) < 0.05  # ... but only half of the real modes are reached
    assert abs(dc.coverage - 0.5) < 0.05
    assert 0.7 < dc.density < 1.3


def test_dtypes_and_input_types():
    real, fake = _overlapping(70, 50, 4, seed=5)
    ref = precision_recall(real, fake)
    assert precision_recall(torch.from_numpy(real).float(), torch.from_numpy(fake).float()) == ref
    assert precision_recall(real.astype(np.float32), fake) == ref  # promoted to float64
    ints = (real * 10).round().astype(np.int64)
    assert precision_recall(ints, ints) == (1.0, 1.0)


def test_runs_on_the_device_of_its_inputs(device):
    real, fake = _overlapping(64, 48, 5, seed=6)
    r = torch.from_numpy(real).to(device)
    f = torch.from_numpy(fake).to(device)
    assert precision_recall(r, f, chunk_size=10) == precision_recall(real, fake)
    assert density_coverage(r, f, chunk_size=10) == density_coverage(real, fake)
    assert knn_radii(r).device.type == device


_R = np.random.RandomState(0).randn(20, 4)


def _with_nan():
    x = _R.copy()
    x[3, 2] = np.nan
    return x


BAD = [
    ("k equals N", precision_recall, (_R[:3], _R), {"k": 3}, ValueError, "more than k samples"),
    ("k above fake N", precision_recall, (_R, _R[:2]), {"k": 3}, ValueError, "fake has 2"),
    ("k above N (density)", density_coverage, (_R[:5], _R), {"k": 5}, ValueError, "k=5"),
    ("k zero", precision_recall, (_R, _R), {"k": 0}, ValueError, "k"),
    ("dim mismatch", precision_recall, (_R, _R[:, :3]), {}, ValueError, "same dimension"),
    ("dim mismatch (density)", density_coverage, (_R, _R[:, :3]), {}, ValueError, "same dimension"),
    ("NaN", precision_recall, (_with_nan(), _R), {}, ValueError, "NaN"),
    ("1-D", precision_recall, (_R[:, 0], _R[:, 0]), {}, ValueError, "2-D (samples, dim)"),
    ("images", density_coverage, (np.zeros((4, 3, 8, 8)), _R), {}, ValueError, "reshape"),
    ("bool", precision_recall, (_R > 0, _R), {}, TypeError, "expected real numbers"),
    ("chunk zero", precision_recall, (_R, _R), {"chunk_size": 0}, ValueError, "chunk_size"),
    ("list", precision_recall, ([[0.0]], _R), {}, TypeError, "numpy array"),
]


@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "error", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD],
)
def test_bad_inputs(fn, args, kwargs, error, fragment):
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    assert fragment in str(info.value)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_different_devices_refused():
    r = torch.from_numpy(_R)
    with pytest.raises(ValueError, match="one device"):
        precision_recall(r, r.cuda())
