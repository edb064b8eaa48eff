"""Kernels, MMD² and the Kernel Inception Distance (KID).

MMD (Gretton et al. 2012, "A Kernel Two-Sample Test", JMLR, eqs. 3 and 5) measures the distance
between two distributions as the distance of their mean embeddings in a kernel's feature space.
KID (Bińkowski et al. 2018, "Demystifying MMD GANs", ICLR, §4) is the unbiased MMD² estimate with
the cubic polynomial kernel k(x, y) = (xᵀy / d + 1)³ on Inception features, averaged over random
subsets. All kernel arithmetic is float64 and runs on the device of the inputs.
"""

from __future__ import annotations

import numpy as np
import torch

from lib._checks import ArrayLike, check_choice, check_positive_int, check_seed, renamed_arguments
from lib.metrics.frechet import _check_features, _same_device

__all__ = ["kid", "mmd2", "polynomial_kernel", "rbf_kernel"]

_KERNELS = ("poly", "rbf")
_SAMPLINGS = ("torch-fidelity", "torch")
# Working memory for one chunk of KID subsets (bytes); chunks keep the batched computation from
# materialising all subsets at once.
_KID_CHUNK_BYTES = 256 * 2**20


# --------------------------------------------------------------------------------------------
# kernels (the private versions accept batched inputs ...×m×d and skip validation)
# --------------------------------------------------------------------------------------------
def _poly(x: torch.Tensor, y: torch.Tensor, degree: int, gamma: float | None, coef0: float):
    g = 1.0 / x.shape[-1] if gamma is None else gamma
    return (x @ y.transpose(-1, -2) * g + coef0) ** degree


def _rbf(x: torch.Tensor, y: torch.Tensor, sigma: float) -> torch.Tensor:
    xx = (x * x).sum(-1)
    yy = (y * y).sum(-1)
    sq = xx.unsqueeze(-1) + yy.unsqueeze(-2) - 2 * (x @ y.transpose(-1, -2))
    return torch.exp(-sq.clamp(min=0) / (2 * sigma**2))


def _check_kernel_kwargs(kernel: str, kwargs: dict) -> dict:
    allowed = {"poly": ("degree", "gamma", "coef0"), "rbf": ("sigma",)}[kernel]
    for key in kwargs:
        if key not in allowed:
            raise TypeError(
                f"{key}: not a parameter of the {kernel!r} kernel; it takes {', '.join(allowed)}"
            )
    if kernel == "poly":
        degree = check_positive_int(kwargs.get("degree", 3), "degree")
        gamma = kwargs.get("gamma")
        if gamma is not None:
            gamma = _positive_float(gamma, "gamma")
        coef0 = kwargs.get("coef0", 1.0)
        if isinstance(coef0, bool) or not isinstance(coef0, int | float):
            raise TypeError(f"coef0: expected a number, got {type(coef0).__name__}")
        return {"degree": degree, "gamma": gamma, "coef0": float(coef0)}
    if "sigma" not in kwargs:
        raise TypeError("sigma: the 'rbf' kernel needs a bandwidth, e.g. sigma=1.0")
    return {"sigma": _positive_float(kwargs["sigma"], "sigma")}


def _positive_float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name}: expected a positive number, got {type(value).__name__}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: must be a positive finite number, got {value}")
    return float(value)


def _pair(
    x, y, min_rows: int = 1, names: tuple[str, str] = ("x", "y")
) -> tuple[torch.Tensor, torch.Tensor]:
    nx, ny = names
    x = _check_features(x, nx, min_rows)
    y = _check_features(y, ny, min_rows)
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"{ny}: has dimension {y.shape[1]} but {nx} has dimension {x.shape[1]}; "
            "both sets must come from the same feature network and layer"
        )
    _same_device([(nx, x), (ny, y)])
    return x, y


def polynomial_kernel(
    x: ArrayLike, y: ArrayLike, degree: int = 3, gamma: float | None = None, coef0: float = 1.0
) -> torch.Tensor:
    """Polynomial kernel matrix K_ij = (γ x_iᵀ y_j + c₀)^degree, γ = 1/d by default.

    With the defaults this is the KID kernel of Bińkowski et al. 2018 (§4), (xᵀy / d + 1)³.
    ``x`` is m×d, ``y`` n×d; returns the m×n float64 matrix on their device.
    """
    x, y = _pair(x, y)
    kw = _check_kernel_kwargs("poly", {"degree": degree, "gamma": gamma, "coef0": coef0})
    return _poly(x.to(torch.float64), y.to(torch.float64), **kw)


def rbf_kernel(x: ArrayLike, y: ArrayLike, sigma: float) -> torch.Tensor:
    """Gaussian (RBF) kernel matrix K_ij = exp(−‖x_i − y_j‖² / (2σ²)) (Gretton et al. 2012).

    ``x`` is m×d, ``y`` n×d; returns the m×n float64 matrix on their device.
    """
    x, y = _pair(x, y)
    kw = _check_kernel_kwargs("rbf", {"sigma": sigma})
    return _rbf(x.to(torch.float64), y.to(torch.float64), **kw)


