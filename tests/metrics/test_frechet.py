"""Tests for lib.metrics.frechet: oracles, peer cross-checks, streaming invariances, errors."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from lib.metrics.frechet import (
    FeatureStats,
    FIDInfinityResult,
    FrechetReference,
    fid,
    fid_infinity,
    frechet_distance,
)

ROOT = Path(__file__).resolve().parents[2]


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def t64(x, device="cpu") -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, dtype=np.float64), device=device)


def random_features(n: int, d: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    """Correlated, non-isotropic float64 features with full-rank covariance."""
    gen = torch.Generator().manual_seed(seed)
    mix = torch.randn(d, d, generator=gen, dtype=torch.float64) / math.sqrt(d)
    scale = torch.linspace(0.2, 2.0, d, dtype=torch.float64)
    return torch.randn(n, d, generator=gen, dtype=torch.float64) @ (mix * scale) + shift


def low_cost_cov(d: int, rank: int, rng: np.random.Generator) -> np.ndarray:
    """A full-rank d×d covariance made cheaply: positive diagonal plus a low-rank term."""
    u = rng.standard_normal((d, rank)) / math.sqrt(rank)
    return np.diag(rng.uniform(0.05, 1.0, d)) + u @ u.T


# --------------------------------------------------------------------------------------------
# oracles (closed forms)
# --------------------------------------------------------------------------------------------
S1 = [[2.0, 1.0], [1.0, 2.0]]
ORACLES = [
    pytest.param(
        np.zeros(2048), np.eye(2048), np.ones(2048), np.eye(2048), 2048.0, id="identity-d2048"
    ),
    pytest.param(
        np.zeros(3), np.diag([1.0, 4, 9]), np.zeros(3), np.diag([4.0, 1, 16]), 3.0, id="diagonal"
    ),
    pytest.param(
        np.zeros(2),
        S1,
        np.zeros(2),
        np.diag([1.0, 4.0]),
        0.7712204476543416,
        id="non-commuting-2x2",
    ),
    pytest.param(
        [1.0, 2.0],
        S1,
        np.zeros(2),
        np.diag([1.0, 4.0]),
        5.771220447654342,
        id="non-commuting-2x2-shifted",
    ),
]


@pytest.mark.parametrize(("mu1", "s1", "mu2", "s2", "expected"), ORACLES)
def test_frechet_distance_oracles(device, mu1, s1, mu2, s2, expected):
    args = [t64(a, device) for a in (mu1, s1, mu2, s2)]
    assert frechet_distance(*args) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    if len(args[0]) > 100:
        return  # one large eigenproblem is enough for the d = 2048 oracle
    # symmetric in its two Gaussians, and the fixed-reference fast path agrees
    assert frechet_distance(*args[2:], *args[:2]) == pytest.approx(expected, rel=1e-12)
    ref = FrechetReference(args[0], args[1])
    assert rel(ref.distance(args[2], args[3]), frechet_distance(*args)) <= 1e-10


def test_frechet_distance_accepts_numpy_and_float32():
    s1 = np.array(S1, dtype=np.float32)
    got = frechet_distance(np.zeros(2), s1, np.zeros(2, np.float32), np.diag([1.0, 4.0]))
    assert got == pytest.approx(0.7712204476543416, rel=1e-12)
    assert isinstance(got, float)


def test_singular_reference_uses_eigh_and_stays_exact():
    # Σ1 singular (rank 2 of 3): Cholesky fails and the eigh route must give the diagonal formula.
    a, b = np.array([0.0, 4.0, 9.0]), np.array([4.0, 1.0, 16.0])
    expected = float(np.sum((np.sqrt(a) - np.sqrt(b)) ** 2))
    assert frechet_distance(np.zeros(3), np.diag(a), np.zeros(3), np.diag(b)) == pytest.approx(
        expected, rel=1e-12
    )


def test_identical_gaussians_give_zero_not_negative():
    x = random_features(300, 32, seed=3)
    stats = FeatureStats.from_features(x)
    value = frechet_distance(stats.mean, stats.covariance, stats.mean, stats.covariance)
    assert 0.0 <= value < 1e-9


# --------------------------------------------------------------------------------------------
# peers
# --------------------------------------------------------------------------------------------
class _Identity(torch.nn.Module):
    """Feature 'network' for torchmetrics that returns its input (the features themselves)."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.num_features = d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _pytorch_fid(mu1, s1, mu2, s2) -> float:
    from pytorch_fid.fid_score import calculate_frechet_distance

    with warnings.catch_warnings():  # scipy deprecates sqrtm(disp=...), which pytorch-fid uses
        warnings.simplefilter("ignore")
        return float(calculate_frechet_distance(mu1, s1, mu2, s2))


