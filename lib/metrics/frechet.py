"""Fréchet distance between Gaussians, streaming feature statistics, FID and FID∞.

FID (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
Equilibrium", §3 / eq. 6) fits a Gaussian to the features of each image set and reports the
squared Fréchet (2-Wasserstein) distance between the two Gaussians:

    d² = ‖μ1 − μ2‖² + Tr Σ1 + Tr Σ2 − 2 Tr (Σ1^½ Σ2 Σ1^½)^½ .

The trace of the matrix square root is computed from symmetric problems only (no
``scipy.linalg.sqrtm``). Any factor B with Σ1 = B Bᵀ will do: Σ1 Σ2 = B (Bᵀ Σ2) has the same
eigenvalues as the symmetric PSD matrix M = Bᵀ Σ2 B, so Tr (Σ1 Σ2)^½ = Σ √λ_i(M) from one
``eigvalsh``, with round-off negatives clamped to 0. B is the Cholesky factor when Σ1 is
positive definite (several times cheaper than an eigendecomposition) and B = V diag(√w) from
``eigh`` (Σ1 = V diag(w) Vᵀ; B Vᵀ = Σ1^½) when Σ1 is singular, e.g. N ≤ d. Either way M has
the eigenvalues of Σ1^½ Σ2 Σ1^½. Everything runs in float64 on the device of the inputs.

The Gaussian's three forms (features, streaming :class:`FeatureStats`, a fixed
:class:`FrechetReference`) and the distances between them stay one module: they share the
float64 validators of a mean and a covariance and the one closed form above, and each form
converts into the next, so a split would only move those private checks across files.
"""

from __future__ import annotations

import math
import os
import warnings
import zipfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

from lib._checks import (
    ArrayLike,
    as_tensor,
    check_finite,
    check_positive_int,
    check_seed,
    renamed_arguments,
)
from lib._io import atomic_write

if TYPE_CHECKING:
    from torch.distributed import ProcessGroup

__all__ = [
    "FeatureStats",
    "FIDInfinityResult",
    "FrechetReference",
    "fid",
    "fid_infinity",
    "frechet_distance",
]

# Relative tolerances: asymmetry of a covariance, and how negative an eigenvalue may be (relative
# to the largest one) before the matrix counts as not positive semi-definite. Round-off in
# float64 stays orders of magnitude below both; a genuinely indefinite matrix is far above.
_SYMMETRY_RTOL = 1e-5
_PSD_RTOL = 1e-6
_FORMAT_VERSION = 1
_STATS_KEYS = ("format_version", "n", "sum_x", "sum_xx")


# --------------------------------------------------------------------------------------------
# validation helpers (shared with the sibling metric modules)
# --------------------------------------------------------------------------------------------
def _real_float64(value, name: str) -> torch.Tensor:
    """Tensor or array of real numbers → float64 tensor on its own device, finite."""
    x = as_tensor(value, name)
    if x.dtype == torch.bool or x.is_complex():
        raise TypeError(f"{name}: expected real numbers, got dtype {x.dtype}")
    x = x.detach().to(torch.float64)
    check_finite(x, name)
    return x


def _check_features(value, name: str, min_rows: int = 1) -> torch.Tensor:
    """Validate an N×D float feature matrix (returned as given: dtype and device unchanged)."""
    x = as_tensor(value, name)
    if x.ndim != 2:
        hint = " (a single vector needs x[None])" if x.ndim == 1 else ""
        raise ValueError(
            f"{name}: expected a 2-D N×D feature matrix, got shape {tuple(x.shape)}{hint}"
        )
    if not x.is_floating_point():
        raise TypeError(
            f"{name}: expected floating-point features, got dtype {x.dtype}; convert with .double()"
        )
    if x.shape[0] < min_rows:
        raise ValueError(f"{name}: needs at least {min_rows} sample(s) (rows), got {x.shape[0]}")
    if x.shape[1] < 1:
        raise ValueError(f"{name}: features have 0 dimensions (shape {tuple(x.shape)})")
    check_finite(x, name)
    return x


