"""Statistics of a 2AFC study: preference rates with Wilson intervals, position bias, one
score per set, and the agreement of people's ranking with a metric's (Kendall's τ_b)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real

import numpy as np
from scipy import stats as scipy_stats

from lib.evaluation.study.records import _check_int, _check_records, _check_set_name

__all__ = [
    "Agreement",
    "PairPreference",
    "Rate",
    "agreement_table",
    "human_scores",
    "position_bias",
    "preference_table",
    "ranking_agreement",
    "wilson_interval",
]


def _check_confidence(confidence) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, Real):
        raise TypeError(f"confidence: expected a number, got {type(confidence).__name__}")
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence: must lie strictly between 0 and 1, got {confidence}")
    return float(confidence)


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for a proportion: ``k`` successes in ``n`` trials.

    With p̂ = k / n and z = Φ⁻¹(1 − α/2) (z ≈ 1.96 for 95 % confidence)::

        centre = (p̂ + z² / (2n)) / (1 + z² / n)
        half   = z / (1 + z² / n) · √( p̂ (1 − p̂) / n + z² / (4 n²) )
        [low, high] = [centre − half, centre + half]

    It is the set of p for which |p̂ − p| ≤ z √(p (1 − p) / n) (Wilson 1927): unlike the Wald
    interval p̂ ± z √(p̂ (1 − p̂) / n), it stays inside [0, 1] and does not collapse to a point
    at k = 0 or k = n (0 of n gives [0, z² / (n + z²)]), which matters for the small counts of
    a classroom study (Newcombe 1998; Brown, Cai & DasGupta 2001). Computed by SciPy
    (``binomtest(k, n).proportion_ci(method="wilson")``, Newcombe's method 3), which returns
    exactly 0 at k = 0 and 1 at k = n.
    """
    k = _check_int(k, "k")
    n = _check_int(n, "n", 1)
    if k > n:
        raise ValueError(f"k: {k} successes out of n = {n} trials is impossible (k ≤ n)")
    confidence = _check_confidence(confidence)
    interval = scipy_stats.binomtest(k, n).proportion_ci(
        confidence_level=confidence, method="wilson"
    )
    return max(0.0, float(interval.low)), min(1.0, float(interval.high))


@dataclass(frozen=True)
class Rate:
    """``k`` of ``n`` answers, their share ``rate`` and its Wilson interval [low, high]."""

    n: int
    k: int
    rate: float
    low: float
    high: float


def _rate(k: int, n: int, confidence: float) -> Rate:
    low, high = wilson_interval(k, n, confidence)
    return Rate(n, k, k / n, low, high)


@dataclass(frozen=True)
class PairPreference:
    """How often people preferred set ``a`` over set ``b``: ``wins`` of ``n`` answers, the rate
    and its Wilson interval. A rate of 0.5 means the two could not be told apart; an interval
    that excludes 0.5 is a preference at the chosen confidence."""

    a: str
    b: str
    n: int
    wins: int
    rate: float
    low: float
    high: float
    a_left: int  # trials with a shown on the left (about n / 2 in a balanced plan)


def _chosen(record: Mapping) -> str:
    return record["left_set"] if record["choice"] == "left" else record["right_set"]


def _order_key(order: Sequence[str] | None):
    position = {} if order is None else {name: i for i, name in enumerate(order)}
    return lambda name: (position.get(name, len(position)), name)


