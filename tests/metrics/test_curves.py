"""Tests for lib.metrics.curves: brute force on tiny curves, known values, bounds, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lib.metrics.curves import CurveMatch, discrete_frechet, dtw, pointwise_distances


def all_couplings(n: int, m: int):
    """Every monotone coupling from (0, 0) to (n−1, m−1), by exhaustive recursion (tiny n, m)."""

    def extend(path):
        i, j = path[-1]
        if (i, j) == (n - 1, m - 1):
            yield path
            return
        for di, dj in ((1, 0), (0, 1), (1, 1)):
            if i + di < n and j + dj < m:
                yield from extend(path + [(i + di, j + dj)])

    yield from extend([(0, 0)])


def brute_force(p: np.ndarray, q: np.ndarray) -> tuple[float, float]:
    cost = np.linalg.norm(p[:, None, :] - q[None, :, :], axis=-1)
    values = [
        (max(cost[i, j] for i, j in path), sum(cost[i, j] for i, j in path))
        for path in all_couplings(len(p), len(q))
    ]
    return min(v[0] for v in values), min(v[1] for v in values)


def naive_dp(cost: np.ndarray, combine) -> float:
    """The textbook row-by-row double loop, for comparison with the anti-diagonal version."""
    n, m = cost.shape
    table = np.full((n, m), np.inf)
    for i in range(n):
        for j in range(m):
            if i == 0 and j == 0:
                table[i, j] = cost[0, 0]
                continue
            prev = min(
                table[i - 1, j] if i else np.inf,
                table[i, j - 1] if j else np.inf,
                table[i - 1, j - 1] if i and j else np.inf,
            )
            table[i, j] = combine(cost[i, j], prev)
    return float(table[-1, -1])


def path_is_valid(path: np.ndarray, n: int, m: int) -> bool:
    steps = np.diff(path, axis=0)
    ok_steps = {(1, 0), (0, 1), (1, 1)}
    return (
        tuple(path[0]) == (0, 0)
        and tuple(path[-1]) == (n - 1, m - 1)
        and all(tuple(s) in ok_steps for s in steps.tolist())
    )


# --------------------------------------------------------------------------------------------
# exact against brute force
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n, m, d", [(1, 1, 2), (1, 4, 2), (3, 1, 1), (3, 4, 2), (4, 4, 3)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force_on_tiny_curves(n, m, d, seed):
    rng = np.random.default_rng(seed)
    p, q = rng.normal(size=(n, d)), rng.normal(size=(m, d))
    want_frechet, want_dtw = brute_force(p, q)
    assert discrete_frechet(p, q) == pytest.approx(want_frechet, rel=1e-12)
    assert dtw(p, q) == pytest.approx(want_dtw, rel=1e-12)


def test_matches_brute_force_with_many_ties():
    # Integer points on a line produce many equal distances, where tie-breaking matters.
    p = np.array([[0.0], [1.0], [1.0], [2.0], [3.0]])
    q = np.array([[0.0], [2.0], [2.0], [3.0]])
    want_frechet, want_dtw = brute_force(p, q)
    for fn, want in ((discrete_frechet, want_frechet), (dtw, want_dtw)):
        match = fn(p, q, return_path=True)
        assert match.distance == pytest.approx(want)
        assert path_is_valid(match.path, len(p), len(q))


@pytest.mark.parametrize("n, m", [(17, 23), (40, 9), (1, 30), (30, 30)])
def test_anti_diagonal_dp_equals_the_double_loop(n, m):
    rng = np.random.default_rng(n * 100 + m)
    p, q = rng.normal(size=(n, 2)).cumsum(0), rng.normal(size=(m, 2)).cumsum(0)
    cost = pointwise_distances(p, q)
    assert discrete_frechet(p, q) == pytest.approx(naive_dp(cost, max), rel=1e-12)
    assert dtw(p, q) == pytest.approx(naive_dp(cost, lambda a, b: a + b), rel=1e-12)


@pytest.mark.parametrize("fn", [discrete_frechet, dtw], ids=["frechet", "dtw"])
def test_returned_path_is_a_coupling_that_attains_the_value(fn):
    rng = np.random.default_rng(5)
    p, q = rng.normal(size=(25, 2)).cumsum(0), rng.normal(size=(31, 2)).cumsum(0)
    match = fn(p, q, return_path=True)
    assert isinstance(match, CurveMatch)
    assert path_is_valid(match.path, 25, 31)
    along = match.pointwise[match.path[:, 0], match.path[:, 1]]
    attained = along.max() if fn is discrete_frechet else along.sum()
    assert attained == pytest.approx(match.distance, rel=1e-12)
    assert match.accumulated.shape == (25, 31) == match.pointwise.shape
    assert match.accumulated[-1, -1] == match.distance == fn(p, q)


# --------------------------------------------------------------------------------------------
# known values and properties
# --------------------------------------------------------------------------------------------
def test_identical_curves_are_at_distance_zero():
    p = np.random.default_rng(0).normal(size=(12, 3))
    assert discrete_frechet(p, p) == 0.0
    assert dtw(p, p) == 0.0
    match = dtw(p, p, return_path=True)
    np.testing.assert_array_equal(match.path, np.stack([np.arange(12)] * 2, axis=1))


@pytest.mark.parametrize("shift", [(3.0, 4.0), (0.0, -0.5), (1e-3, 0.0)])
def test_a_shifted_copy_is_at_frechet_distance_equal_to_the_shift(shift):
    # The endpoints are always coupled, and the diagonal coupling attains ‖shift‖ everywhere.
    p = np.random.default_rng(1).normal(size=(20, 2)).cumsum(0)
    q = p + np.asarray(shift)
    assert discrete_frechet(p, q) == pytest.approx(math.hypot(*shift), rel=1e-12)
    # DTW may save a little by warping, but never exceeds the diagonal's n·‖shift‖.
    assert dtw(p, q) <= 20 * math.hypot(*shift) * (1 + 1e-12)


def test_a_textbook_time_series_example():
    # |x_i − y_j| table; the best warping path (0,0)(1,1)(1,2)(2,3)(2,4) costs 1+0+0+0+1.
    x, y = [1.0, 2.0, 3.0], [2.0, 2.0, 2.0, 3.0, 4.0]
    assert dtw(x, y) == 2.0
    assert discrete_frechet(x, y) == 1.0


def test_a_single_point_against_a_curve():
    # With one point on P, every point of Q is coupled to it: max and sum of the distances.
    q = np.array([[0.0, 1.0], [0.0, 2.0], [3.0, 4.0]])
    assert discrete_frechet([[0.0, 0.0]], q) == 5.0
    assert dtw([[0.0, 0.0]], q) == 8.0


def test_dtw_grows_with_sampling_density_but_frechet_does_not():
    t_coarse, t_fine = np.linspace(0, 1, 11), np.linspace(0, 1, 101)
    line = lambda t, y: np.stack([t, np.full_like(t, y)], axis=1)  # noqa: E731
    assert discrete_frechet(line(t_coarse, 0), line(t_coarse, 1)) == pytest.approx(1.0)
    assert discrete_frechet(line(t_fine, 0), line(t_fine, 1)) == pytest.approx(1.0)
    assert dtw(line(t_coarse, 0), line(t_coarse, 1)) == pytest.approx(11.0)
    assert dtw(line(t_fine, 0), line(t_fine, 1)) == pytest.approx(101.0)


@pytest.mark.parametrize("seed", range(5))
def test_symmetry_reversal_and_the_bounds_between_the_two(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, 30)), int(rng.integers(2, 30))
    p, q = rng.normal(size=(n, 2)).cumsum(0), rng.normal(size=(m, 2)).cumsum(0)
    f, w = discrete_frechet(p, q), dtw(p, q)
    assert discrete_frechet(q, p) == pytest.approx(f, rel=1e-12)
    assert dtw(q, p) == pytest.approx(w, rel=1e-12)
    assert discrete_frechet(p[::-1], q[::-1]) == pytest.approx(f, rel=1e-12)
    assert dtw(p[::-1], q[::-1]) == pytest.approx(w, rel=1e-12)
    assert f <= w * (1 + 1e-12)
    assert w <= (n + m - 1) * f * (1 + 1e-12)
    # the endpoints are always coupled
    assert f >= max(np.linalg.norm(p[0] - q[0]), np.linalg.norm(p[-1] - q[-1])) - 1e-12


def test_frechet_is_a_metric_on_these_curves():
    rng = np.random.default_rng(7)
    a, b, c = (rng.normal(size=(8, 2)).cumsum(0) for _ in range(3))
    assert discrete_frechet(a, c) <= discrete_frechet(a, b) + discrete_frechet(b, c) + 1e-12


def test_invariant_to_rigid_motion():
    rng = np.random.default_rng(3)
    p, q = rng.normal(size=(10, 2)), rng.normal(size=(14, 2))
    angle = 0.7
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    move = lambda x: x @ rot.T + np.array([5.0, -2.0])  # noqa: E731
    assert discrete_frechet(move(p), move(q)) == pytest.approx(discrete_frechet(p, q), rel=1e-12)
    assert dtw(move(p), move(q)) == pytest.approx(dtw(p, q), rel=1e-12)


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------
def test_accepts_tensors_lists_and_other_dtypes():
    rng = np.random.default_rng(0)
    p, q = rng.normal(size=(6, 2)), rng.normal(size=(9, 2))
    want = dtw(p, q)
    assert dtw(torch.from_numpy(p), torch.from_numpy(q)) == pytest.approx(want)
    assert dtw(p.tolist(), q.tolist()) == pytest.approx(want)
    assert dtw(p.astype(np.float32), q.astype(np.float32)) == pytest.approx(want, rel=1e-6)
    p_grad = torch.from_numpy(p).requires_grad_(True)
    assert discrete_frechet(p_grad, q) == pytest.approx(discrete_frechet(p, q))
    assert dtw(np.arange(4), np.arange(4)) == 0.0  # integer time series


@pytest.mark.parametrize("fn", [discrete_frechet, dtw], ids=["frechet", "dtw"])
def test_bad_inputs_get_clear_errors(fn):
    good = np.zeros((3, 2))
    with pytest.raises(ValueError, match="q: has points in 3 dimension"):
        fn(good, np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"p: expected an N×d curve"):
        fn(np.zeros((2, 3, 2)), good)
    with pytest.raises(ValueError, match="q: the curve has no points"):
        fn(good, np.zeros((0, 2)))
    with pytest.raises(ValueError, match="p: points have 0 coordinates"):
        fn(np.zeros((3, 0)), good)
    with pytest.raises(ValueError, match="q: contains 1 NaN"):
        fn(good, np.array([[0.0, 0.0], [np.nan, 1.0]]))
    with pytest.raises(TypeError, match="p: expected real coordinates"):
        fn(np.zeros((3, 2), dtype=bool), good)
    with pytest.raises(TypeError, match="q: expected real coordinates"):
        fn(good, np.array([[0.0, 1.0 + 2.0j]]))
    with pytest.raises(TypeError, match="p: expected real coordinates"):
        fn(np.array([["a", "b"]]), good)
    with pytest.raises(TypeError, match="q: expected a torch.Tensor or numpy array"):
        fn(good, "curve")
    with pytest.raises(TypeError, match="p: expected an N×d array of numbers"):
        fn([[0.0, "a"]], good)


def test_longer_curves_are_fast_enough_to_teach_with():
    # 600 × 500 table: the anti-diagonal version finishes in well under a second; this only
    # checks that it runs and agrees with the path it returns, never the time.
    t = np.linspace(0, 4 * math.pi, 600)
    p = np.stack([t, np.sin(t)], axis=1)
    s = np.linspace(0, 4 * math.pi, 500)
    q = np.stack([s, np.sin(s + 0.3) + 0.1], axis=1)
    match = discrete_frechet(p, q, return_path=True)
    along = match.pointwise[match.path[:, 0], match.path[:, 1]]
    assert along.max() == pytest.approx(match.distance)
    assert 0.1 <= match.distance <= 0.5