def test_fid_matches_peers_on_features_d64():
    from torch_fidelity.metric_fid import fid_statistics_to_metric
    from torchmetrics.image.fid import FrechetInceptionDistance

    real = random_features(3000, 64, seed=1)
    fake = random_features(3000, 64, seed=2, shift=0.1)
    ours = fid(real, fake)

    r, f = real.numpy(), fake.numpy()
    mu1, s1 = r.mean(0), np.cov(r, rowvar=False)
    mu2, s2 = f.mean(0), np.cov(f, rowvar=False)
    assert rel(ours, _pytorch_fid(mu1, s1, mu2, s2)) <= 1e-6

    tm = FrechetInceptionDistance(feature=_Identity(64))
    for start in range(0, 3000, 1000):
        tm.update(real[start : start + 1000], real=True)
        tm.update(fake[start : start + 1000], real=False)
    assert rel(ours, float(tm.compute())) <= 1e-6

    tf = fid_statistics_to_metric({"mu": mu1, "sigma": s1}, {"mu": mu2, "sigma": s2}, False)
    assert rel(ours, tf["frechet_inception_distance"]) <= 1e-6

    # the streaming statistics and the fixed-reference path give the same number
    assert (
        rel(fid(FeatureStats.from_features(real), FeatureStats.from_features(fake)), ours) <= 1e-10
    )
    assert rel(fid(FrechetReference.from_features(real), fake), ours) <= 1e-10


@pytest.mark.slow
def test_frechet_distance_matches_scipy_sqrtm_d2048():
    # Full-rank, non-commuting 2048×2048 covariances built cheaply (diagonal + rank 64).
    # torchmetrics' eigvals route is checked at d = 64 above; sqrtm is the slow reference here.
    rng = np.random.default_rng(0)
    d = 2048
    s1, s2 = low_cost_cov(d, 64, rng), low_cost_cov(d, 64, rng)
    mu1, mu2 = 0.1 * rng.standard_normal(d), 0.1 * rng.standard_normal(d)
    ref = FrechetReference(mu1, s1)
    ours = ref.distance(mu2, s2)
    assert rel(ours, _pytorch_fid(mu1, s1, mu2, s2)) <= 1e-6


# --------------------------------------------------------------------------------------------
# streaming statistics
# --------------------------------------------------------------------------------------------
def _max_rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


def test_feature_stats_independent_of_batch_size_and_order(device):
    x = random_features(1000, 24, seed=5, shift=0.5).to(device)
    one = FeatureStats.from_features(x)
    cov = torch.cov(x.T)
    assert _max_rel(one.covariance, cov) <= 1e-10
    assert _max_rel(one.mean, x.mean(0)) <= 1e-12
    perm = torch.randperm(1000, generator=torch.Generator().manual_seed(0)).to(device)
    for batch, rows in ((1, x), (7, x), (333, x), (64, x[perm])):
        s = FeatureStats(24)
        for start in range(0, 1000, batch):
            s.update(rows[start : start + batch])
        assert s.n == 1000 and s.device == x.device
        assert _max_rel(s.covariance, one.covariance) <= 1e-10
        assert _max_rel(s.mean, one.mean) <= 1e-10
    # float32 features are accumulated in float64 too: only their own rounding remains
    s32 = FeatureStats(24).update(x.float())
    assert s32.sum_xx.dtype == torch.float64
    assert _max_rel(s32.covariance, one.covariance) <= 1e-6


def test_feature_stats_merge_equals_one_pass_and_is_not_in_place():
    x = random_features(900, 12, seed=6)
    a = FeatureStats.from_features(x[:400])
    b = FeatureStats.from_features(x[400:])
    merged = a.merge(b)
    one = FeatureStats.from_features(x)
    assert merged.n == 900 and a.n == 400 and b.n == 500
    assert _max_rel(merged.covariance, one.covariance) <= 1e-10
    assert _max_rel(merged.mean, one.mean) <= 1e-12
    assert _max_rel((a + b).sum_xx, one.sum_xx) <= 1e-12


def test_feature_stats_empty_update_and_repr():
    s = FeatureStats(4)
    s.update(torch.zeros(0, 4))
    assert s.n == 0 and "n=0" in repr(s)


