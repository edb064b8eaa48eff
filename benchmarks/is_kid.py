"""Inception Score and KID from features: lib against torch-fidelity and torchmetrics.

IS: 1008-d logits, 10 splits, torch-fidelity's protocol (rows shuffled with
``RandomState(2020).permutation``) — lib's ``shuffle=True`` reproduces it one to one.
torchmetrics shuffles with ``torch.randperm``, so its splits (and value) differ slightly.

KID: float64 2048-d features, 100 subsets of 1000 with torch-fidelity's sampling, which lib's
``sampling="torch-fidelity"`` reproduces index for index; torchmetrics draws its subsets with
``torch.randperm``, so its value differs within the subset noise.
"""

from __future__ import annotations

import warnings

import torch

from benchmarks._common import Config, result, target
from benchmarks._timing import interleaved, rel_diff
from lib import metrics

NAME_IS = "inception_score"
NAME_KID = "kid"


def features(n: int, d: int, seed: int, device: torch.device) -> torch.Tensor:
    """n × d float64 ReLU features with low-rank correlations (Inception pool3-like)."""
    gen = torch.Generator().manual_seed(seed)
    rank = max(2, d // 4)
    z = torch.randn(n, rank, generator=gen, dtype=torch.float64)
    mixing = torch.randn(rank, d, generator=gen, dtype=torch.float64) / rank**0.5
    noise = torch.randn(n, d, generator=gen, dtype=torch.float64)
    return torch.relu(z @ mixing + 0.1 * noise + 0.2).to(device)


def run_is(cfg: Config) -> dict:
    n, classes = (200, 10) if cfg.tiny else (20_000, 1008)
    gen = torch.Generator().manual_seed(cfg.seed + 3)
    logits = (torch.randn(n, classes, generator=gen) * 3).to(cfg.device)

    from torch_fidelity.metric_isc import isc_features_to_metric
    from torchmetrics.image.inception import InceptionScore

    def torchmetrics_is():
        with warnings.catch_warnings():  # "will save all extracted features in buffer"
            warnings.simplefilter("ignore", UserWarning)
            metric = InceptionScore(feature=torch.nn.Identity(), splits=10).to(cfg.device)
        metric.update(logits)
        return float(metric.compute()[0])

    fns = {
        "lib": lambda: metrics.inception_score(
            logits, 10, inputs="logits", shuffle=True, seed=2020
        )[0],
        "torch-fidelity": lambda: isc_features_to_metric(logits, 10, True, 2020)[
            "inception_score_mean"
        ],
        "torchmetrics": torchmetrics_is,
    }
    torch.manual_seed(cfg.seed)
    times, values = interleaved(fns, cfg.reps, device=cfg.device)
    agreement = {k: rel_diff(values["lib"], v) for k, v in values.items() if k != "lib"}
    return result(
        NAME_IS,
        f"Inception Score from {n} × {classes} logits, 10 splits",
        {"n": n, "classes": classes, "splits": 10, "is": values["lib"]},
        times,
        agreement=agreement,
        notes={"torchmetrics": "torch.randperm shuffle: other splits, value differs slightly"},
    )


def run_kid(cfg: Config) -> dict:
    n, d, subsets, m = (300, 32, 5, 100) if cfg.tiny else (2000, 2048, 100, 500)
    x = features(n, d, cfg.seed + 4, cfg.device)
    y = features(n, d, cfg.seed + 5, cfg.device)

    from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, kid_features_to_metric
    from torchmetrics.image.kid import KernelInceptionDistance

    def fidelity():
        out = kid_features_to_metric(
            x, y, kid_subsets=subsets, kid_subset_size=m, rng_seed=2020, verbose=False
        )
        return out[KEY_METRIC_KID_MEAN]

    def torchmetrics_kid():
        with warnings.catch_warnings():  # "will save all extracted features in buffer"
            warnings.simplefilter("ignore", UserWarning)
            metric = KernelInceptionDistance(
                feature=torch.nn.Identity(), subsets=subsets, subset_size=m
            ).to(cfg.device)
        metric.update(x, real=True)
        metric.update(y, real=False)
        return float(metric.compute()[0])

    fns = {
        "lib": lambda: metrics.kid(x, y, subsets=subsets, subset_size=m, seed=2020)[0],
        "torch-fidelity": fidelity,
        "torchmetrics": torchmetrics_kid,
    }
    torch.manual_seed(cfg.seed)
    # The peers take ~1 TFLOP per call on float64: two rounds of torch-fidelity, one of
    # torchmetrics, no untimed warm-up for them.
    slow = None if cfg.tiny or cfg.cuda else {"torch-fidelity": 2, "torchmetrics": 1}
    reps = cfg.reps if cfg.tiny else min(cfg.reps, 3)
    times, values = interleaved(fns, reps, device=cfg.device, reps_of=slow, warmup=("lib",))
    agreement = {k: rel_diff(values["lib"], v) for k, v in values.items() if k != "lib"}
    out = result(
        NAME_KID,
        f"KID from float64 features, {n} per set, d = {d}, {subsets} subsets of {m}",
        {"n_per_set": n, "d": d, "subsets": subsets, "subset_size": m, "kid": values["lib"]},
        times,
        agreement=agreement,
        notes={
            "torch-fidelity": "numpy float64, one subset at a time (CPU)",
            "torchmetrics": "torch.randperm subsets: a different draw, so a different value",
        },
    )
    row = next(r for r in out["peers"] if r["peer"] == "torch-fidelity")
    target(
        out,
        "KID ≥ 2× faster than torch-fidelity with identical values",
        row["speedup"] >= 2 and row["agreement"] <= 1e-9,
        f"{row['speedup']:.2f}× (range {row['speedup_min']:.2f}–{row['speedup_max']:.2f}), "
        f"relative difference {row['agreement']:.1e}",
    )
    return out