def _same_device(tensors: Sequence[tuple[str, torch.Tensor]]) -> torch.device:
    first_name, first = tensors[0]
    for name, t in tensors[1:]:
        if t.device != first.device:
            raise ValueError(
                f"{name}: is on device {t.device} but {first_name} is on {first.device}; "
                "move both to the same device with .to(device)"
            )
    return first.device


def _check_mean_cov(mu, sigma, mu_name: str, sigma_name: str) -> tuple[torch.Tensor, torch.Tensor]:
    mu = _real_float64(mu, mu_name)
    sigma = _real_float64(sigma, sigma_name)
    if mu.ndim != 1:
        raise ValueError(f"{mu_name}: expected a 1-D mean vector, got shape {tuple(mu.shape)}")
    if sigma.ndim != 2 or sigma.shape[0] != sigma.shape[1]:
        raise ValueError(
            f"{sigma_name}: expected a square 2-D covariance matrix, got shape {tuple(sigma.shape)}"
        )
    if sigma.shape[0] != mu.shape[0]:
        raise ValueError(
            f"{sigma_name}: is {sigma.shape[0]}×{sigma.shape[1]} but {mu_name} has "
            f"{mu.shape[0]} entries; the dimensions must match"
        )
    if mu.shape[0] < 1:
        raise ValueError(f"{mu_name}: is empty; the Gaussians need at least one dimension")
    _same_device([(mu_name, mu), (sigma_name, sigma)])
    scale = float(sigma.abs().max())
    asym = float((sigma - sigma.T).abs().max())
    if asym > _SYMMETRY_RTOL * max(scale, 1e-300):
        raise ValueError(
            f"{sigma_name}: is not symmetric (max |Σ − Σᵀ| = {asym:.3g} for entries up to "
            f"{scale:.3g}); a covariance matrix must be symmetric"
        )
    if float(torch.diagonal(sigma).min()) < -_PSD_RTOL * max(scale, 1e-300):
        raise ValueError(
            f"{sigma_name}: has a negative diagonal entry, so it is not positive "
            "semi-definite and cannot be a covariance"
        )
    return mu, 0.5 * (sigma + sigma.T)


def _check_same_dim(d1: int, d2: int, name1: str, name2: str) -> None:
    if d1 != d2:
        raise ValueError(
            f"{name2}: has dimension {d2} but {name1} has dimension {d1}; "
            "both sets must use the same feature network and layer"
        )


