"""Interleaved timing: every implementation runs once per round, the order rotating each round.

A shared, noisy machine slows whole stretches of time down; interleaving spreads that over all
implementations alike, and the ratio of two implementations is taken per round (both measured
within seconds of each other) before the median is taken.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Collection, Mapping

import torch


def sync(device: torch.device | str | None) -> None:
    """Wait for queued CUDA work, so that a timer measures the work and not its launch."""
    if device is not None and torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def interleaved(
    fns: Mapping[str, Callable[[], object]],
    reps: int,
    *,
    device: torch.device | str | None = None,
    warmup: bool | Collection[str] = True,
    reps_of: Mapping[str, int] | None = None,
) -> tuple[dict[str, list[float]], dict[str, object]]:
    """Time each callable ``reps`` times, interleaved; returns (seconds per name, last results).

    ``warmup`` runs each once first (untimed: lazy initialisation, allocator, caches); a
    collection of names warms up only those (slow peers whose first call costs nothing extra).
    ``reps_of`` caps the repetitions of slow implementations (they sit out later rounds).
    """
    names = list(fns)
    results: dict[str, object] = {}
    if warmup:
        for name in names if warmup is True else [n for n in names if n in warmup]:
            results[name] = fns[name]()
            sync(device)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(reps):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            if reps_of is not None and len(times[name]) >= reps_of.get(name, reps):
                continue
            gc.collect()
            sync(device)
            start = time.perf_counter()
            results[name] = fns[name]()
            sync(device)
            times[name].append(time.perf_counter() - start)
    return times, results


def summary(seconds: list[float]) -> dict[str, float]:
    """Median, min, max and relative spread ((max − min) / median) of a list of timings."""
    med = statistics.median(seconds)
    return {
        "median_s": med,
        "min_s": min(seconds),
        "max_s": max(seconds),
        "spread": (max(seconds) - min(seconds)) / med if med > 0 else 0.0,
        "reps": len(seconds),
    }


def speedup(lib_s: list[float], peer_s: list[float]) -> dict[str, float]:
    """How many times faster lib is than the peer: per-round ratios peer/lib, their median and
    range (rounds where both ran), plus the ratio of the medians."""
    pairs = list(zip(lib_s, peer_s, strict=False))
    ratios = [p / max(a, 1e-12) for a, p in pairs]
    return {
        "speedup": statistics.median(ratios),
        "speedup_min": min(ratios),
        "speedup_max": max(ratios),
        "speedup_of_medians": statistics.median(peer_s) / max(statistics.median(lib_s), 1e-12),
    }


def rel_diff(ours: float, ref: float) -> float:
    """|ours − ref| / |ref| (absolute difference when ref is 0)."""
    ours, ref = float(ours), float(ref)
    return abs(ours - ref) / abs(ref) if ref != 0 else abs(ours - ref)


def max_rel_diff(ours: torch.Tensor, ref: torch.Tensor) -> float:
    """max |ours − ref| / max |ref| — relative to the scale of the reference output."""
    ours = torch.as_tensor(ours).detach().double().cpu()
    ref = torch.as_tensor(ref).detach().double().cpu()
    return float((ours - ref).abs().max() / ref.abs().max().clamp_min(1e-300))
