"""k-nearest-neighbour manifold metrics: precision / recall and density / coverage.

Both compare a set of real and a set of generated (fake) feature vectors through balls around
each point whose radius is the distance to its k-th nearest neighbour in its own set (the point
itself excluded). Pairwise distances are computed with ``torch.cdist`` in row blocks, so memory
stays bounded (about ``chunk_size`` × max(N, M) distances at a time) whatever the set sizes; the
computation runs on the device of the features. The k-NN radii are exact (a full top-k over each
row, the diagonal masked), not approximate nearest neighbours.

Comparison operators follow the authors' code: Kynkäänniemi et al. count a point inside a ball
when its distance is ≤ the radius; Naeem et al. (the ``prdc`` package) use <.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from lib._checks import ArrayLike, as_real_float, as_tensor, check_positive_int, renamed_arguments

__all__ = [
    "PrecisionRecall",
    "DensityCoverage",
    "knn_radii",
    "precision_recall",
    "density_coverage",
]

# Distances held in memory at once when chunk_size is not given.
_BLOCK_ELEMENTS = 1 << 22


class PrecisionRecall(NamedTuple):
    """Improved precision and recall (Kynkäänniemi et al. 2019), each in [0, 1]."""

    precision: float
    recall: float


class DensityCoverage(NamedTuple):
    """Density (unbounded above, ≈ 1 when fakes follow the reals) and coverage in [0, 1]."""

    density: float
    coverage: float


def knn_radii(features: ArrayLike, k: int = 3, *, chunk_size: int | None = None) -> torch.Tensor:
    """Distance from every row of ``features`` (N×D) to its k-th nearest other row.

    The point itself is excluded by index (duplicates of it count as neighbours at distance 0).
    Returns a tensor of shape (N,) on the device of ``features``.
    """
    x = _features(features, "features")
    _check_k(k, x.shape[0], "features")
    return _radii(x, k, _chunk(chunk_size, x.shape[0]))


@renamed_arguments(real_features="real", fake_features="fake")
def precision_recall(
    real: ArrayLike,
    fake: ArrayLike,
    k: int = 3,
    *,
    chunk_size: int | None = None,
) -> PrecisionRecall:
    r"""Improved precision and recall (Kynkäänniemi, Karras, Laine, Lehtinen & Aila 2019, eqs. 1–3).

    With NN_k(φ, Φ) the distance from φ to its k-th nearest neighbour in Φ \ {φ}::

        f(φ, Φ)   = 1 if ‖φ − φ'‖₂ ≤ NN_k(φ', Φ) for at least one φ' ∈ Φ, else 0
        precision = (1/M) Σ_{φ_g ∈ Φ_g} f(φ_g, Φ_r)    share of fakes inside the real manifold
        recall    = (1/N) Σ_{φ_r ∈ Φ_r} f(φ_r, Φ_g)    share of reals inside the fake manifold

    Args:
        real: N×D real feature vectors (tensor or numpy array), N > k.
        fake: M×D generated feature vectors, M > k, same D and device.
        k: neighbourhood size (3 in the paper).
        chunk_size: rows per distance block (default: about 4M distances per block).

    Returns:
        :class:`PrecisionRecall` ``(precision, recall)`` as Python floats.

    Distances are computed in the features' dtype (float64 when either set is float64); use
    float64 features when decisions on the ball boundaries must be reproducible bit for bit.
    """
    real, fake = _pair(real, fake)
    _check_k(k, real.shape[0], "real")
    _check_k(k, fake.shape[0], "fake")
    chunk = _chunk(chunk_size, max(real.shape[0], fake.shape[0]))
    r_real = _radii(real, k, chunk)
    r_fake = _radii(fake, k, chunk)
    precision = _count_inside(fake, real, r_real, chunk) / fake.shape[0]
    recall = _count_inside(real, fake, r_fake, chunk) / real.shape[0]
    return PrecisionRecall(precision, recall)


@renamed_arguments(real_features="real", fake_features="fake")
def density_coverage(
    real: ArrayLike,
    fake: ArrayLike,
    k: int = 5,
    *,
    chunk_size: int | None = None,
) -> DensityCoverage:
    r"""Density and coverage (Naeem, Oh, Uh, Choi & Yoo 2020, eqs. 3–4).

    With B(x, r) the open ball of radius r around x and NND_k(X_i) the distance from the real
    point X_i to its k-th nearest other real point::

        density  = 1/(k M) Σ_j Σ_i 1[Y_j ∈ B(X_i, NND_k(X_i))]
        coverage = 1/N Σ_i 1[∃ j: Y_j ∈ B(X_i, NND_k(X_i))]

    over N real points X and M fake points Y. Only real balls are used, so both are robust to
    outlying fakes; density counts how many real balls hold each fake (≈ 1 when the fakes follow
    the real distribution, above 1 when they crowd into dense regions).

    Args:
        real: N×D real feature vectors, N > k.
        fake: M×D generated feature vectors, same D and device.
        k: neighbourhood size (5 in the paper).
        chunk_size: rows per distance block.

    Returns:
        :class:`DensityCoverage` ``(density, coverage)`` as Python floats, with the ``prdc``
        package's definitions (strict < on the ball radii).
    """
    real, fake = _pair(real, fake)
    _check_k(k, real.shape[0], "real")
    chunk = _chunk(chunk_size, max(real.shape[0], fake.shape[0]))
    r_real = _radii(real, k, chunk)
    in_balls = 0
    for start in range(0, fake.shape[0], chunk):
        d = torch.cdist(fake[start : start + chunk], real)
        in_balls += int((d < r_real).sum())
    covered = 0
    for start in range(0, real.shape[0], chunk):
        d = torch.cdist(real[start : start + chunk], fake)
        covered += int((d.amin(dim=1) < r_real[start : start + chunk]).sum())
    return DensityCoverage(in_balls / (k * fake.shape[0]), covered / real.shape[0])


# --------------------------------------------------------------------------------------------
# internals


def _radii(x: torch.Tensor, k: int, chunk: int) -> torch.Tensor:
    n = x.shape[0]
    out = torch.empty(n, dtype=x.dtype, device=x.device)
    for start in range(0, n, chunk):
        d = torch.cdist(x[start : start + chunk], x)
        rows = torch.arange(d.shape[0], device=x.device)
        d[rows, rows + start] = float("inf")  # exclude the point itself
        out[start : start + d.shape[0]] = d.topk(k, dim=1, largest=False).values[:, -1]
    return out


def _count_inside(query: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk: int):
    """How many query points lie within (≤) the radius of at least one centre."""
    count = 0
    for start in range(0, query.shape[0], chunk):
        d = torch.cdist(query[start : start + chunk], centres)
        count += int((d <= radii).any(dim=1).sum())
    return count


def _features(value, name: str) -> torch.Tensor:
    x = as_tensor(value, name)
    if x.ndim != 2:
        hint = " (flatten with x.reshape(len(x), -1))" if x.ndim > 2 else ""
        raise ValueError(
            f"{name}: expected a 2-D (samples, dim) array of feature vectors, got shape "
            f"{tuple(x.shape)}{hint}"
        )
    if x.shape[1] == 0:
        raise ValueError(f"{name}: the feature vectors are empty (shape {tuple(x.shape)})")
    return as_real_float(x, name)


def _pair(real, fake) -> tuple[torch.Tensor, torch.Tensor]:
    real = _features(real, "real")
    fake = _features(fake, "fake")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"real and fake must have the same dimension, got {real.shape[1]} and {fake.shape[1]}"
        )
    if real.device != fake.device:
        raise ValueError(
            f"real is on {real.device} and fake on {fake.device}; move both to one device"
        )
    dtype = torch.promote_types(real.dtype, fake.dtype)
    return real.to(dtype), fake.to(dtype)


def _check_k(k: int, n: int, name: str) -> None:
    check_positive_int(k, "k")
    if k >= n:
        raise ValueError(
            f"k: the k-th nearest neighbour needs more than k samples; {name} has {n} and k={k}. "
            "Use more samples or a smaller k"
        )


def _chunk(chunk_size: int | None, width: int) -> int:
    if chunk_size is None:
        return max(1, _BLOCK_ELEMENTS // max(width, 1))
    return check_positive_int(chunk_size, "chunk_size")
