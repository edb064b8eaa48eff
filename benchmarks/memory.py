"""Peak memory of FID statistics over N streamed feature vectors: lib's ``FeatureStats``
(running float64 sums, one batch at a time) against stacking all features first and taking
``np.cov`` (what pytorch-fid and torch-fidelity do).

Each variant runs in a fresh Python process fed the same batches of 500 float32 2048-d vectors;
the number reported is the peak resident memory of the process (``VmHWM``, reset through
``/proc/self/clear_refs`` after the imports) minus its resident memory just before the features
start to arrive (CPU, Linux), or the growth of ``torch.cuda.max_memory_allocated`` (CUDA).
"""

from __future__ import annotations

import json
import subprocess
import sys

import torch

from benchmarks._common import Config, target

NAME = "fid_memory"

_CHILD = r"""
import json, sys
import numpy as np, torch
from lib.metrics import FeatureStats
mode, n, d, device = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
gen = torch.Generator().manual_seed(0)
def status_kib(field):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
def peak_bytes():
    if device == "cuda":
        return torch.cuda.max_memory_allocated()
    return status_kib("VmHWM") * 1024
def current_bytes():
    if device == "cuda":
        return torch.cuda.memory_allocated()
    return status_kib("VmRSS") * 1024
torch.ones(1, device=device)
if device != "cuda":
    # Reset the peak resident size (VmHWM) so that the imports' transient peak does not count.
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
before = current_bytes()
if mode == "streaming":
    stats = FeatureStats(d, device=device)
    for start in range(0, n, 500):
        stats.update(torch.randn(min(500, n - start), d, generator=gen).to(device))
    mu, sigma = stats.mean, stats.covariance
else:
    batches = []
    for start in range(0, n, 500):
        batches.append(torch.randn(min(500, n - start), d, generator=gen).to(device))
    if device == "cuda":
        x = torch.cat(batches)
        del batches
        mu, sigma = x.double().mean(0), torch.cov(x.double().T)
    else:
        x = torch.cat(batches).numpy()
        del batches
        mu, sigma = np.mean(x, axis=0), np.cov(x, rowvar=False)
print(json.dumps({"peak_growth_bytes": peak_bytes() - before, "trace": float(sigma.sum())}))
"""


def measure(mode: str, n: int, d: int, device: torch.device) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(n), str(d), device.type],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(cfg: Config) -> dict:
    d = 64 if cfg.tiny else 2048
    sizes = (1000, 5000) if cfg.tiny else (10_000, 50_000)
    rows = {}
    for mode in ("streaming", "stacked"):
        for n in sizes:
            rows[f"{mode} N={n}"] = measure(mode, n, d, cfg.device)["peak_growth_bytes"]
    mib = {k: v / 2**20 for k, v in rows.items()}
    small, large = sizes
    out = {
        "name": NAME,
        "title": f"peak memory of FID statistics, {d}-d features in batches of 500",
        "setup": {"d": d, "sizes": list(sizes), "batch": 500, "peak_growth_mib": mib},
        "lib": "streaming",
        "impls": {},
        "peers": [],
        "targets": [],
        "memory_mib": mib,
    }
    grow_stream = mib[f"streaming N={large}"] - mib[f"streaming N={small}"]
    # "Independent of N": 5× more vectors add at most one float32 batch plus 15 % of the
    # small run's peak (allocator and page-cache noise); stacking grows in proportion to N.
    allowance = 500 * d * 4 / 2**20 + 0.15 * mib[f"streaming N={small}"]
    target(
        out,
        "streaming FID memory independent of N",
        grow_stream <= allowance,
        f"streaming {mib[f'streaming N={small}']:.0f} → {mib[f'streaming N={large}']:.0f} MiB, "
        f"stacked {mib[f'stacked N={small}']:.0f} → {mib[f'stacked N={large}']:.0f} MiB "
        f"(N = {small:,} → {large:,})",
    )
    return out
