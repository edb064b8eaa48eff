"""Worker for the two-process vid2vid test:
``torchrun --standalone --nproc_per_node 2 THIS OUT.json``.

Each rank trains a tiny vid2vid (32², one level) for one warm-up and two adversarial steps with
``lib.train.recipes.vid2vid.train`` (gloo, DistributedDataParallel), on its own batches.
Afterwards the ranks gather a flat copy of their generator's parameters, and rank 0 writes the
largest difference between the replicas (0 when DDP kept them identical), whether training moved
the parameters, and whether the ranks saw different batches.
"""

from __future__ import annotations

import json
import os
import sys

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir)))

from lib._io import atomic_write  # noqa: E402
from lib.models.vid2vid import Vid2VidGenerator  # noqa: E402
from lib.train.recipes import vid2vid as T  # noqa: E402


def _flat(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1).float() for p in module.parameters()])


def main(out_path: str) -> None:
    cfg = T.TrainConfig(
        size=32,
        levels=1,
        steps=2,
        warmup=1,
        batch=1,
        clips=4,
        clip_frames=5,
        width=8,
        d_width=8,
        perceptual="none",
        device="cpu",
        progress=False,
        state_dir=os.path.join(os.path.dirname(out_path), "state"),
    )
    torch.manual_seed(cfg.seed)
    initial = _flat(Vid2VidGenerator(width=cfg.width, blocks=cfg.blocks, norm=cfg.norm))
    generator, report = T.train(cfg)  # joins the gloo process group
    rank, world = dist.get_rank(), dist.get_world_size()
    params = _flat(generator)
    gathered = [torch.zeros_like(params) for _ in range(world)]
    dist.all_gather(gathered, params)
    first = T._Pool(cfg, cfg.size, torch.device("cpu")).sample()[0]  # this rank's first batch
    batches = [torch.zeros_like(first) for _ in range(world)]
    dist.all_gather(batches, first)
    if rank == 0:
        result = {
            "world_size": world,
            "steps": len(report["history"]["single"]),
            "max_replica_difference": max(float((g - params).abs().max()) for g in gathered),
            "params_changed": bool((params - initial).abs().max() > 0),
            "batches_differ": not torch.equal(batches[0], batches[1]),
        }
        atomic_write(out_path, lambda fh: json.dump(result, fh), mode="w")
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
