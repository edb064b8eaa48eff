"""SSIM and MS-SSIM of a batch: lib against pytorch-msssim, torchmetrics and scikit-image.

All with the paper's settings (11-tap Gaussian window, σ = 1.5, K = (0.01, 0.03), data range 1).
scikit-image (``gaussian_weights=True, sigma=1.5, use_sample_covariance=False``, one image at a
time on the CPU) is the reference for the values; torchmetrics pads the border instead of
cropping it, so its values sit slightly apart by design.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks._common import Config, result, target
from benchmarks._timing import interleaved
from lib import metrics

NAME_SSIM = "ssim"
NAME_MS_SSIM = "ms_ssim"


def pair(n: int, size: int, seed: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Smooth colour images in [0, 1] and a noisy, slightly blurred copy."""
    g = torch.Generator().manual_seed(seed)
    x = F.interpolate(torch.rand(n, 3, 16, 16, generator=g), size=(size, size), mode="bicubic")
    x = (x + 0.05 * torch.randn(n, 3, size, size, generator=g)).clamp(0, 1)
    y = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    y = (y + 0.05 * torch.randn(n, 3, size, size, generator=g)).clamp(0, 1)
    return x.to(device), y.to(device)


def _skimage_ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    from skimage.metrics import structural_similarity

    xs, ys = x.double().cpu().numpy(), y.double().cpu().numpy()
    values = [
        structural_similarity(
            a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
            data_range=1.0, channel_axis=0,
        )
        for a, b in zip(xs, ys, strict=True)
    ]  # fmt: skip
    return torch.tensor(np.array(values))


def run_ssim(cfg: Config) -> dict:
    n, size = (2, 32) if cfg.tiny else ((64 if cfg.cuda else 32), 256)
    x, y = pair(n, size, cfg.seed, cfg.device)

    import pytorch_msssim
    from torchmetrics.functional.image import structural_similarity_index_measure as tm_ssim

    fns = {
        "lib": lambda: metrics.ssim(x, y, reduction="none"),
        "pytorch-msssim": lambda: pytorch_msssim.ssim(x, y, data_range=1.0, size_average=False),
        "torchmetrics": lambda: tm_ssim(x, y, data_range=1.0, reduction="none"),
        "scikit-image": lambda: _skimage_ssim(x, y),
    }
    reps = cfg.reps if cfg.tiny else min(cfg.reps, 3)
    times, values = interleaved(fns, reps, device=cfg.device)
    ref = values["scikit-image"].double()
    agreement = {
        k: float((v.double().cpu() - ref).abs().max()) for k, v in values.items() if k != "lib"
    }
    lib_vs_skimage = float((values["lib"].double().cpu() - ref).abs().max())
    out = result(
        NAME_SSIM,
        f"SSIM of {n}×3×{size}×{size} float32 image pairs",
        {"shape": [n, 3, size, size], "lib_vs_scikit_image": lib_vs_skimage},
        times,
        agreement=agreement,
        agreement_label="max |ΔSSIM| per image vs lib",
        notes={"scikit-image": "one image at a time, float64, CPU"},
    )
    row = next(r for r in out["peers"] if r["peer"] == "pytorch-msssim")
    target(
        out,
        "SSIM ≥ 1.5× pytorch-msssim at ≤ 1e-5 difference to scikit-image's paper settings",
        row["speedup"] >= 1.5 and lib_vs_skimage <= 1e-5,
        f"{row['speedup']:.2f}× (range {row['speedup_min']:.2f}–{row['speedup_max']:.2f}); "
        f"max |SSIM − scikit-image| {lib_vs_skimage:.1e}",
    )
    return out


def run_ms_ssim(cfg: Config) -> dict:
    n, size = (2, 176) if cfg.tiny else ((64 if cfg.cuda else 32), 256)
    x, y = pair(n, size, cfg.seed + 1, cfg.device)

    import pytorch_msssim
    from torchmetrics.functional.image import (
        multiscale_structural_similarity_index_measure as tm_ms_ssim,
    )

    fns = {
        "lib": lambda: metrics.ms_ssim(x, y, reduction="none"),
        "pytorch-msssim": lambda: pytorch_msssim.ms_ssim(x, y, data_range=1.0, size_average=False),
        "torchmetrics": lambda: tm_ms_ssim(x, y, data_range=1.0, reduction="none"),
    }
    reps = cfg.reps if cfg.tiny else min(cfg.reps, 3)
    times, values = interleaved(fns, reps, device=cfg.device)
    lib = values["lib"].double().cpu()
    agreement = {
        k: float((v.double().cpu() - lib).abs().max()) for k, v in values.items() if k != "lib"
    }
    return result(
        NAME_MS_SSIM,
        f"MS-SSIM (5 scales) of {n}×3×{size}×{size} float32 image pairs",
        {"shape": [n, 3, size, size]},
        times,
        agreement=agreement,
        agreement_label="max |ΔMS-SSIM| per image vs lib",
    )
