"""FID from feature statistics at d = 2048: lib against every peer's Fréchet distance.

All implementations get the same two Gaussians (mean and covariance of two sets of 2048-d,
ReLU-shaped, correlated features). pytorch-fid and clean-fid take ``scipy.linalg.sqrtm`` of
Σ1Σ2; torch-fidelity (0.4) and torchmetrics take the eigenvalues of the non-symmetric Σ1Σ2; lib
factors Σ1 = LLᵀ (Cholesky) and takes ``eigvalsh`` of the symmetric LᵀΣ2L. "lib (cached
reference)" is lib's path for repeated evaluation against one real set: ``FrechetReference``
factors Σ1 once, and each FID costs two matrix products and one ``eigvalsh``.
"""

from __future__ import annotations

import torch

from benchmarks._common import Config, result, target
from benchmarks._timing import interleaved, rel_diff
from lib.metrics import FeatureStats, FrechetReference, frechet_distance

NAME = "fid_statistic"


def feature_stats(n: int, d: int, seed: int, device: torch.device) -> FeatureStats:
    """Statistics of n ReLU features with a low-rank + noise correlation (Inception-like)."""
    gen = torch.Generator().manual_seed(seed)
    rank = max(2, d // 4)
    mixing = torch.randn(rank, d, generator=gen) / rank**0.5
    stats = FeatureStats(d, device=device)
    for start in range(0, n, 2048):
        b = min(2048, n - start)
        z = torch.randn(b, rank, generator=gen) @ mixing + 0.1 * torch.randn(b, d, generator=gen)
        stats.update(torch.relu(z + 0.2).to(device))
    return stats


def run(cfg: Config) -> dict:
    d, n = (64, 300) if cfg.tiny else (2048, 10_000)
    s1 = feature_stats(n, d, cfg.seed + 1, cfg.device)
    s2 = feature_stats(n, d, cfg.seed + 2, cfg.device)
    mu1, sigma1, mu2, sigma2 = s1.mean, s1.covariance, s2.mean, s2.covariance
    np_args = [t.cpu().numpy() for t in (mu1, sigma1, mu2, sigma2)]
    reference = FrechetReference(mu1, sigma1)

    from cleanfid.fid import frechet_distance as clean_fid
    from pytorch_fid.fid_score import calculate_frechet_distance
    from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_statistics_to_metric
    from torchmetrics.image.fid import _compute_fid

    def fidelity():
        stat1 = {"mu": np_args[0], "sigma": np_args[1]}
        stat2 = {"mu": np_args[2], "sigma": np_args[3]}
        return fid_statistics_to_metric(stat1, stat2, False)[KEY_METRIC_FID]

    fns = {
        "lib": lambda: frechet_distance(mu1, sigma1, mu2, sigma2),
        "lib (cached reference)": lambda: reference.distance(mu2, sigma2),
        "pytorch-fid": lambda: float(calculate_frechet_distance(*np_args)),
        "clean-fid": lambda: float(clean_fid(*np_args)),
        "torch-fidelity": fidelity,
        "torchmetrics": lambda: float(_compute_fid(mu1, sigma1, mu2, sigma2)),
    }
    # scipy's sqrtm takes ~10× lib's time: two rounds of it, and no untimed warm-up.
    # (clean-fid's frechet_distance is pytorch-fid's code: one round of it is enough.)
    slow = None if cfg.tiny or cfg.cuda else {"pytorch-fid": 2, "clean-fid": 1}
    warm = ("lib", "lib (cached reference)", "torchmetrics")
    times, values = interleaved(fns, cfg.reps, device=cfg.device, reps_of=slow, warmup=warm)
    lib_value = values["lib"]
    agreement = {k: rel_diff(lib_value, v) for k, v in values.items() if k != "lib"}
    notes = {
        "pytorch-fid": "numpy, scipy.linalg.sqrtm (CPU)",
        "clean-fid": "numpy, scipy.linalg.sqrtm (CPU)",
        "torch-fidelity": "numpy, eigvals of Σ1Σ2 (CPU)",
        "torchmetrics": f"torch.linalg.eigvals of Σ1Σ2 ({cfg.device.type})",
        "lib": f"Cholesky + eigvalsh, float64 ({cfg.device.type})",
        "lib (cached reference)": f"FrechetReference: eigvalsh only ({cfg.device.type})",
    }
    out = result(
        NAME,
        f"FID statistic from (μ, Σ), d = {d}",
        {"d": d, "n_per_set": n, "fid": lib_value},
        times,
        agreement=agreement,
        notes=notes,
    )
    for peer in ("pytorch-fid", "clean-fid"):
        row = next(r for r in out["peers"] if r["peer"] == peer)
        target(
            out,
            f"FID statistic ≥ 5× faster than {peer} (sqrtm) at ≤ 1e-6 relative difference",
            row["speedup"] >= 5 and row["agreement"] <= 1e-6,
            f"{row['speedup']:.1f}× (range {row['speedup_min']:.1f}–{row['speedup_max']:.1f}), "
            f"relative difference {row['agreement']:.1e}",
        )
    return out