def preference_table(
    records: Iterable[Mapping],
    *,
    order: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> list[PairPreference]:
    """Preference rate per pair of sets compared in ``records``, with Wilson intervals.

    For the pair (a, b), rate = (answers choosing a) / (answers to trials showing a and b),
    whichever side each was on; its interval is :func:`wilson_interval` at ``confidence``.
    ``order`` decides which set of a pair is ``a`` (the earlier one; sets not listed come after,
    alphabetically) and the order of the rows — e.g. ``order=["real"]`` makes every row read
    "how often was real preferred". Records must be one per trial (:func:`merge_answers`).
    """
    records = _check_records(records)
    confidence = _check_confidence(confidence)
    if order is not None and (isinstance(order, str) or not isinstance(order, Sequence)):
        raise TypeError(f"order: expected a list of set names, got {type(order).__name__}")
    key = _order_key(order)
    counts: dict[tuple[str, str], list[int]] = {}
    for r in records:
        a, b = sorted((r["left_set"], r["right_set"]), key=key)
        c = counts.setdefault((a, b), [0, 0, 0])  # n, wins of a, a on the left
        c[0] += 1
        c[1] += _chosen(r) == a
        c[2] += r["left_set"] == a
    rows = []
    for a, b in sorted(counts, key=lambda ab: (key(ab[0]), key(ab[1]))):
        n, wins, a_left = counts[(a, b)]
        low, high = wilson_interval(wins, n, confidence)
        rows.append(PairPreference(a, b, n, wins, wins / n, low, high, a_left))
    return rows


def position_bias(
    records: Iterable[Mapping], *, by_student: bool = False, confidence: float = 0.95
) -> Rate | dict[str, Rate]:
    """How often the *left* item was chosen, with its Wilson interval.

    Without a side preference the rate is 0.5 whatever the items, because the plan puts each
    set on the left in half of its trials (:func:`make_trials`). ``by_student=True`` gives
    ``{student: Rate}`` (a student who always presses the same button stands out).
    """
    records = _check_records(records)
    confidence = _check_confidence(confidence)
    if not by_student:
        left = sum(r["choice"] == "left" for r in records)
        return _rate(left, len(records), confidence)
    per: dict[str, list[int]] = {}
    for r in records:
        c = per.setdefault(r["student"], [0, 0])
        c[0] += r["choice"] == "left"
        c[1] += 1
    return {s: _rate(k, n, confidence) for s, (k, n) in sorted(per.items())}


def human_scores(records: Iterable[Mapping], *, against: str | None = None) -> dict[str, float]:
    """One score per set from the answers; higher means people preferred it.

    - ``against=None``: the *win share*, (answers choosing the set) / (answers to trials
      showing it). Comparable between sets when each met the same opponents equally often (a
      plan of every pair, or every set against one reference).
    - ``against="real"``: for each set compared with ``"real"``, the rate at which it was
      chosen over the real item — the share of people it fooled (0.5: indistinguishable from
      real). ``against`` itself gets no score.
    """
    records = _check_records(records)
    if against is not None:
        _check_set_name(against, "against")
        shown = {r["left_set"] for r in records} | {r["right_set"] for r in records}
        if against not in shown:
            raise ValueError(
                f"against: no trial shows the set {against!r} (sets: {', '.join(sorted(shown))})"
            )
    wins: dict[str, int] = {}
    seen: dict[str, int] = {}
    for r in records:
        pair = (r["left_set"], r["right_set"])
        if against is not None and against not in pair:
            continue
        for s in pair:
            if s == against:
                continue
            seen[s] = seen.get(s, 0) + 1
            wins[s] = wins.get(s, 0) + (_chosen(r) == s)
    return {s: wins[s] / seen[s] for s in sorted(seen)}


@dataclass(frozen=True)
class Agreement:
    """How a metric's ranking of sets agrees with people's.

    ``tau`` is Kendall's τ_b (1: same order, −1: reversed, ≈ 0: unrelated); ``agree`` the share
    of agreeing pairs among the pairs both rankings order (``concordant / (concordant +
    discordant)``); ``tied`` counts the pairs tied in either ranking; ``n_sets`` the sets
    compared.
    """

    tau: float
    agree: float
    concordant: int
    discordant: int
    tied: int
    n_sets: int


def _check_scores(values, name: str) -> dict[str, float]:
    if not isinstance(values, Mapping):
        raise TypeError(f"{name}: expected a dict {{set name: value}}, got {type(values).__name__}")
    out = {}
    for s, v in values.items():
        if isinstance(v, bool) or not isinstance(v, Real):
            raise TypeError(f"{name}[{s!r}]: expected a number, got {type(v).__name__}")
        if not math.isfinite(v):
            raise ValueError(f"{name}[{s!r}]: {v} is not finite")
        out[s] = float(v)
    return out


def ranking_agreement(
    human: Mapping[str, float], metric: Mapping[str, float], *, lower_is_better: bool
) -> Agreement:
    """Compare the order people put the sets in with a metric's order.

    ``human``: ``{set: score}``, higher = preferred (e.g. :func:`human_scores`); ``metric``:
    ``{set: value}`` for at least the same sets (others are ignored); ``lower_is_better``: True
    for distances such as FID or KID, False for scores such as IS. With the metric turned into
    a goodness g (−value when lower is better), every pair of sets (i, j) is concordant when
    sign(h_i − h_j) = sign(g_i − g_j) ≠ 0, discordant when the signs are opposite, tied when
    either is 0. With C concordant, D discordant, n₀ = n(n − 1)/2 pairs and T_h, T_g the pairs
    tied in each ranking, Kendall's

        τ_b = (C − D) / √((n₀ − T_h)(n₀ − T_g)),     agree = C / (C + D).

    τ_b is ``scipy.stats.kendalltau`` (variant "b"); the pairs are still counted here because
    SciPy does not return C, D and the ties, which the table reports.
    """
    human = _check_scores(human, "human")
    metric = _check_scores(metric, "metric")
    if not isinstance(lower_is_better, bool):
        raise TypeError(
            f"lower_is_better: expected True or False, got {type(lower_is_better).__name__}"
        )
    if len(human) < 2:
        raise ValueError(f"human: a ranking needs at least two sets, got {len(human)}")
    missing = [s for s in human if s not in metric]
    if missing:
        raise ValueError(f"metric: no value for the set(s) {', '.join(map(repr, missing))}")
    names = list(human)
    h = np.array([human[s] for s in names])
    g = np.array([metric[s] for s in names]) * (-1.0 if lower_is_better else 1.0)
    i, j = np.triu_indices(len(names), k=1)
    dh, dg = np.sign(h[i] - h[j]), np.sign(g[i] - g[j])
    n0 = len(i)
    if not dh.any():
        raise ValueError("human: every set has the same score; there is no ranking to compare")
    if not dg.any():
        raise ValueError("metric: every set has the same value; there is no ranking to compare")
    ordered = (dh != 0) & (dg != 0)
    c = int((ordered & (dh == dg)).sum())
    d = int((ordered & (dh != dg)).sum())
    if c + d == 0:
        raise ValueError("no pair of sets is ordered by both rankings (every pair has a tie)")
    # SciPy's stubs type the result as a bare tuple; it is a SignificanceResult.
    result = scipy_stats.kendalltau(h, g, variant="b")
    tau = float(result.statistic)  # pyright: ignore[reportAttributeAccessIssue]
    return Agreement(tau, c / (c + d), c, d, n0 - int(ordered.sum()), len(names))


def agreement_table(
    human: Mapping[str, float],
    metrics: Mapping[str, Mapping[str, float]],
    lower_is_better: Mapping[str, bool],
) -> dict[str, Agreement]:
    """:func:`ranking_agreement` for several metrics: ``metrics = {"FID": {set: value}, ...}``
    and ``lower_is_better = {"FID": True, "IS": False, ...}`` (one flag per metric)."""
    if not isinstance(metrics, Mapping) or not metrics:
        raise TypeError("metrics: expected a non-empty dict {metric name: {set name: value}}")
    if not isinstance(lower_is_better, Mapping):
        raise TypeError(
            "lower_is_better: expected a dict {metric name: True/False}, got "
            f"{type(lower_is_better).__name__}"
        )
    missing = [m for m in metrics if m not in lower_is_better]
    if missing:
        raise ValueError(
            f"lower_is_better: no flag for {', '.join(map(repr, missing))}; say True for "
            "distances (FID, KID) and False for scores (IS)"
        )
    out = {}
    for name, values in metrics.items():
        try:
            out[name] = ranking_agreement(human, values, lower_is_better=lower_is_better[name])
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{name}: {exc}") from exc
    return out
