"""Distances between curves: the discrete Fréchet distance and dynamic time warping (DTW).

Both compare two polygonal curves P = (p_1, …, p_n) and Q = (q_1, …, q_m) in R^d through a
*coupling* (a warping path): a sequence of index pairs (i_1, j_1) = (1, 1), …, (i_K, j_K) = (n, m)
in which every step advances i, j or both by one. With c(i, j) = ‖p_i − q_j‖ (Euclidean):

- the **discrete Fréchet distance** (Eiter & Mannila 1994, "Computing discrete Fréchet
  distance", TR CD-TR 94/64) is the smallest possible *maximum* pointwise distance,
  d_F(P, Q) = min_paths max_k c(i_k, j_k) — the shortest leash that lets a walker on P and a
  dog on Q, each moving forward only, reach the end;
- **DTW** (Sakoe & Chiba 1978) is the smallest possible *sum*,
  DTW(P, Q) = min_paths Σ_k c(i_k, j_k).

Both are solved exactly by the same dynamic programme over the n×m table of pointwise distances,
D(i, j) = c(i, j) ⊕ min(D(i−1, j), D(i, j−1), D(i−1, j−1)), with ⊕ = max for Fréchet and
⊕ = + for DTW. Cells on one anti-diagonal (i + j = const) depend only on the two previous
anti-diagonals, so each anti-diagonal is filled in one vectorised numpy step: O(nm) work in
n + m − 1 Python iterations. Since a path has at most n + m − 1 cells, all at most d_F on the
Fréchet-optimal path, d_F ≤ DTW ≤ (n + m − 1)·d_F.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from lib._checks import ArrayLike, as_tensor, check_finite

__all__ = ["CurveMatch", "discrete_frechet", "dtw", "pointwise_distances"]


class CurveMatch(NamedTuple):
    """The result of :func:`discrete_frechet` or :func:`dtw` with ``return_path=True``.

    ``distance``: the optimal value; ``path``: K×2 integer array of coupled indices (i, j), from
    (0, 0) to (n − 1, m − 1), each step advancing i, j or both by one; ``accumulated``: the n×m
    dynamic-programming table D (D[i, j] is the optimal value for the prefixes P[:i+1], Q[:j+1]);
    ``pointwise``: the n×m table of distances ‖p_i − q_j‖.
    """

    distance: float
    path: np.ndarray
    accumulated: np.ndarray
    pointwise: np.ndarray


def _curve(value, name: str) -> np.ndarray:
    """Validate a curve: N×d (or a 1-D sequence of N scalars), real, finite, N ≥ 1 → float64."""
    if isinstance(value, list | tuple):
        try:
            value = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name}: expected an N×d array of numbers, got {value!r}") from exc
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{name}: expected real coordinates, got dtype {value.dtype}")
        value = np.ascontiguousarray(value)  # reversed views (p[::-1]) have negative strides
    x = as_tensor(value, name)
    if x.dtype == torch.bool or x.is_complex():
        raise TypeError(f"{name}: expected real coordinates, got dtype {x.dtype}")
    if x.ndim == 1:
        x = x[:, None]  # a time series of scalars is a curve in R^1
    if x.ndim != 2:
        raise ValueError(
            f"{name}: expected an N×d curve (N points in d dimensions), got shape {tuple(x.shape)}"
        )
    if x.shape[0] < 1:
        raise ValueError(f"{name}: the curve has no points (shape {tuple(x.shape)})")
    if x.shape[1] < 1:
        raise ValueError(f"{name}: points have 0 coordinates (shape {tuple(x.shape)})")
    x = x.detach().to("cpu", torch.float64)
    check_finite(x, name)
    return x.numpy()


def pointwise_distances(p: ArrayLike, q: ArrayLike) -> np.ndarray:
    """The n×m table c(i, j) = ‖p_i − q_j‖ (Euclidean, float64) between two N×d curves."""
    a, b = _curve(p, "p"), _curve(q, "q")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"q: has points in {b.shape[1]} dimension(s) but p has {a.shape[1]}; both curves "
            "must live in the same space"
        )
    diff = a[:, None, :] - b[None, :, :]
    return np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))


def _solve(cost: np.ndarray, combine) -> np.ndarray:
    """Fill D(i, j) = combine(c(i, j), min of the three predecessors), one anti-diagonal at a
    time. Works on a (n+1)×(m+1) table whose first row and column are +inf (no predecessor)
    except D(0, 0) = 0, so that the first cell gets exactly c(0, 0) for both max and sum."""
    n, m = cost.shape
    table = np.full((n + 1, m + 1), np.inf)
    table[0, 0] = 0.0
    for k in range(2, n + m + 1):  # k = i + j in the padded table's 1-based indices
        i = np.arange(max(1, k - m), min(n, k - 1) + 1)
        j = k - i
        best = np.minimum(np.minimum(table[i - 1, j], table[i, j - 1]), table[i - 1, j - 1])
        table[i, j] = combine(cost[i - 1, j - 1], best)
    return table[1:, 1:]


def _backtrack(acc: np.ndarray) -> np.ndarray:
    """An optimal path from (n−1, m−1) back to (0, 0): step to the predecessor with the smallest
    accumulated value (the diagonal first on ties). For both recurrences that predecessor is the
    one the optimum came through, so the path attains D(n−1, m−1)."""
    i, j = acc.shape[0] - 1, acc.shape[1] - 1
    path = [(i, j)]
    while i > 0 or j > 0:
        candidates = []
        if i > 0 and j > 0:
            candidates.append((acc[i - 1, j - 1], i - 1, j - 1))
        if i > 0:
            candidates.append((acc[i - 1, j], i - 1, j))
        if j > 0:
            candidates.append((acc[i, j - 1], i, j - 1))
        _, i, j = min(candidates, key=lambda c: c[0])  # min keeps the first of equal values
        path.append((i, j))
    return np.asarray(path[::-1], dtype=np.int64)


def _match(p, q, combine, return_path: bool) -> float | CurveMatch:
    cost = pointwise_distances(p, q)
    acc = _solve(cost, combine)
    value = float(acc[-1, -1])
    if not return_path:
        return value
    return CurveMatch(value, _backtrack(acc), acc, cost)


def discrete_frechet(
    p: ArrayLike, q: ArrayLike, *, return_path: bool = False
) -> float | CurveMatch:
    """Discrete Fréchet distance (Eiter & Mannila 1994) between two polygonal curves.

        d_F(P, Q) = min over monotone couplings of max_k ‖p_{i_k} − q_{j_k}‖ ,

    computed exactly by the dynamic programme D(i, j) = max(c(i, j), min(D(i−1, j), D(i, j−1),
    D(i−1, j−1))) filled one anti-diagonal at a time (O(nm)). It bounds the continuous Fréchet
    distance of the polygons from above, and exceeds it by at most the longest segment.

    ``p``, ``q``: N×d and M×d arrays or tensors (the same d; a 1-D array is a curve in R^1),
    real and finite; tensors are read on the CPU in float64. Returns the distance as a float, or
    a :class:`CurveMatch` with an optimal coupling when ``return_path=True``.
    """
    return _match(p, q, np.maximum, return_path)


def dtw(p: ArrayLike, q: ArrayLike, *, return_path: bool = False) -> float | CurveMatch:
    """Dynamic time warping distance (Sakoe & Chiba 1978) between two curves / time series.

        DTW(P, Q) = min over monotone couplings of Σ_k ‖p_{i_k} − q_{j_k}‖ ,

    the same dynamic programme as :func:`discrete_frechet` with the maximum replaced by a sum:
    D(i, j) = c(i, j) + min(D(i−1, j), D(i, j−1), D(i−1, j−1)). Unlike the Fréchet distance it
    grows with the number of points (a sum over the path), and it satisfies
    d_F ≤ DTW ≤ (n + m − 1)·d_F. No window constraint, Euclidean ground distance.

    Inputs as for :func:`discrete_frechet`. Returns a float, or a :class:`CurveMatch` with an
    optimal warping path when ``return_path=True``.
    """
    return _match(p, q, np.add, return_path)
