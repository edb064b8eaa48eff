"""FID-Inception features of the same uint8 batches: lib against pytorch-fid, torch-fidelity and
torchmetrics, every network loaded with the same random state dict (see ``_inception``).

The images are 299×299, where every implementation's resize is the identity, so all four
compute the same function and their features must agree to float32 rounding. pytorch-fid takes
float images in [0, 1] and normalises with 2x − 1; it is given x / 256 (converted before the
clock starts), which makes its input exactly lib's (x − 128) / 128.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchmarks import _inception
from benchmarks._common import Config, result, target
from benchmarks._timing import interleaved, max_rel_diff
from lib.features.inception import _full_fp32_on_cuda

NAME = "features"


def images(n: int, size: int, seed: int) -> torch.Tensor:
    """Structured uint8 RGB images: smooth colour fields plus pixel noise."""
    g = torch.Generator().manual_seed(seed)
    smooth = F.interpolate(torch.rand(n, 3, 6, 6, generator=g), size=(size, size), mode="bicubic")
    noisy = smooth * 200 + 30 + torch.randn(n, 3, size, size, generator=g) * 20
    return noisy.round().clamp(0, 255).to(torch.uint8)


def run(cfg: Config) -> dict:
    n = 2 if cfg.tiny else (256 if cfg.cuda else 8)
    x = images(n, 299, cfg.seed).to(cfg.device)
    x_float = x.float() / 256  # pytorch-fid's input: 2·x/256 − 1 = (x − 128)/128
    path = _inception.weights_file(cfg.scratch() / "weights")
    ours = _inception.lib_net(path, cfg.device)
    fidelity = _inception.torch_fidelity_net(path, cfg.device)
    metrics = _inception.torchmetrics_net(path, cfg.device)
    pfid = _inception.pytorch_fid_net(cfg.device)
    batch = n

    def run_fidelity():
        with torch.no_grad():
            return fidelity(x)[0]

    def run_metrics():
        with torch.no_grad():
            return metrics(x)

    def run_pfid():
        with torch.no_grad():
            return pfid(x_float)[0].flatten(1)

    fns = {
        "lib": lambda: ours.features(x, batch_size=batch),
        "pytorch-fid": run_pfid,
        "torch-fidelity": run_fidelity,
        "torchmetrics": run_metrics,
    }
    # The peers run their networks as they ship them; on CUDA lib switches TF32 off while its
    # network runs, and so must the peers for the features to agree.
    with _full_fp32_on_cuda(cfg.device):
        reps = cfg.reps if cfg.cuda else min(cfg.reps, 3)
        times, outputs = interleaved(fns, reps, device=cfg.device)
    agreement = {k: max_rel_diff(outputs["lib"], v) for k, v in outputs.items() if k != "lib"}
    out = result(
        NAME,
        f"FID-Inception features, {n} uint8 images 299×299 per call",
        {"images": n, "size": 299, "batch_size": batch, "weights": f"seed {_inception.SEED}"},
        times,
        agreement=agreement,
        agreement_label="max |Δfeature| / max |feature|",
        units={k: n for k in fns},
        unit_label="images/s",
    )
    fastest = max(out["peers"], key=lambda r: 1 / r["speedup"])
    worst = max(agreement.values())
    target(
        out,
        "feature extraction ≥ 1.3× the fastest peer at ≤ 1e-4 feature difference",
        fastest["speedup"] >= 1.3 and worst <= 1e-4,
        f"{fastest['speedup']:.2f}× {fastest['peer']} (range {fastest['speedup_min']:.2f}–"
        f"{fastest['speedup_max']:.2f}); max feature difference {worst:.1e}",
    )
    return out