def test_feature_stats_save_load_round_trip(tmp_path):
    x = random_features(200, 10, seed=7)
    s = FeatureStats.from_features(x)
    path = tmp_path / "sub" / "stats.npz"
    s.save(path)
    assert sorted(os.listdir(path.parent)) == ["stats.npz"]  # no temporary file left behind
    back = FeatureStats.load(path)
    assert back.n == s.n and back.dim == s.dim
    assert torch.equal(back.sum_x, s.sum_x) and torch.equal(back.sum_xx, s.sum_xx)
    assert fid(back, x[:100]) == fid(s, x[:100])
    s.update(x[:5])
    s.save(path)  # overwriting goes through os.replace too
    assert FeatureStats.load(path).n == 205


def test_feature_stats_all_reduce_is_noop_without_distributed():
    s = FeatureStats.from_features(random_features(50, 3, seed=8))
    before = s.sum_xx.clone()
    assert s.all_reduce() is s
    assert torch.equal(s.sum_xx, before) and s.n == 50


def _load_worker():
    spec = importlib.util.spec_from_file_location(
        "_fid_worker", ROOT / "tests" / "_torchrun_fid_worker.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_two_processes_under_torchrun_match_one_process(tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("torchrun is not installed next to this Python")
    out = tmp_path / "fid.json"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [
            str(torchrun),
            "--standalone",
            "--nproc_per_node",
            "2",
            str(ROOT / "tests" / "_torchrun_fid_worker.py"),
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    real, fake = _load_worker().make_features()
    assert result["world_size"] == 2
    assert (result["n_real"], result["n_fake"]) == (real.shape[0], fake.shape[0])
    assert rel(result["fid"], fid(real, fake)) <= 1e-10


# --------------------------------------------------------------------------------------------
# FID conveniences
# --------------------------------------------------------------------------------------------
def test_fid_warns_when_n_below_d_but_is_finite():
    real = random_features(40, 64, seed=9)
    fake = random_features(500, 64, seed=10)
    with pytest.warns(UserWarning, match="real: only 40 samples"):
        value = fid(real, fake)
    assert math.isfinite(value) and value > 0
    with pytest.warns(UserWarning, match="fake: only 40 samples"):
        assert math.isfinite(fid(fake, real))


def test_fid_accepts_numpy_float32_and_mixed_inputs():
    real = random_features(400, 8, seed=11)
    fake = random_features(300, 8, seed=12, shift=0.2)
    expected = fid(real, fake)
    assert rel(fid(real.numpy().astype(np.float32), fake.float()), expected) <= 1e-5
    assert rel(fid(FeatureStats.from_features(real), fake.numpy()), expected) <= 1e-10


def test_fid_infinity_removes_the_small_sample_bias():
    # Fake samples drawn from the reference Gaussian itself: the population distance is 0, FID_N
    # is biased upward by roughly k/N, and the 1/N → 0 extrapolation removes that bias.
    d = 32
    rng = np.random.default_rng(4)
    mu_ref, s_ref = np.zeros(d), low_cost_cov(d, 4, rng)
    gen = torch.Generator().manual_seed(0)
    chol = torch.linalg.cholesky(torch.from_numpy(s_ref))
    fake = torch.randn(20000, d, generator=gen, dtype=torch.float64) @ chol.T
    ref = FrechetReference(mu_ref, s_ref)
    res = fid_infinity(
        ref, fake, sizes=[500, 1000, 2000, 5000, 10000, 20000], seed=1, return_points=True
    )
    assert isinstance(res, FIDInfinityResult)
    assert res.slope > 0  # FID_N is biased upward, more so at small N
    assert res.fids[0] > 0.3 and np.all(np.diff(res.fids) < 0)
    assert abs(res.fid_infinity) < 0.05
    assert abs(res.fid_infinity) < 0.1 * res.fids[0]


def test_fid_infinity_is_deterministic_and_modes_agree():
    real = random_features(1500, 16, seed=13)
    fake = random_features(1500, 16, seed=14, shift=0.3)
    a = fid_infinity(real, fake, seed=3)
    assert a == fid_infinity(real, fake, seed=3)
    assert a != fid_infinity(real, fake, seed=4)
    b = fid_infinity(FeatureStats.from_features(real), fake, seed=3, nested=False)
    assert rel(b, fid_infinity(real, fake, seed=3, nested=False)) <= 1e-12
    res = fid_infinity(real, fake, seed=3, return_points=True)
    assert res.sizes[0] == 150 and res.sizes[-1] == 1500 and len(res.sizes) == 15
    # the last point uses every fake sample: it is the plain FID
    assert rel(float(res.fids[-1]), fid(real, fake)) <= 1e-10
    assert abs(a - b) < 0.1 * fid(real, fake)


def test_fid_infinity_warns_about_subsets_smaller_than_d():
    real = random_features(300, 32, seed=15)
    fake = random_features(300, 32, seed=16)
    with pytest.warns(UserWarning, match="sizes: the smallest subset"):
        assert math.isfinite(fid_infinity(real, fake, sizes=[20, 100, 300]))


# --------------------------------------------------------------------------------------------
# bad inputs
# --------------------------------------------------------------------------------------------
Z2, I2 = np.zeros(2), np.eye(2)
FD_BAD = [
    ("mu-2d", (np.zeros((2, 1)), I2, Z2, I2), ValueError, "mu1: expected a 1-D"),
    ("sigma-not-square", (Z2, np.ones((2, 3)), Z2, I2), ValueError, "sigma1: expected a square"),
    ("sigma-1d", (Z2, I2, Z2, np.ones(2)), ValueError, "sigma2: expected a square"),
    ("dim-mismatch-mu", (Z2, I2, np.zeros(3), np.eye(3)), ValueError, "mu2: has dimension 3"),
    ("dim-mismatch-sigma", (Z2, np.eye(3), Z2, I2), ValueError, "sigma1: is 3×3"),
    ("nan", (Z2, I2, Z2, np.array([[1.0, np.nan], [np.nan, 1.0]])), ValueError, "sigma2: contains"),
    ("inf", (np.array([np.inf, 0.0]), I2, Z2, I2), ValueError, "mu1: contains"),
    (
        "not-symmetric",
        (Z2, np.array([[1.0, 0.5], [0.0, 1.0]]), Z2, I2),
        ValueError,
        "sigma1: is not symmetric",
    ),
    (
        "not-psd-1",
        (Z2, np.array([[1.0, 2.0], [2.0, 1.0]]), Z2, I2),
        ValueError,
        "sigma1: is not positive semi-definite",
    ),
    (
        "not-psd-2",
        (Z2, I2, Z2, np.array([[1.0, 2.0], [2.0, 1.0]])),
        ValueError,
        "sigma2: is not positive semi-definite",
    ),
    (
        "negative-diagonal",
        (Z2, I2, Z2, np.diag([1.0, -1.0])),
        ValueError,
        "sigma2: has a negative diagonal",
    ),
    ("complex", (Z2.astype(complex), I2, Z2, I2), TypeError, "mu1: expected real numbers"),
    ("list", ([0.0, 0.0], I2, Z2, I2), TypeError, "mu1: expected a torch.Tensor"),
    (
        "empty",
        (np.zeros(0), np.zeros((0, 0)), np.zeros(0), np.zeros((0, 0))),
        ValueError,
        "mu1: is empty",
    ),
]


@pytest.mark.parametrize(("args", "exc", "match"), [pytest.param(*c[1:], id=c[0]) for c in FD_BAD])
def test_frechet_distance_rejects_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        frechet_distance(*args)


_F = random_features(20, 4, seed=0)
FID_BAD = [
    ("real-1d", (_F[0], _F), ValueError, "real: expected a 2-D"),
    ("fake-3d", (_F, _F[None]), ValueError, "fake: expected a 2-D"),
    ("fake-one-row", (_F, _F[:1]), ValueError, "fake: needs at least 2"),
    ("real-nan", (torch.full((5, 4), float("nan")), _F), ValueError, "real: contains"),
    ("dim-mismatch", (_F, _F[:, :3]), ValueError, "fake: has dimension 3"),
    (
        "integer-features",
        (torch.ones(5, 4, dtype=torch.int64), _F),
        TypeError,
        "real: expected floating-point",
    ),
    ("stats-n1", (_F, FeatureStats(4).update(_F[:1])), ValueError, "fake: needs at least 2"),
    (
        "stats-dim-mismatch",
        (FeatureStats.from_features(_F), FeatureStats.from_features(_F[:, :2])),
        ValueError,
        "fake: has dimension 2",
    ),
    ("not-an-array", (_F, "features"), TypeError, "fake: expected a torch.Tensor"),
]


@pytest.mark.parametrize(("args", "exc", "match"), [pytest.param(*c[1:], id=c[0]) for c in FID_BAD])
def test_fid_rejects_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        fid(*args)


STATS_BAD = [
    ("dim-zero", lambda: FeatureStats(0), ValueError, "dim: must be at least 1"),
    ("dim-float", lambda: FeatureStats(2.0), TypeError, "dim: expected an integer"),
    (
        "update-wrong-dim",
        lambda: FeatureStats(3).update(_F),
        ValueError,
        "features: have dimension 4",
    ),
    ("update-1d", lambda: FeatureStats(4).update(_F[0]), ValueError, "features: expected a 2-D"),
    (
        "update-inf",
        lambda: FeatureStats(4).update(_F * float("inf")),
        ValueError,
        "features: contains",
    ),
    ("mean-empty", lambda: FeatureStats(4).mean, ValueError, "no features have been added"),
    (
        "cov-one-sample",
        lambda: FeatureStats(4).update(_F[:1]).covariance,
        ValueError,
        "at least 2 samples",
    ),
    (
        "merge-dim",
        lambda: FeatureStats(4).merge(FeatureStats(3)),
        ValueError,
        "other: has dimension",
    ),
    ("merge-type", lambda: FeatureStats(4).merge(_F), TypeError, "other: expected a FeatureStats"),
    (
        "reference-dim",
        lambda: FrechetReference(Z2, I2).distance(np.zeros(3), np.eye(3)),
        ValueError,
        "mu: has dimension 3",
    ),
    (
        "reference-from-stats-type",
        lambda: FrechetReference.from_stats(_F),
        TypeError,
        "stats: expected a FeatureStats",
    ),
    (
        "fid-inf-sizes-too-big",
        lambda: fid_infinity(_F, _F, sizes=[5, 50]),
        ValueError,
        r"sizes: every size must lie in \[2, 20\]",
    ),
    (
        "fid-inf-one-size",
        lambda: fid_infinity(_F, _F, sizes=[10, 10]),
        ValueError,
        "sizes: need at least 2",
    ),
    (
        "fid-inf-float-sizes",
        lambda: fid_infinity(_F, _F, sizes=[5.5, 10.0]),
        TypeError,
        "sizes: expected a 1-D sequence of integers",
    ),
    (
        "fid-inf-fake-1d",
        lambda: fid_infinity(_F, _F[0]),
        ValueError,
        "fake: expected a 2-D",
    ),
    (
        "fid-inf-seed",
        lambda: fid_infinity(_F, _F, seed=1.5),
        TypeError,
        "seed: expected an integer",
    ),
    ("fid-inf-dim", lambda: fid_infinity(_F[:, :3], _F), ValueError, "real: has dimension 3"),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    ("call", "exc", "match"), [pytest.param(*c[1:], id=c[0]) for c in STATS_BAD]
)
def test_stats_and_fid_infinity_reject_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def _write_object_npz(path):
    np.savez(
        path,
        format_version=np.int64(1),
        n=np.int64(2),
        sum_x=np.zeros(2),
        sum_xx=np.array([{"evil": 1}, None], dtype=object),
    )


def _write_pickle(path):
    import pickle

    with open(path, "wb") as fh:
        pickle.dump({"mu": np.zeros(2)}, fh)


def _npy_bytes() -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    return buf.getvalue()


LOAD_BAD = [
    ("pickled-object-array", _write_object_npz, "holds pickled objects"),
    ("missing-keys", lambda p: np.savez(p, mu=np.zeros(2), sigma=np.eye(2)), "missing key"),
    ("pickle-file", _write_pickle, "cannot read"),
    ("npy-file", lambda p: Path(p).write_bytes(_npy_bytes()), "single array"),
    ("garbage", lambda p: Path(p).write_bytes(b"PK\x03\x04 not really a zip"), "cannot read"),
    (
        "inconsistent",
        lambda p: np.savez(
            p, format_version=np.int64(1), n=np.int64(2), sum_x=np.zeros(2), sum_xx=np.zeros((3, 3))
        ),
        "inconsistent statistics",
    ),
]


@pytest.mark.parametrize(("write", "match"), [pytest.param(*c[1:], id=c[0]) for c in LOAD_BAD])
def test_feature_stats_load_refuses_bad_files(tmp_path, write, match):
    path = tmp_path / "stats.npz"
    write(str(path))
    with pytest.raises(ValueError, match="path: .*" + match):
        FeatureStats.load(path)


@pytest.mark.cuda
def test_device_mismatches_are_reported():
    cpu = random_features(30, 4, seed=1)
    gpu = cpu.cuda()
    s = FeatureStats.from_features(cpu)
    with pytest.raises(ValueError, match="features: are on device cuda"):
        s.update(gpu)
    with pytest.raises(ValueError, match="fake: is on device cuda"):
        fid(cpu, gpu)
    with pytest.raises(ValueError, match="sigma1: is on device"):
        frechet_distance(torch.zeros(4).cuda(), torch.eye(4), torch.zeros(4), torch.eye(4))
    # an empty state follows the features to their device
    assert FeatureStats(4).update(gpu).device.type == "cuda"