# --------------------------------------------------------------------------------------------
# streaming statistics
# --------------------------------------------------------------------------------------------
class FeatureStats:
    """Streaming float64 sufficient statistics of a feature set: n, Σx and Σxxᵀ.

    ``mean = Σx / n`` and ``covariance = (Σxxᵀ − n·mean·meanᵀ) / (n − 1)`` (the unbiased sample
    covariance used by FID, Heusel et al. 2017). Because the state is a set of sums, the result
    does not depend on batch size or batch order, two states merge by adding, and
    :meth:`all_reduce` combines the states of several processes with one ``SUM`` all-reduce.

    Attributes: ``dim``; ``n`` (int); ``sum_x`` (Σx, float64, d); ``sum_xx`` (Σxxᵀ, float64,
    d×d). The sums live on ``device`` until the first :meth:`update`; an update on an empty
    state moves them to the device of the features, so accumulation always happens where the
    features are.
    """

    def __init__(self, dim: int, device: str | torch.device = "cpu") -> None:
        self.dim = check_positive_int(dim, "dim")
        self.n = 0
        self.sum_x = torch.zeros(dim, dtype=torch.float64, device=device)
        self.sum_xx = torch.zeros(dim, dim, dtype=torch.float64, device=device)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_features(cls, features: ArrayLike) -> FeatureStats:
        """Statistics of an N×D feature matrix in one call."""
        x = _check_features(features, "features")
        stats = cls(x.shape[1], device=x.device)
        stats.update(x)
        return stats

    @property
    def device(self) -> torch.device:
        return self.sum_x.device

    def to(self, device: str | torch.device) -> FeatureStats:
        """Move the sums to ``device`` (in place); returns ``self``."""
        self.sum_x = self.sum_x.to(device)
        self.sum_xx = self.sum_xx.to(device)
        return self

    def copy(self) -> FeatureStats:
        out = FeatureStats(self.dim, device=self.device)
        out.n = self.n
        out.sum_x = self.sum_x.clone()
        out.sum_xx = self.sum_xx.clone()
        return out

    # -- accumulation -------------------------------------------------------------------------
    def update(self, features: ArrayLike) -> FeatureStats:
        """Add a batch of N×D features (any float dtype; accumulated in float64). Returns self."""
        x = _check_features(features, "features", min_rows=0)
        if x.shape[1] != self.dim:
            raise ValueError(
                f"features: have dimension {x.shape[1]} but these statistics were "
                f"created with dim={self.dim}"
            )
        if x.device != self.device:
            if self.n == 0:
                self.to(x.device)
            else:
                raise ValueError(
                    f"features: are on device {x.device} but the statistics accumulated so far "
                    f"are on {self.device}; move the features with .to({str(self.device)!r})"
                )
        if x.shape[0] == 0:
            return self
        x = x.detach().to(torch.float64)  # statistics never carry an autograd graph
        self.sum_x += x.sum(dim=0)
        self.sum_xx.addmm_(x.T, x)
        self.n += int(x.shape[0])
        return self

    def merge(self, other: FeatureStats) -> FeatureStats:
        """Return a **new** FeatureStats holding both sets (``self`` and ``other`` unchanged).

        The result lives on ``self``'s device; equal to one pass over the concatenated features.
        """
        if not isinstance(other, FeatureStats):
            raise TypeError(f"other: expected a FeatureStats, got {type(other).__name__}")
        _check_same_dim(self.dim, other.dim, "self", "other")
        out = self.copy()
        out.n += other.n
        out.sum_x += other.sum_x.to(out.device)
        out.sum_xx += other.sum_xx.to(out.device)
        return out

    def __add__(self, other: FeatureStats) -> FeatureStats:
        return self.merge(other)

    def all_reduce(self, group: ProcessGroup | None = None) -> FeatureStats:
        """Sum the statistics of all processes in place (``torch.distributed``, ``SUM``).

        A no-op when torch.distributed is not available or not initialised. Exact: the
        distributed result equals a single pass over the union of all processes' features (up to
        float64 summation order). The sums must be on a device the backend supports (CPU for
        gloo, CUDA for nccl). Returns ``self``.
        """
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            return self
        count = torch.tensor([float(self.n)], dtype=torch.float64, device=self.device)
        for t in (self.sum_x, self.sum_xx, count):
            dist.all_reduce(t, op=dist.ReduceOp.SUM, group=group)
        self.n = round(float(count.item()))
        return self

    # -- results ------------------------------------------------------------------------------
    @property
    def mean(self) -> torch.Tensor:
        """μ = Σx / n (float64, d)."""
        if self.n < 1:
            raise ValueError("FeatureStats: no features have been added yet (n = 0)")
        return self.sum_x / self.n

    @property
    def covariance(self) -> torch.Tensor:
        """Σ = (Σxxᵀ − n μμᵀ) / (n − 1) (float64, d×d, exactly symmetric)."""
        if self.n < 2:
            raise ValueError(
                f"FeatureStats: the covariance needs at least 2 samples, got n = {self.n}"
            )
        mu = self.sum_x / self.n
        cov = (self.sum_xx - self.n * torch.outer(mu, mu)) / (self.n - 1)
        return 0.5 * (cov + cov.T)

    def __repr__(self) -> str:
        return f"FeatureStats(dim={self.dim}, n={self.n}, device={self.device})"

    # -- files --------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write the sums to an ``.npz`` file atomically (temp file in the same folder, then
        ``os.replace``), so an interrupted write never leaves a corrupt statistics file."""
        arrays = {
            "format_version": np.int64(_FORMAT_VERSION),
            "n": np.int64(self.n),
            "sum_x": self.sum_x.detach().cpu().numpy(),
            "sum_xx": self.sum_xx.detach().cpu().numpy(),
        }
        atomic_write(path, lambda handle: np.savez(handle, **arrays))

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> FeatureStats:
        """Read statistics written by :meth:`save` (never unpickles anything)."""
        path = os.fspath(path)
        try:
            archive = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(
                f"path: cannot read {path!r} as FeatureStats ({exc}); files holding pickled "
                "objects are refused on purpose, re-create the file with FeatureStats.save"
            ) from exc
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(f"path: {path!r} holds a single array, not a FeatureStats .npz")
        with archive as data:
            missing = [k for k in _STATS_KEYS if k not in data.files]
            if missing:
                raise ValueError(
                    f"path: {path!r} is not a FeatureStats file; missing key(s) "
                    f"{', '.join(missing)} (found {', '.join(data.files) or 'nothing'})"
                )
            try:
                arrays = {k: data[k] for k in _STATS_KEYS}
            except ValueError as exc:  # object arrays need pickle: refused
                raise ValueError(
                    f"path: {path!r} holds pickled objects, which are never loaded; "
                    "re-create the file with FeatureStats.save"
                ) from exc
        for key, arr in arrays.items():
            if arr.dtype.kind not in "fiu":
                raise ValueError(
                    f"path: key {key!r} in {path!r} has dtype {arr.dtype}, expected numbers"
                )
        sum_x, sum_xx = arrays["sum_x"], arrays["sum_xx"]
        n = int(arrays["n"])
        if sum_x.ndim != 1 or sum_xx.shape != (sum_x.shape[0], sum_x.shape[0]) or n < 0:
            raise ValueError(
                f"path: inconsistent statistics in {path!r}: sum_x {sum_x.shape}, "
                f"sum_xx {sum_xx.shape}, n={n}"
            )
        stats = cls(sum_x.shape[0], device=device)
        stats.n = n
        stats.sum_x = torch.as_tensor(sum_x, dtype=torch.float64).to(device)
        stats.sum_xx = torch.as_tensor(sum_xx, dtype=torch.float64).to(device)
        check_finite(stats.sum_x, "path (sum_x)")
        check_finite(stats.sum_xx, "path (sum_xx)")
        return stats


# --------------------------------------------------------------------------------------------
# the Fréchet distance
# --------------------------------------------------------------------------------------------
class FrechetReference:
    """A fixed reference Gaussian N(μ_ref, Σ_ref) with Σ_ref factored once.

    Σ_ref = B Bᵀ is factored once at construction (Cholesky, or ``eigh`` with B = V diag(√w)
    when Σ_ref is singular); each :meth:`distance` then costs two matrix products and one
    ``eigvalsh`` of Bᵀ Σ B — the right tool for training curves, where the real set never
    changes. The squared Fréchet distance (Dowson & Landau 1982; FID: Heusel et al. 2017) is

        d² = ‖μ_ref − μ‖² + Tr Σ_ref + Tr Σ − 2 Σ_i √λ_i(Bᵀ Σ B).
    """

    def __init__(self, mu: ArrayLike, sigma: ArrayLike, *, n: int | None = None) -> None:
        mu, sigma = _check_mean_cov(mu, sigma, "mu", "sigma")
        self._set(mu, sigma, n, "sigma")

    @classmethod
    def _validated(
        cls, mu: torch.Tensor, sigma: torch.Tensor, n: int | None, sigma_name: str
    ) -> FrechetReference:
        obj = cls.__new__(cls)
        obj._set(mu, sigma, n, sigma_name)
        return obj

    def _set(self, mu: torch.Tensor, sigma: torch.Tensor, n: int | None, sigma_name: str) -> None:
        # Any B with Σ_ref = B Bᵀ works (see the module docstring). Cholesky is the cheap one and
        # its success proves Σ_ref positive definite; a singular Σ_ref falls back to eigh.
        chol, info = torch.linalg.cholesky_ex(sigma)
        if int(info) == 0:
            root = chol
        else:
            w, v = torch.linalg.eigh(sigma)
            top = float(w.abs().max())
            if float(w.min()) < -_PSD_RTOL * max(top, 1e-300):
                raise ValueError(
                    f"{sigma_name}: is not positive semi-definite (smallest eigenvalue "
                    f"{float(w.min()):.3g}, largest {float(w.max()):.3g}); a covariance matrix "
                    "cannot be indefinite"
                )
            root = v * w.clamp(min=0).sqrt()
        self.mu = mu
        self.sigma = sigma
        self.n = n
        self._root = root  # B with Σ_ref = B Bᵀ
        self._trace = float(torch.diagonal(sigma).sum())

    @classmethod
    def from_stats(cls, stats: FeatureStats) -> FrechetReference:
        """Reference from streaming statistics (mean and (N − 1)-covariance)."""
        if not isinstance(stats, FeatureStats):
            raise TypeError(f"stats: expected a FeatureStats, got {type(stats).__name__}")
        return cls(stats.mean, stats.covariance, n=stats.n)

    @classmethod
    def from_features(cls, features: ArrayLike) -> FrechetReference:
        """Reference from an N×D feature matrix (N ≥ 2)."""
        return cls.from_stats(FeatureStats.from_features(_check_features(features, "features", 2)))

    @property
    def dim(self) -> int:
        return int(self.mu.shape[0])

    @property
    def device(self) -> torch.device:
        return self.mu.device

    def distance(self, mu: ArrayLike, sigma: ArrayLike) -> float:
        """Squared Fréchet distance between N(μ_ref, Σ_ref) and N(``mu``, ``sigma``)."""
        mu, sigma = _check_mean_cov(mu, sigma, "mu", "sigma")
        _check_same_dim(self.dim, mu.shape[0], "the reference", "mu")
        _same_device([("the reference", self.mu), ("mu", mu)])
        return self._distance(mu, sigma, "sigma")

    def _distance(self, mu: torch.Tensor, sigma: torch.Tensor, sigma_name: str) -> float:
        b = self._root
        m = b.T @ sigma @ b
        lam = torch.linalg.eigvalsh(0.5 * (m + m.T))
        top = float(lam.abs().max())
        if float(lam.min()) < -_PSD_RTOL * max(top, 1e-300):
            raise ValueError(
                f"{sigma_name}: is not positive semi-definite (Σ_ref^½ Σ Σ_ref^½ has eigenvalue "
                f"{float(lam.min()):.3g}); a covariance matrix cannot be indefinite"
            )
        tr_sqrt = float(lam.clamp(min=0).sqrt().sum())
        diff = self.mu - mu
        value = float(diff @ diff) + self._trace + float(torch.diagonal(sigma).sum()) - 2 * tr_sqrt
        # The exact value is ≥ 0; a tiny negative number is round-off of identical inputs.
        return max(value, 0.0)

    def fid(self, fake: ArrayLike | FeatureStats) -> float:
        """FID between this reference and ``fake`` (N×D features or a FeatureStats)."""
        mu, sigma, _ = _gaussian(fake, "fake", self.dim, other="the reference")
        _same_device([("the reference", self.mu), ("fake", mu)])
        return self._distance(mu, sigma, "fake")

    def __repr__(self) -> str:
        return f"FrechetReference(dim={self.dim}, n={self.n}, device={self.device})"


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike) -> float:
    """Squared Fréchet distance between N(μ1, Σ1) and N(μ2, Σ2) (Dowson & Landau 1982):

        d² = ‖μ1 − μ2‖² + Tr Σ1 + Tr Σ2 − 2 Tr (Σ1^½ Σ2 Σ1^½)^½ .

    With Inception pool3 statistics this is FID (Heusel et al. 2017, eq. 6). Computed in float64
    from symmetric problems: a factor Σ1 = B Bᵀ (Cholesky; ``eigh`` giving Σ1^½ when Σ1 is
    singular) and ``eigvalsh`` of Bᵀ Σ2 B, which has the eigenvalues of Σ1^½ Σ2 Σ1^½ (negative
    round-off clamped to 0), so the result is always real and finite; no ``sqrtm``.
    Accepts torch tensors or numpy arrays; tensors stay on their device.

    Raises ``ValueError`` for non-square or non-symmetric covariances, mismatched dimensions,
    NaN/Inf, indefinite (non-PSD) covariances and inputs on different devices.
    """
    mu1, sigma1 = _check_mean_cov(mu1, sigma1, "mu1", "sigma1")
    mu2, sigma2 = _check_mean_cov(mu2, sigma2, "mu2", "sigma2")
    _check_same_dim(mu1.shape[0], mu2.shape[0], "mu1", "mu2")
    _same_device([("mu1", mu1), ("mu2", mu2)])
    return FrechetReference._validated(mu1, sigma1, None, "sigma1")._distance(mu2, sigma2, "sigma2")


# --------------------------------------------------------------------------------------------
# FID
# --------------------------------------------------------------------------------------------
def _gaussian(
    value, name: str, dim: int | None = None, other: str = "real"
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(μ, Σ, n) from N×D features or a FeatureStats; warns when n < d."""
    if isinstance(value, FeatureStats):
        if dim is not None:
            _check_same_dim(dim, value.dim, other, name)
        if value.n < 2:
            raise ValueError(
                f"{name}: needs at least 2 samples to estimate a covariance, got n = {value.n}"
            )
        mu, sigma, n = value.mean, value.covariance, value.n
    else:
        x = _check_features(value, name, min_rows=2)
        if dim is not None:
            _check_same_dim(dim, int(x.shape[1]), other, name)
        x = x.detach().to(torch.float64)
        n = int(x.shape[0])
        mu = x.mean(dim=0)
        xc = x - mu
        sigma = xc.T @ xc / (n - 1)
        sigma = 0.5 * (sigma + sigma.T)
    _warn_small_n(n, int(mu.shape[0]), name)
    return mu, sigma, n


