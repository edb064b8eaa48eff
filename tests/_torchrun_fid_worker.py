"""Worker for the two-process FID test: ``torchrun --standalone --nproc_per_node 2 THIS OUT.json``.

Every rank builds the same deterministic feature sets, accumulates its own shard of the rows in
a FeatureStats (in uneven batches), all-reduces the statistics over gloo and rank 0 writes the
FID and the sample counts to OUT.json.
"""

from __future__ import annotations

import json
import os
import sys

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir)))

from lib.metrics.frechet import FeatureStats, fid  # noqa: E402


def make_features() -> tuple[torch.Tensor, torch.Tensor]:
    """The real and fake feature sets shared by the worker and the test (odd sizes on purpose)."""
    gen = torch.Generator().manual_seed(1234)
    real = torch.randn(601, 16, generator=gen, dtype=torch.float64)
    mix = torch.randn(16, 16, generator=gen, dtype=torch.float64) / 4
    fake = torch.randn(523, 16, generator=gen, dtype=torch.float64) @ (torch.eye(16) + mix) + 0.3
    return real, fake


def main(out_path: str) -> None:
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    real, fake = make_features()
    stats = {}
    for name, feats in (("real", real), ("fake", fake)):
        shard = feats[rank::world]
        s = FeatureStats(feats.shape[1])
        for start in range(0, shard.shape[0], 37 + rank):
            s.update(shard[start : start + 37 + rank])
        stats[name] = s.all_reduce()
    if rank == 0:
        result = {
            "fid": fid(stats["real"], stats["fake"]),
            "n_real": stats["real"].n,
            "n_fake": stats["fake"].n,
            "world_size": world,
        }
        tmp = out_path + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(result, fh)
        os.replace(tmp, out_path)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
