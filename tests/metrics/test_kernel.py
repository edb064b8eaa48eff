"""Tests for lib.metrics.kernel: kernels, MMD², KID (oracles, torch-fidelity, errors)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import lib.metrics.kernel as kernel_module
from lib.metrics.kernel import kid, mmd2, polynomial_kernel, rbf_kernel

X_ORACLE = [[0.0], [1.0]]
Y_ORACLE = [[1.0], [2.0]]


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def features(n: int, d: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=gen, dtype=torch.float64) + shift


def brute_mmd2(x: np.ndarray, y: np.ndarray, k, unbiased: bool) -> float:
    """Textbook double loops over pairs (Gretton et al. 2012, eqs. 3 and 5)."""
    m, n = len(x), len(y)
    sxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if not unbiased or i != j)
    syy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if not unbiased or i != j)
    sxy = sum(k(x[i], y[j]) for i in range(m) for j in range(n))
    if unbiased:
        return sxx / (m * (m - 1)) + syy / (n * (n - 1)) - 2 * sxy / (m * n)
    return sxx / m**2 + syy / n**2 - 2 * sxy / (m * n)


# --------------------------------------------------------------------------------------------
# oracles
# --------------------------------------------------------------------------------------------
def test_kid_oracle_is_exactly_9_5(device):
    x = torch.tensor(X_ORACLE, dtype=torch.float64, device=device)
    y = torch.tensor(Y_ORACLE, dtype=torch.float64, device=device)
    assert mmd2(x, y) == 9.5
    # every subset of size 2 is a permutation of the whole set, so each MMD² is 9.5 too
    for sampling in ("torch-fidelity", "torch"):
        assert kid(x, y, subsets=5, subset_size=2, sampling=sampling) == (9.5, 0.0)
    # biased V-statistic: (1+1+1+8)/4 + (8+27+27+125)/4 − 2·37/4 = 31
    assert mmd2(x, y, unbiased=False) == pytest.approx(31.0, rel=1e-15)


def test_kernels_on_hand_values(device):
    x = torch.tensor([[1.0, 2.0]], device=device)
    y = torch.tensor([[3.0, -1.0], [0.0, 0.0]], device=device)
    k = polynomial_kernel(x, y)
    assert k.dtype == torch.float64 and k.device == x.device
    assert k.cpu().tolist() == [[(1 / 2 + 1) ** 3, 1.0]]
    assert polynomial_kernel(x, y, degree=2, gamma=1.0, coef0=0.0).cpu().tolist() == [[1.0, 0.0]]
    r = rbf_kernel(x, y, sigma=2.0).cpu()
    assert r[0, 0].item() == pytest.approx(math.exp(-(4 + 9) / 8), rel=1e-15)
    assert r[0, 1].item() == pytest.approx(math.exp(-5 / 8), rel=1e-15)


@pytest.mark.parametrize("unbiased", [True, False], ids=["unbiased", "biased"])
@pytest.mark.parametrize("kernel", ["poly", "rbf"])
def test_mmd2_matches_brute_force_with_unequal_sizes(kernel, unbiased):
    x, y = features(9, 3, seed=0), features(6, 3, seed=1, shift=0.5)
    if kernel == "poly":
        kw = {"degree": 3, "gamma": None, "coef0": 1.0}

        def k(a, b):
            return (a @ b / 3 + 1) ** 3
    else:
        kw = {"sigma": 1.3}

        def k(a, b):
            return math.exp(-np.sum((a - b) ** 2) / (2 * 1.3**2))

    kw = {key: v for key, v in kw.items() if v is not None}
    got = mmd2(x, y, kernel=kernel, unbiased=unbiased, **kw)
    assert rel(got, brute_mmd2(x.numpy(), y.numpy(), k, unbiased)) <= 1e-12


def test_mmd2_identical_distributions_can_be_negative_and_is_finite():
    x, y = features(200, 8, seed=2), features(200, 8, seed=3)
    value = mmd2(x, y)
    assert math.isfinite(value) and abs(value) < 0.05
    assert mmd2(x, x, unbiased=False) == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------------------------------
# torch-fidelity
# --------------------------------------------------------------------------------------------
def _torch_fidelity_kid(x, y, **kwargs) -> tuple[float, float]:
    from torch_fidelity.metric_kid import kid_features_to_metric

    out = kid_features_to_metric(x, y, verbose=False, **kwargs)
    return out["kernel_inception_distance_mean"], out["kernel_inception_distance_std"]


@pytest.mark.parametrize(
    ("kernel", "ours_kw", "tf_kw"),
    [
        pytest.param("poly", {}, {}, id="poly-default"),
        pytest.param(
            "poly",
            {"degree": 2, "gamma": 0.1, "coef0": 0.5},
            {
                "kid_kernel_poly_degree": 2,
                "kid_kernel_poly_gamma": 0.1,
                "kid_kernel_poly_coef0": 0.5,
            },
            id="poly-custom",
        ),
        pytest.param(
            "rbf", {"sigma": 10.0}, {"kid_kernel": "rbf", "kid_kernel_rbf_sigma": 10.0}, id="rbf"
        ),
    ],
)
def test_kid_matches_torch_fidelity_one_to_one(kernel, ours_kw, tf_kw):
    x = features(1200, 64, seed=4)
    y = features(1100, 64, seed=5, shift=0.05)
    ours = kid(x, y, subsets=20, subset_size=300, seed=2020, kernel=kernel, **ours_kw)
    theirs = _torch_fidelity_kid(x, y, kid_subsets=20, kid_subset_size=300, rng_seed=2020, **tf_kw)
    assert rel(ours[0], theirs[0]) <= 1e-8
    assert rel(ours[1], theirs[1]) <= 1e-8


@pytest.mark.slow
def test_kid_matches_torch_fidelity_at_inception_size():
    # pool3-sized features, the protocol's subset size (fewer subsets to keep the CPU time small)
    x = features(1500, 2048, seed=6).abs()  # non-negative like post-ReLU pool3 features
    y = (features(1300, 2048, seed=7) * 1.1).abs()
    ours = kid(x, y, subsets=8, subset_size=1000, seed=123)
    theirs = _torch_fidelity_kid(x, y, kid_subsets=8, kid_subset_size=1000, rng_seed=123)
    assert rel(ours[0], theirs[0]) <= 1e-8
    assert rel(ours[1], theirs[1]) <= 1e-8


# --------------------------------------------------------------------------------------------
# determinism, batching, devices
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sampling", ["torch-fidelity", "torch"])
def test_kid_is_deterministic_and_independent_of_chunking(device, sampling, monkeypatch):
    x = features(400, 16, seed=8).to(device)
    y = features(350, 16, seed=9, shift=0.2).to(device)
    a = kid(x, y, subsets=12, subset_size=100, seed=7, sampling=sampling)
    assert a == kid(x, y, subsets=12, subset_size=100, seed=7, sampling=sampling)
    assert a != kid(x, y, subsets=12, subset_size=100, seed=8, sampling=sampling)
    monkeypatch.setattr(kernel_module, "_KID_CHUNK_BYTES", 1)  # one subset per batch
    b = kid(x, y, subsets=12, subset_size=100, seed=7, sampling=sampling)
    assert rel(b[0], a[0]) <= 1e-12 and rel(b[1], a[1]) <= 1e-10
    assert a[0] > 0 and a[1] > 0  # the sets differ by a shift


def test_kid_sampling_modes_differ_but_agree_statistically():
    x = features(600, 16, seed=10)
    y = features(600, 16, seed=11, shift=0.3)
    tf = kid(x, y, subsets=50, subset_size=200, sampling="torch-fidelity")
    th = kid(x, y, subsets=50, subset_size=200, sampling="torch")
    assert tf != th
    full = mmd2(x, y)
    assert abs(tf[0] - full) < 3 * tf[1] and abs(th[0] - full) < 3 * th[1]


def test_kid_float32_features_agree_with_float64():
    x = features(500, 32, seed=12)
    y = features(500, 32, seed=13, shift=0.1)
    a = kid(x, y, subsets=10, subset_size=200)
    b = kid(x.float(), y.float().numpy(), subsets=10, subset_size=200)
    assert rel(b[0], a[0]) <= 1e-4


# --------------------------------------------------------------------------------------------
# bad inputs
# --------------------------------------------------------------------------------------------
_X = features(10, 3, seed=0)
_Y = features(8, 3, seed=1)
BAD = [
    ("x-1d", lambda: mmd2(_X[0], _Y), ValueError, "real: expected a 2-D"),
    ("y-3d", lambda: kid(_X, _Y[None], subset_size=2), ValueError, "fake: expected a 2-D"),
    ("x-one-row", lambda: mmd2(_X[:1], _Y), ValueError, "real: needs at least 2"),
    ("y-nan", lambda: mmd2(_X, _Y * float("nan")), ValueError, "fake: contains"),
    ("x-inf", lambda: kid(_X * float("inf"), _Y, subset_size=2), ValueError, "real: contains"),
    ("dim-mismatch", lambda: mmd2(_X, _Y[:, :2]), ValueError, "fake: has dimension 2"),
    ("int-features", lambda: mmd2(_X.long(), _Y), TypeError, "real: expected floating-point"),
    ("not-an-array", lambda: mmd2([[0.0]], _Y), TypeError, "real: expected a torch.Tensor"),
    (
        "subset-gt-x",
        lambda: kid(_X, features(20, 3, 2), subset_size=15),
        ValueError,
        "subset_size: 15 is larger than the number of samples in real",
    ),
    (
        "subset-gt-y",
        lambda: kid(_X, _Y, subset_size=9),
        ValueError,
        "subset_size: 9 is larger than the number of samples in fake",
    ),
    (
        "subset-one",
        lambda: kid(_X, _Y, subset_size=1),
        ValueError,
        "subset_size: must be at least 2",
    ),
    ("subsets-zero", lambda: kid(_X, _Y, subsets=0, subset_size=2), ValueError, "subsets: must be"),
    (
        "sampling",
        lambda: kid(_X, _Y, subset_size=2, sampling="numpy"),
        ValueError,
        "sampling: unknown",
    ),
    ("kernel", lambda: mmd2(_X, _Y, kernel="linear"), ValueError, "kernel: unknown"),
    (
        "rbf-no-sigma",
        lambda: mmd2(_X, _Y, kernel="rbf"),
        TypeError,
        "sigma: the 'rbf' kernel needs",
    ),
    (
        "rbf-bad-sigma",
        lambda: rbf_kernel(_X, _Y, sigma=-1.0),
        ValueError,
        "sigma: must be a positive",
    ),
    ("poly-extra-kwarg", lambda: mmd2(_X, _Y, sigma=1.0), TypeError, "sigma: not a parameter"),
    ("poly-degree", lambda: polynomial_kernel(_X, _Y, degree=0), ValueError, "degree: must be"),
    ("poly-gamma", lambda: polynomial_kernel(_X, _Y, gamma=-2.0), ValueError, "gamma: must be"),
    ("poly-coef0", lambda: polynomial_kernel(_X, _Y, coef0="1"), TypeError, "coef0: expected"),
    ("seed", lambda: kid(_X, _Y, subset_size=2, seed=1.0), TypeError, "seed: expected an integer"),
    ("unbiased-flag", lambda: mmd2(_X, _Y, unbiased="yes"), TypeError, "unbiased: expected"),
]


@pytest.mark.parametrize(("call", "exc", "match"), [pytest.param(*c[1:], id=c[0]) for c in BAD])
def test_bad_inputs_are_refused(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.cuda
def test_inputs_on_different_devices_are_refused():
    with pytest.raises(ValueError, match="fake: is on device cpu but real is on cuda"):
        kid(_X.cuda(), _Y, subset_size=2)