def _warn_small_n(n: int, d: int, name: str, stacklevel: int = 4) -> None:
    if n < d:
        warnings.warn(
            f"{name}: only {n} samples for {d}-dimensional features; the covariance is singular "
            "and FID is biased upward at small N. Use N ≥ d (the protocol uses 50,000) or "
            "compare with fid_infinity.",
            UserWarning,
            stacklevel=stacklevel,
        )


def fid(real: ArrayLike | FeatureStats | FrechetReference, fake: ArrayLike | FeatureStats) -> float:
    """Fréchet Inception Distance (Heusel et al. 2017, eq. 6) between two feature sets.

        FID = ‖μ_r − μ_f‖² + Tr Σ_r + Tr Σ_f − 2 Tr (Σ_r^½ Σ_f Σ_r^½)^½ ,

    μ and Σ the mean and (N − 1)-normalised covariance of each set. ``real`` and ``fake`` are
    N×D feature matrices (tensor or numpy; any float dtype, computed in float64 on their device)
    or :class:`FeatureStats`; ``real`` may also be a :class:`FrechetReference`. Which network
    made the features (Inception pool3 for the published protocol) is up to the caller.

    When N < d a covariance is singular and FID is biased upward: a ``UserWarning`` is issued
    and the (finite) value is still returned.
    """
    if isinstance(real, FrechetReference):
        return real.fid(fake)
    mu1, sigma1, _ = _gaussian(real, "real")
    mu2, sigma2, _ = _gaussian(fake, "fake", dim=int(mu1.shape[0]))
    _same_device([("real", mu1), ("fake", mu2)])
    ref = FrechetReference._validated(mu1, sigma1, None, "real")
    return ref._distance(mu2, sigma2, "fake")


