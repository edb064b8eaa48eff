"""Train the course clip network ``street-c3d`` and write it to ``data/video_features``.

    python -m lib.train clip_network                 # the committed weights (≈ 3 min, 1 thread)
    python -m lib.train clip_network --steps 100 --out /tmp/c3d

The task needs no labels (self-supervised): from a toy street clip (:func:`lib.datasets.street`,
64×64) an 8-frame window is cut at a frame step of 1, 2 or 3 and played forwards or backwards;
the network names which of the 6 it is (:data:`lib.features.video.C3D_CLASSES`). Clips come from
a fixed pool rendered once (seeds ``seed*1000 + k``); windows, steps and directions are drawn from
a generator seeded with ``seed``; held-out accuracy is measured on clips of a seed never used in
training. AdamW with a one-cycle learning rate; deterministic algorithms, so a rerun with the
same torch build and thread count reproduces the weights. The weights are stored as float16.

The steps run through :func:`lib.train.loop.run_classifier_steps`: every ``--checkpoint-every``
steps the network, the optimiser, the schedule, the window sampler's generator and the losses so
far go to ``<out>/street-c3d-state.pt``; ``--resume`` continues from it and writes the weights an
uninterrupted run writes. The state file is removed once the weights are written.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch

from lib.datasets import street
from lib.features.video import (
    C3D_CLASSES,
    C3D_CLIP_LENGTH,
    C3D_SIZE,
    C3D_WIDTHS,
    STREET_C3D,
    VIDEO_FEATURES_DIR,
    StreetC3D,
)
from lib.train import arguments
from lib.train.loop import cpu_seconds, run_classifier_steps, run_cost, save_network

TEST_SEED = 777_777
POOL_FRAMES = (C3D_CLIP_LENGTH - 1) * max(s for s, _ in C3D_CLASSES) + 1


def render_pool(n: int, seed: int) -> torch.Tensor:
    """``n`` street clips of :data:`POOL_FRAMES` frames at 64×64, as uint8 (N×T×3×H×W)."""
    clips = street(n, frames=POOL_FRAMES, size=C3D_SIZE, seed=seed).frames
    return (clips * 255).round().to(torch.uint8)


def sample_windows(
    pool: torch.Tensor, batch: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of 8-frame windows and their class (step, direction) drawn from ``pool``."""
    n, frames = pool.shape[:2]
    clip = torch.randint(n, (batch,), generator=gen)
    label = torch.randint(len(C3D_CLASSES), (batch,), generator=gen)
    out = torch.empty(batch, C3D_CLIP_LENGTH, *pool.shape[2:], dtype=torch.uint8)
    for b in range(batch):
        step, direction = C3D_CLASSES[int(label[b])]
        span = (C3D_CLIP_LENGTH - 1) * step + 1
        start = int(torch.randint(frames - span + 1, (1,), generator=gen))
        index = torch.arange(start, start + span, step)
        out[b] = pool[clip[b], index if direction > 0 else index.flip(0)]
    return out.float() / 255, label


@torch.no_grad()
def accuracy(net: StreetC3D, pool: torch.Tensor, *, seed: int, batches: int = 8) -> float:
    gen = torch.Generator().manual_seed(seed)
    correct = total = 0
    net.eval()
    for _ in range(batches):
        x, y = sample_windows(pool, 64, gen)
        correct += int((net.logits(x).argmax(1) == y).sum())
        total += len(y)
    return correct / total


def train(
    *,
    steps: int = 800,
    batch: int = 32,
    lr: float = 3e-3,
    pool_clips: int = 256,
    seed: int = 0,
    log: Callable[[str], None] | None = print,
    state_path: str | Path | None = None,
    resume: bool = False,
    checkpoint_every: int = 0,
) -> tuple[StreetC3D, dict]:
    """Train ``street-c3d`` from scratch; returns the network and a report.

    With ``state_path`` a resumable state (network, optimiser, one-cycle schedule, the window
    sampler's generator, the losses so far) is written every ``checkpoint_every`` steps and at
    the end; ``resume`` continues from it (the run must have the same arguments).
    """
    start, cpu0 = time.perf_counter(), cpu_seconds()
    torch.manual_seed(seed)
    pool = render_pool(pool_clips, seed * 1000 + 1)
    test_pool = render_pool(64, TEST_SEED)
    gen = torch.Generator().manual_seed(seed)
    net = StreetC3D()
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    config = {"steps": steps, "batch": batch, "lr": lr, "pool_clips": pool_clips, "seed": seed}
    running = run_classifier_steps(
        net,
        lambda: sample_windows(pool, batch, gen),
        logits=net.train_logits,
        optimizer=opt,
        schedule=schedule,
        steps=steps,
        generators={"windows": gen},
        config=config,
        state_path=state_path,
        resume=resume,
        checkpoint_every=checkpoint_every,
        desc=STREET_C3D,
        log=log,
        start_time=start,
    )
    cost = run_cost(start, cpu0)
    report = {
        "task": "step (1, 2, 3) × direction of an 8-frame window of a toy street clip, 64×64",
        "widths": list(C3D_WIDTHS),
        "test_accuracy": round(accuracy(net, test_pool, seed=seed + 1), 4),
        "chance": round(1 / len(C3D_CLASSES), 4),
        "final_loss": round(sum(running[-100:]) / len(running[-100:]), 4),
        "steps": steps,
        "batch": batch,
        "lr": lr,
        "pool_clips": pool_clips,
        "seed": seed,
        **cost,
        "dtype": "float16",
    }
    if not math.isfinite(report["final_loss"]):
        raise RuntimeError("training diverged (non-finite loss)")
    return net, report


def save(net: StreetC3D, report: dict, folder: str | Path = VIDEO_FEATURES_DIR) -> Path:
    """Write ``street-c3d.safetensors`` (float16) and its manifest entry, both atomically."""
    return save_network(net, report, folder, STREET_C3D)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lib.train clip_network", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--steps", type=arguments.positive_int, default=800)
    parser.add_argument("--batch", type=arguments.positive_int, default=32)
    parser.add_argument(
        "--pool", type=arguments.positive_int, default=256, help="clips rendered for training"
    )
    parser.add_argument("--seed", type=arguments.non_negative_int, default=0)
    parser.add_argument("--threads", type=arguments.positive_int, default=1)
    parser.add_argument("--out", type=Path, default=VIDEO_FEATURES_DIR)
    parser.add_argument(
        "--checkpoint-every",
        type=arguments.non_negative_int,
        default=100,
        help=f"steps between resumable states (<out>/{STREET_C3D}-state.pt; 0: at the end only)",
    )
    parser.add_argument("--resume", action="store_true", help="continue from the state file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    state_path = args.out / f"{STREET_C3D}-state.pt"
    net, report = train(
        steps=args.steps,
        batch=args.batch,
        pool_clips=args.pool,
        seed=args.seed,
        state_path=state_path,
        # Killed before its first state, a run has nothing to resume and starts afresh.
        resume=args.resume and state_path.is_file(),
        checkpoint_every=args.checkpoint_every,
    )
    path = save(net, report, args.out)
    state_path.unlink(missing_ok=True)  # the run is complete: nothing left to resume
    print(
        f"{STREET_C3D}: held-out accuracy {report['test_accuracy']:.3f} (chance "
        f"{report['chance']:.3f}) in {report['train_seconds']} s wall, "
        f"{report['cpu_seconds']} s CPU → {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