# --------------------------------------------------------------------------------------------
# MMD²
# --------------------------------------------------------------------------------------------
def _kernel_fn(kernel: str, kw: dict):
    if kernel == "poly":
        return lambda a, b: _poly(a, b, **kw)
    return lambda a, b: _rbf(a, b, **kw)


def _mmd2_from_kernels(
    kxx: torch.Tensor, kxy: torch.Tensor, kyy: torch.Tensor, unbiased: bool
) -> torch.Tensor:
    """MMD² from (batched) kernel matrices …×m×m, …×m×n, …×n×n."""
    m, n = kxx.shape[-1], kyy.shape[-1]
    sxx = kxx.sum((-2, -1))
    syy = kyy.sum((-2, -1))
    sxy = kxy.sum((-2, -1))
    if unbiased:
        sxx = sxx - torch.diagonal(kxx, dim1=-2, dim2=-1).sum(-1)
        syy = syy - torch.diagonal(kyy, dim1=-2, dim2=-1).sum(-1)
        return sxx / (m * (m - 1)) + syy / (n * (n - 1)) - 2 * sxy / (m * n)
    return sxx / (m * m) + syy / (n * n) - 2 * sxy / (m * n)


@renamed_arguments(x="real", y="fake")
def mmd2(
    real: ArrayLike,
    fake: ArrayLike,
    kernel: str = "poly",
    unbiased: bool = True,
    **kernel_kwargs: float | None,
) -> float:
    """Squared maximum mean discrepancy between samples ``real`` (m×d) and ``fake`` (n×d).

    Below x_i are the rows of ``real`` and y_j those of ``fake``; the measure is symmetric.

    Unbiased estimator (Gretton et al. 2012, eq. 3; Bińkowski et al. 2018, eq. 2)::

        MMD²_u = Σ_{i≠j} k(x_i,x_j) / (m(m−1)) + Σ_{i≠j} k(y_i,y_j) / (n(n−1))
                 − 2 Σ_{i,j} k(x_i,y_j) / (mn)

    and with ``unbiased=False`` the biased (V-statistic) estimator that keeps the diagonals and
    divides by m², n² (eq. 5). The unbiased estimate can be slightly negative when the two
    distributions are close; that is correct, not an error. ``kernel`` is ``"poly"``
    (``degree=3, gamma=None → 1/d, coef0=1``) or ``"rbf"`` (``sigma=…``, required).
    """
    check_choice(kernel, "kernel", _KERNELS)
    if not isinstance(unbiased, bool):
        raise TypeError(f"unbiased: expected True or False, got {type(unbiased).__name__}")
    x, y = _pair(real, fake, min_rows=2 if unbiased else 1, names=("real", "fake"))
    kw = _check_kernel_kwargs(kernel, kernel_kwargs)
    k = _kernel_fn(kernel, kw)
    x, y = x.to(torch.float64), y.to(torch.float64)
    return float(_mmd2_from_kernels(k(x, x), k(x, y), k(y, y), unbiased))


# --------------------------------------------------------------------------------------------
# KID
# --------------------------------------------------------------------------------------------
def _subset_indices(
    n1: int, n2: int, subsets: int, m: int, seed: int, sampling: str
) -> tuple[np.ndarray, np.ndarray]:
    idx1 = np.empty((subsets, m), dtype=np.int64)
    idx2 = np.empty((subsets, m), dtype=np.int64)
    if sampling == "torch-fidelity":
        # One RandomState, draws interleaved x-subset / y-subset, exactly as torch-fidelity's
        # kid_features_to_metric does, so the subsets (and numbers) match one to one.
        rng = np.random.RandomState(seed)
        for s in range(subsets):
            idx1[s] = rng.choice(n1, m, replace=False)
            idx2[s] = rng.choice(n2, m, replace=False)
    else:
        gen = torch.Generator(device="cpu").manual_seed(seed)
        for s in range(subsets):
            idx1[s] = torch.randperm(n1, generator=gen)[:m].numpy()
            idx2[s] = torch.randperm(n2, generator=gen)[:m].numpy()
    return idx1, idx2