class FIDInfinityResult(NamedTuple):
    """FID∞ with the points it was extrapolated from: FID(N) ≈ fid_infinity + slope / N."""

    fid_infinity: float
    slope: float
    sizes: np.ndarray
    fids: np.ndarray


@renamed_arguments(fake_features="fake")
def fid_infinity(
    real: ArrayLike | FeatureStats | FrechetReference,
    fake: ArrayLike,
    sizes: Sequence[int] | None = None,
    *,
    num_points: int = 15,
    seed: int = 2020,
    nested: bool = True,
    return_points: bool = False,
) -> float | FIDInfinityResult:
    """Effectively unbiased FID, FID∞ (Chong & Forsyth 2020, CVPR, §3.1).

    FID computed from N samples is biased upward, with a bias that is linear in 1/N:
    FID_N ≈ FID∞ + k / N. FID is computed on random subsets of the rows of ``fake`` of each size in
    ``sizes`` against the full ``real`` statistics, a least-squares line is fitted to
    (1/N, FID_N), and its intercept (1/N → 0) is returned.

    ``sizes`` defaults to ``num_points`` sizes evenly spaced from N/10 to N (the authors use
    5,000…50,000 in 15 steps). ``nested=True`` draws one random permutation and uses its
    prefixes, accumulating the statistics in one pass (fast); ``nested=False`` draws a fresh
    permutation for every size, as the authors' code does. The permutations come from a CPU
    ``torch.Generator`` seeded with ``seed``, so the result is deterministic on any device.
    Like any regression intercept, FID∞ can come out slightly negative when the two sets are
    nearly identical. With ``return_points=True`` a :class:`FIDInfinityResult` (intercept,
    slope, sizes, FIDs) is returned instead of the float.
    """
    x = _check_features(fake, "fake", min_rows=2)
    n_total, d = int(x.shape[0]), int(x.shape[1])
    seed = check_seed(seed)
    if sizes is None:
        check_positive_int(num_points, "num_points", minimum=2)
        lo = max(2, n_total // 10)
        sizes_arr = np.unique(np.linspace(lo, n_total, num_points).round().astype(np.int64))
    else:
        sizes_arr = np.asarray(sizes)
        if sizes_arr.ndim != 1 or sizes_arr.dtype.kind not in "iu":
            raise TypeError(f"sizes: expected a 1-D sequence of integers, got {sizes!r}")
        sizes_arr = np.unique(sizes_arr.astype(np.int64))
        if sizes_arr[0] < 2 or sizes_arr[-1] > n_total:
            raise ValueError(
                f"sizes: every size must lie in [2, {n_total}] (the number of "
                f"rows of fake), got {sizes_arr.tolist()}"
            )
    if len(sizes_arr) < 2:
        raise ValueError(
            f"sizes: need at least 2 distinct subset sizes to fit a line, got {sizes_arr.tolist()}"
        )

    if isinstance(real, FrechetReference):
        ref = real
        _check_same_dim(ref.dim, d, "real", "fake")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            mu, sigma, n_real = _gaussian(real, "real", dim=d, other="fake")
        # 4: past this function and its renamed-arguments wrapper, at the caller
        _warn_small_n(n_real, d, "real", stacklevel=4)
        ref = FrechetReference._validated(mu, sigma, n_real, "real")
    _same_device([("real", ref.mu), ("fake", x)])
    if sizes_arr[0] < d:
        warnings.warn(
            f"sizes: the smallest subset ({int(sizes_arr[0])}) is below the feature dimension "
            f"({d}); FID is far from linear in 1/N there, so the extrapolation is unreliable. "
            "Use subset sizes ≥ d.",
            UserWarning,
            stacklevel=3,  # past the renamed-arguments wrapper
        )

    gen = torch.Generator(device="cpu").manual_seed(seed)
    fids = np.empty(len(sizes_arr), dtype=np.float64)
    if nested:
        perm = torch.randperm(n_total, generator=gen).to(x.device)
        stats = FeatureStats(d, device=x.device)
        start = 0
        for k, size in enumerate(sizes_arr.tolist()):
            stats.update(x[perm[start:size]])
            start = size
            fids[k] = ref._distance(stats.mean, stats.covariance, "fake")
    else:
        for k, size in enumerate(sizes_arr.tolist()):
            idx = torch.randperm(n_total, generator=gen)[:size].to(x.device)
            sub = FeatureStats(d, device=x.device).update(x[idx])
            fids[k] = ref._distance(sub.mean, sub.covariance, "fake")
    slope, intercept = np.polyfit(1.0 / sizes_arr.astype(np.float64), fids, 1)
    if not (math.isfinite(slope) and math.isfinite(intercept)):  # pragma: no cover - defensive
        raise ValueError("fake: the FID-vs-1/N fit is not finite")
    if return_points:
        return FIDInfinityResult(float(intercept), float(slope), sizes_arr, fids)
    return float(intercept)
