"""Scoring the report card on the four criteria: every metric against the seed-to-seed spread
of fresh real draws, which bench sets it detects, whether it follows a distortion, and its
cost."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real

import numpy as np

from lib.evaluation.report_card.evaluator import Evaluation
from lib.evaluation.report_card.specs import _BY_KEY, METRICS

__all__ = [
    "Spread",
    "cost_per_set",
    "detection",
    "distortion_trend",
    "real_spread",
    "separation",
    "worse_than_real",
]


def _values(item) -> Mapping[str, float]:
    return item.values if isinstance(item, Evaluation) else item


@dataclass(frozen=True)
class Spread:
    """A metric over fresh draws of real data: their ``mean``, ``low`` and ``high`` values and
    the ``spread`` = high − low (the seed-to-seed range), from ``n`` draws."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def spread(self) -> float:
        return self.high - self.low


def real_spread(draws: Sequence[Evaluation | Mapping[str, float]]) -> dict[str, Spread]:
    """Mean and range of every metric over evaluations of fresh draws of *real* data (each with
    its own data seed and metric seed): the scale on which a bench set must differ to count."""
    if isinstance(draws, Mapping) or not isinstance(draws, Sequence) or len(draws) < 2:
        raise ValueError("draws: need a list of at least two evaluations of fresh real draws")
    rows = [_values(d) for d in draws]
    out = {}
    for key in rows[0]:
        v = np.array([float(r[key]) for r in rows], dtype=float)
        if np.isnan(v).any():
            continue
        out[key] = Spread(float(v.mean()), float(v.min()), float(v.max()), len(v))
    return out


def worse_than_real(
    values: Evaluation | Mapping[str, float], spread: Mapping[str, Spread]
) -> dict[str, float]:
    """Every metric on one scale: how much worse than real data a set is, in real spreads.

        score = sign · (value − mean_real) / spread_real,

    sign = +1 for metrics where lower is better (distances), −1 where higher is better, so a
    positive score always means "worse than real" and 1 means "worse by the whole seed-to-seed
    range of the fresh draws". A spread of 0 is replaced by 10⁻⁹·(1 + |mean|). NaN where the
    metric is not defined for the set.
    """
    values = _values(values)
    out = {}
    for key, value in values.items():
        if key not in spread or key not in _BY_KEY:
            continue
        s = spread[key]
        width = s.spread if s.spread > 0 else 1e-9 * (1 + abs(s.mean))
        out[key] = _BY_KEY[key].sign * (float(value) - s.mean) / width
    return out


def separation(
    values: Evaluation | Mapping[str, float], spread: Mapping[str, Spread]
) -> dict[str, float]:
    """How far a set lies beyond *every* fresh draw of real data, in real spreads.

        separation = sign · (value − worst_real) / spread_real,

    with worst_real the fresh draw that scored worst (the highest value of a distance, the
    lowest of a score) and sign as in :func:`worse_than_real`. Above 1: the set is worse than
    the worst real draw by more than the real draws differ among themselves — the metric
    *detects* it. NaN where the metric is not defined for the set.
    """
    values = _values(values)
    out = {}
    for key, value in values.items():
        if key not in spread or key not in _BY_KEY:
            continue
        s, sign = spread[key], _BY_KEY[key].sign
        worst = s.high if sign > 0 else s.low
        width = s.spread if s.spread > 0 else 1e-9 * (1 + abs(s.mean))
        out[key] = sign * (float(value) - worst) / width
    return out


def detection(
    separations: Mapping[str, Mapping[str, float]],
    sets: Iterable[str],
    *,
    threshold: float = 1.0,
) -> dict[str, tuple[int, int]]:
    """For each metric, how many of ``sets`` it separates from real data: ``{metric: (detected,
    defined)}``. ``separations`` is ``{set: separation(...)}``; a set is detected when its
    :func:`separation` exceeds ``threshold`` (default 1) and ``defined`` counts the sets where
    the metric has a value."""
    if isinstance(threshold, bool) or not isinstance(threshold, Real):
        raise TypeError(f"threshold: expected a number, got {type(threshold).__name__}")
    names = list(sets)
    missing = [s for s in names if s not in separations]
    if missing:
        raise ValueError(f"sets: no separations for {', '.join(map(repr, missing))}")
    keys = [m.key for m in METRICS if any(m.key in separations[s] for s in names)]
    out = {}
    for key in keys:
        vals = [separations[s].get(key, math.nan) for s in names]
        defined = [v for v in vals if not math.isnan(v)]
        out[key] = (sum(v > threshold for v in defined), len(defined))
    return out


def distortion_trend(
    series: Sequence[Evaluation | Mapping[str, float]],
) -> dict[str, tuple[float, bool]]:
    """Does each metric get worse as a distortion grows? ``series`` holds the evaluations of
    one distortion at levels 0, 1, 2, … (level 0: undistorted). For every metric defined at all
    levels, returns ``(tau, monotone)``: Kendall's τ between the level and the "worse" value
    w = sign · value (1: worse at every higher level), and whether w rises strictly at every
    step. This τ is Kendall's τ_a, (concordant − discordant) / pairs, counted here rather than
    taken from ``scipy.stats.kendalltau``: SciPy gives τ_b, which leaves tied values out of the
    denominator and so differs whenever two levels score the same."""
    rows = [_values(r) for r in series]
    if len(rows) < 2:
        raise ValueError("series: need evaluations at two or more levels")
    out = {}
    for m in METRICS:
        if not all(m.key in r for r in rows):
            continue
        w = np.array([m.sign * float(r[m.key]) for r in rows])
        if np.isnan(w).any():
            continue
        pairs = [(i, j) for i in range(len(w)) for j in range(i + 1, len(w))]
        concordant = sum(w[j] > w[i] for i, j in pairs)
        discordant = sum(w[j] < w[i] for i, j in pairs)
        tau = (concordant - discordant) / len(pairs)
        out[m.key] = (float(tau), bool(np.all(np.diff(w) > 0)))
    return out


def cost_per_set(
    evaluations: Iterable[Evaluation], *, include_features: bool = True
) -> dict[str, float]:
    """Mean wall time per set of every metric over ``evaluations``; with ``include_features``
    the network pass is added to the metrics that need the network (see :attr:`MetricSpec.needs`:
    all but SWD and MS-SSIM)."""
    evaluations = list(evaluations)
    if not evaluations or not all(isinstance(e, Evaluation) for e in evaluations):
        raise TypeError("evaluations: expected a non-empty list of Evaluation")
    out = {}
    for m in METRICS:
        times = [
            e.seconds[m.key]
            + (e.seconds["features"] if include_features and m.needs != "pixels" else 0.0)
            for e in evaluations
            if m.key in e.seconds
        ]
        if times:
            out[m.key] = float(np.mean(times))
    return out