@renamed_arguments(x="real", y="fake")
def kid(
    real: ArrayLike,
    fake: ArrayLike,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 2020,
    sampling: str = "torch-fidelity",
    *,
    kernel: str = "poly",
    **kernel_kwargs: float | None,
) -> tuple[float, float]:
    """Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs", §4).

    KID = mean over ``subsets`` random subset pairs (``subset_size`` rows drawn without
    replacement from each of ``real`` and ``fake``) of the unbiased MMD² (see :func:`mmd2`) with
    the kernel k(x, y) = (xᵀy / d + 1)³; returns ``(mean, std)`` with the population std over
    subsets (as torch-fidelity reports it). KID can be slightly negative; that is correct.

    ``sampling="torch-fidelity"`` draws subset s with one ``numpy.random.RandomState(seed)``:
    ``rng.choice(len(real), m, replace=False)`` then ``rng.choice(len(fake), m, replace=False)``,
    exactly as ``torch_fidelity.metric_kid.kid_features_to_metric``, so the numbers agree one to one
    given float64 features. ``sampling="torch"`` uses ``torch.randperm`` with a CPU generator.
    Both are deterministic given ``seed`` on any device. Subsets are evaluated in batches
    (``bmm``) in float64 on the device of the features.
    """
    check_choice(sampling, "sampling", _SAMPLINGS)
    check_choice(kernel, "kernel", _KERNELS)
    subsets = check_positive_int(subsets, "subsets")
    subset_size = check_positive_int(subset_size, "subset_size", minimum=2)
    seed = check_seed(seed)
    x, y = _pair(real, fake, min_rows=2, names=("real", "fake"))
    for name, t in (("real", x), ("fake", y)):
        if subset_size > t.shape[0]:
            raise ValueError(
                f"subset_size: {subset_size} is larger than the number of samples in {name} "
                f"({t.shape[0]}); pass subset_size ≤ {min(x.shape[0], y.shape[0])} or use more "
                "samples"
            )
    kw = _check_kernel_kwargs(kernel, kernel_kwargs)
    k = _kernel_fn(kernel, kw)

    idx1, idx2 = _subset_indices(x.shape[0], y.shape[0], subsets, subset_size, seed, sampling)
    idx1_t = torch.from_numpy(idx1).to(x.device)
    idx2_t = torch.from_numpy(idx2).to(x.device)
    n1, n2, m, d = x.shape[0], y.shape[0], subset_size, x.shape[1]
    # Two exact ways to the same sums; take the one with fewer operations. The subsets of one
    # set overlap heavily when N is not much larger than the subset size, so every kernel
    # value k(x_i, x_j) is then computed once over the whole sets and summed into each subset
    # holding the pair (N²·(d + subsets) flops), instead of once per subset (subsets·m²·d).
    if (n1 * n1 + n2 * n2 + n1 * n2) * (d + subsets) < 3 * subsets * m * m * d:
        mmds = _kid_from_full_kernels(x, y, idx1_t, idx2_t, k).cpu().numpy()
        return float(np.mean(mmds)), float(np.std(mmds))
    per_subset = 8 * (2 * m * d + 3 * m * m)
    chunk = max(1, min(subsets, _KID_CHUNK_BYTES // per_subset))
    values = []
    for start in range(0, subsets, chunk):
        xs = x[idx1_t[start : start + chunk]].to(torch.float64)
        ys = y[idx2_t[start : start + chunk]].to(torch.float64)
        values.append(_mmd2_from_kernels(k(xs, xs), k(xs, ys), k(ys, ys), unbiased=True))
    mmds = torch.cat(values).cpu().numpy()
    return float(np.mean(mmds)), float(np.std(mmds))


def _kid_from_full_kernels(
    x: torch.Tensor, y: torch.Tensor, idx1: torch.Tensor, idx2: torch.Tensor, k
) -> torch.Tensor:
    """Unbiased MMD² of every subset pair from the kernel matrices of the whole sets.

    With S_s the 0/1 membership matrix of the subsets (N × subsets; subsets are drawn without
    replacement), the kernel sums of subset s are Σ_{i,j∈S_s} K_ij = (S_sᵀ K S_s), computed
    for all s at once from row blocks of K (never more than ``_KID_CHUNK_BYTES`` of it in
    memory), and the diagonal sums are S_sᵀ diag(K). Exact: the same kernel values and sums as
    the per-subset computation, in another order.
    """
    x, y = x.to(torch.float64), y.to(torch.float64)
    m = idx1.shape[1]

    def membership(idx: torch.Tensor, n: int) -> torch.Tensor:
        s = torch.zeros(n, idx.shape[0], dtype=torch.float64, device=idx.device)
        s.scatter_(0, idx.T, 1.0)
        return s

    s1, s2 = membership(idx1, x.shape[0]), membership(idx2, y.shape[0])

    def subset_sums(a: torch.Tensor, sa: torch.Tensor, b: torch.Tensor, sb: torch.Tensor, same):
        total = torch.zeros(sa.shape[1], dtype=torch.float64, device=a.device)
        diag = torch.zeros_like(total)
        rows = max(1, _KID_CHUNK_BYTES // (8 * 2 * b.shape[0]))
        for start in range(0, a.shape[0], rows):
            block = k(a[start : start + rows], b)  # rows × n_b
            ka = sa[start : start + rows]
            total += (ka * (block @ sb)).sum(0)
            if same:
                diag += ka.T @ torch.diagonal(block, offset=start)
        return total, diag

    sxx, dxx = subset_sums(x, s1, x, s1, True)
    syy, dyy = subset_sums(y, s2, y, s2, True)
    sxy, _ = subset_sums(x, s1, y, s2, False)
    return (sxx - dxx) / (m * (m - 1)) + (syy - dyy) / (m * (m - 1)) - 2 * sxy / (m * m)
