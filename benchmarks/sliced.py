"""Sliced Wasserstein distance: lib against POT on the same descriptor sets and projections.

Both get the same two float32 point clouds (Progressive GAN's 7×7×3 = 147-d patch descriptors
are this shape) and the same float32 matrix of unit directions, p = 1 (the SWD protocol):
POT's ``ot.sliced_wasserstein_distance(X_s, X_t, projections=θ, p=1)`` against
``lib.metrics.sliced_wasserstein(x, y, projections=θ, p=1)``.
"""

from __future__ import annotations

import torch

from benchmarks._common import Config, result, target
from benchmarks._timing import interleaved, rel_diff
from lib import metrics

NAME = "sliced_wasserstein"


def clouds(n: int, d: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    mixing = torch.randn(d, d, generator=gen) / d**0.5
    x = torch.randn(n, d, generator=gen) @ mixing
    y = torch.randn(n, d, generator=gen) @ (mixing * 1.1) + 0.05
    return x, y


def run(cfg: Config) -> dict:
    n, d, n_proj = (500, 147, 16) if cfg.tiny else (16_384, 147, 256)
    x, y = clouds(n, d, cfg.seed + 6)
    theta = metrics.random_projections(d, n_proj, seed=cfg.seed)
    xd, yd, td = x.to(cfg.device), y.to(cfg.device), theta.to(cfg.device)
    xn, yn, tn = x.numpy(), y.numpy(), theta.numpy()

    import ot

    fns = {
        "lib": lambda: float(metrics.sliced_wasserstein(xd, yd, projections=td, p=1)),
        "POT": lambda: float(ot.sliced_wasserstein_distance(xn, yn, projections=tn, p=1)),
    }
    reps = cfg.reps if cfg.tiny or cfg.cuda else min(cfg.reps, 3)
    times, values = interleaved(fns, reps, device=cfg.device)
    out = result(
        NAME,
        f"sliced Wasserstein, 2 × {n} points in {d}-d, {n_proj} directions, p = 1",
        {"n_per_set": n, "d": d, "projections": n_proj, "dtype": "float32", "sw": values["lib"]},
        times,
        agreement={"POT": rel_diff(values["lib"], values["POT"])},
        notes={"POT": "numpy backend (CPU)"},
    )
    row = out["peers"][0]
    target(
        out,
        "sliced W ≥ 2× POT",
        row["speedup"] >= 2,
        f"{row['speedup']:.2f}× (range {row['speedup_min']:.2f}–{row['speedup_max']:.2f}), "
        f"relative difference {row['agreement']:.1e}",
    )
    return out
