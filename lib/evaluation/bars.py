"""Bars over seeds: a measured number against its threshold, and the course's test that two
measures differ by more than seed noise.

A claim drawn from a trained model holds over several seeds: each number is summarised as its
mean and sample standard deviation over the seeds (:func:`summarise`), a bar compares the mean
with its threshold (:class:`Bar`), and two summarised measures differ only when they are
:func:`apart`. Used by :mod:`lib.evaluation.model_bars` for every committed model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Bar", "apart", "bar_over_seeds", "mean_sd", "seed_summary", "summarise"]


@dataclass(frozen=True)
class Bar:
    """A measured number against its threshold: ``direction`` ``"<="`` (lower is better) or
    ``">="``; ``holds`` compares the mean (None without a threshold)."""

    value: float
    sd: float | None
    threshold: float | None
    direction: str

    @property
    def holds(self) -> bool | None:
        if self.threshold is None:
            return None
        if self.direction == "<=":
            return self.value <= self.threshold
        return self.value >= self.threshold

    def as_dict(self) -> dict:
        return {
            "value": round(self.value, 6),
            "sd": None if self.sd is None else round(self.sd, 6),
            "threshold": self.threshold,
            "holds": self.holds,
        }


def mean_sd(values: Iterable[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (None for one value)."""
    v = [float(x) for x in values]
    if not v:
        raise ValueError("mean_sd: no values")
    mean = sum(v) / len(v)
    if len(v) == 1:
        return mean, None
    return mean, math.sqrt(sum((x - mean) ** 2 for x in v) / (len(v) - 1))


def summarise(values: Iterable[float]) -> dict[str, float | None]:
    """``{"value": mean, "sd": sample sd}`` of per-seed values (:func:`mean_sd`)."""
    mean, sd = mean_sd(values)
    return {"value": mean, "sd": sd}


def seed_summary(runs: Sequence[Mapping[str, float]]) -> dict[str, dict[str, float | None]]:
    """Every key of per-seed measure dicts (one per seed) as :func:`summarise` of its values."""
    if not runs:
        raise ValueError("seed_summary: no runs")
    return {key: summarise(run[key] for run in runs) for key in runs[0]}


def apart(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two measures summarised over seeds (``{"value", "sd"}``) differ by more than the
    larger of their seed standard deviations — the course's test that a difference is not seed
    noise. Both need an ``sd`` (two or more seeds)."""
    if a["sd"] is None or b["sd"] is None:
        raise ValueError("apart: both measures need a seed sd (at least two seeds each)")
    return abs(a["value"] - b["value"]) > max(a["sd"], b["sd"])


def bar_over_seeds(values: Sequence[float], threshold: float | None, direction: str) -> Bar:
    """The :class:`Bar` of per-seed ``values`` (mean ± sd) against ``threshold``."""
    mean, sd = mean_sd(values)
    return Bar(mean, sd, threshold, direction)
