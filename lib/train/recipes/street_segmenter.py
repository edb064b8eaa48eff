"""Train the course segmentation network ``street-segmenter`` and write it to
``data/segmentation``.

    python -m lib.train street_segmenter            # the committed weights (≈ 5 min, 1 thread)
    python -m lib.train street_segmenter --steps 50 --clips 8 --out /tmp/seg

The network (:class:`lib.features.segmentation.StreetSegmenter`) learns the six street classes
from **real** frames of :func:`lib.datasets.street` at 64×64: a pool of clips drawn with seed
``--seed`` (7; vid2vid trains on seeds 0 … 2 and is tested on 1234 and up, so the segmenter never
saw a clip a generator was trained or tested on) is rendered once, its clips split into four
equal groups — camera speed 1 or 2, with or without a car turning towards the camera — where
clip k of a group is clip k of that seed drawn with the group's options (disjoint indices, so no
two groups share a scene). The held-out scores come from clips of seed :data:`HELD_OUT_SEED`
(8), split the same way.

The segmentation score should measure *content* (is there a car where the labels say so?) and
not how sharp the renderer draws, since a generator's frames are softer and noisier than the
renderer's. Every training frame is therefore augmented (:func:`augment`): a horizontal flip
(p = ½), a Gaussian blur of σ uniform in [0, 1.2] px, brightness and contrast each scaled by a
factor uniform in [0.9, 1.1], and additive Gaussian noise of σ uniform in [0, 0.03].

Loss: per-pixel cross-entropy weighted by class, ``w_c ∝ f_c^(−½)`` (f_c: the class's share of
the pool's pixels; normalised so that Σ f_c w_c = 1), so that the small classes (car, person)
are learned as well as the sky. Adam with a one-cycle learning rate; deterministic algorithms,
so a rerun with the same torch build and thread count reproduces the weights. The manifest
records the command, the seed, the steps, wall and CPU seconds, the torch version, and the
held-out pixel accuracy and per-class IoU on clean frames and on frames blurred with σ = 1 px.
The weights are stored as float16.

The steps run through :func:`lib.train.loop.run_classifier_steps`: every ``--checkpoint-every``
steps the network, the optimiser, the schedule, the batch/augmentation generator and the losses
so far go to ``<out>/street-segmenter-state.pt``; ``--resume`` continues from it and writes the
weights an uninterrupted run writes. The state file is removed once the weights are written.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from lib.datasets.street import STREET_CLASSES, street
from lib.features.segmentation import (
    SEGMENTATION_DIR,
    SEGMENTER_SIZE,
    SEGMENTER_WIDTHS,
    STREET_SEGMENTER,
    StreetSegmenter,
)
from lib.metrics.segmentation import segmentation_scores
from lib.train import arguments
from lib.train.loop import cpu_seconds, run_classifier_steps, run_cost, save_network
from lib.weights import weights_file

TRAIN_SEED = 7
HELD_OUT_SEED = 8
#: (camera_speed, turning) of the four groups of clips.
GROUPS: tuple[tuple[float, bool], ...] = ((1.0, False), (2.0, False), (1.0, True), (2.0, True))
MAX_BLUR = 1.2  # px, σ of the training blur
MAX_NOISE = 0.03
JITTER = 0.1  # brightness and contrast factors in [1 − JITTER, 1 + JITTER]
EVAL_BLUR = 1.0  # px, σ of the blurred held-out frames


def render_frames(clips: int, frames: int, *, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Real street frames and their label maps: ``clips`` clips of ``frames`` frames at 64×64,
    split into the four :data:`GROUPS` (clip indices ``[g·n/4, (g+1)·n/4)`` of ``seed`` drawn
    with group g's options). Returns uint8 frames M×3×64×64 and uint8 labels M×64×64,
    M = clips × frames, in clip order."""
    images, labels = [], []
    for g, (speed, turning) in enumerate(GROUPS):
        lo, hi = g * clips // len(GROUPS), (g + 1) * clips // len(GROUPS)
        if hi == lo:
            continue
        drawn = street(
            hi, frames=frames, size=SEGMENTER_SIZE, seed=seed, camera_speed=speed, turning=turning
        )[lo:hi]
        images.append((drawn.frames.flatten(0, 1) * 255).round().to(torch.uint8))
        labels.append(drawn.labels.flatten(0, 1).to(torch.uint8))
    return torch.cat(images), torch.cat(labels)


def blur(images: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
    """A Gaussian blur of N×C×H×W float images with σ = ``sigma`` px (a number, or one σ per
    image); separable kernel of radius ⌈3σ_max⌉, reflected borders. σ = 0 leaves an image as it
    is."""
    n, c, h, w = images.shape
    sigma = torch.as_tensor(sigma, dtype=torch.float32).expand(n).to(images.device)
    radius = max(1, math.ceil(3 * float(sigma.max())))
    radius = min(radius, h - 1, w - 1)
    offsets = torch.arange(-radius, radius + 1, device=images.device, dtype=torch.float32)
    kernel = torch.exp(-(offsets[None] ** 2) / (2 * sigma.clamp(min=1e-3)[:, None] ** 2))
    kernel = (kernel / kernel.sum(1, keepdim=True)).repeat_interleave(c, 0)  # (N·C)×K
    x = images.reshape(1, n * c, h, w)
    x = F.conv2d(
        F.pad(x, (radius, radius, 0, 0), mode="reflect"), kernel[:, None, None], groups=n * c
    )
    x = F.conv2d(
        F.pad(x, (0, 0, radius, radius), mode="reflect"), kernel[:, None, :, None], groups=n * c
    )
    return x.reshape(n, c, h, w)


def augment(
    images: torch.Tensor, labels: torch.Tensor, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """The training augmentation of uint8 frames N×3×H×W and labels N×H×W: flip (p = ½), blur
    (σ ~ U[0, 1.2] px), brightness and contrast (× U[0.9, 1.1] each, contrast about the frame's
    mean), noise (σ ~ U[0, 0.03]), clamped to [0, 1]. Returns float frames, int64 labels."""
    n = images.shape[0]

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, 1, 1, 1, generator=gen)

    x, y = images.float() / 255, labels.long()
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    y = torch.where(flip[:, None, None], y.flip(-1), y)
    x = blur(x, uniform(0.0, MAX_BLUR).flatten())
    mean = x.mean((1, 2, 3), keepdim=True)
    x = ((x - mean) * uniform(1 - JITTER, 1 + JITTER) + mean) * uniform(1 - JITTER, 1 + JITTER)
    x = x + uniform(0.0, MAX_NOISE) * torch.randn(x.shape, generator=gen)
    return x.clamp(0, 1), y


def held_out_scores(
    net: StreetSegmenter,
    *,
    clips: int = 32,
    frames: int = 4,
    seed: int = HELD_OUT_SEED,
    sigma: float = 0.0,
) -> dict:
    """Pixel accuracy, mean IoU and IoU by class name of ``net`` on real frames of ``seed``
    (:func:`render_frames`), blurred with σ = ``sigma`` px when it is > 0; plain floats (class
    absent everywhere: NaN)."""
    images, labels = render_frames(clips, frames, seed=seed)
    x = images.float() / 255
    if sigma > 0:
        x = blur(x, sigma)
    scores = segmentation_scores(net.predict(x).cpu(), labels, len(STREET_CLASSES))
    iou = scores["iou"].tolist()
    return {
        "pixel_accuracy": round(scores["pixel_accuracy"], 4),
        "mean_iou": round(scores["mean_iou"], 4),
        "iou": {name: round(v, 4) for name, v in zip(STREET_CLASSES, iou, strict=True)},
    }


def class_weights(labels: torch.Tensor) -> torch.Tensor:
    """``w_c ∝ f_c^(−½)`` with Σ f_c w_c = 1 (f_c: class c's share of the pixels; a class with no
    pixel gets the largest weight of the others)."""
    share = torch.bincount(labels.flatten().long(), minlength=len(STREET_CLASSES)).double()
    share = share / share.sum()
    weights = torch.where(share > 0, share.clamp(min=1e-12) ** -0.5, torch.zeros_like(share))
    weights = torch.where(share > 0, weights, weights.max())
    return (weights / (share * weights).sum()).float()


def train(
    *,
    steps: int = 1000,
    batch: int = 16,
    lr: float = 3e-3,
    clips: int = 128,
    clip_frames: int = 8,
    eval_clips: int = 32,
    seed: int = TRAIN_SEED,
    log: Callable[[str], None] | None = print,
    state_path: str | Path | None = None,
    resume: bool = False,
    checkpoint_every: int = 0,
) -> tuple[StreetSegmenter, dict]:
    """Train ``street-segmenter`` from scratch; returns the network and a report.

    With ``state_path`` a resumable state (network, optimiser, one-cycle schedule, the batch and
    augmentation generator, the losses so far) is written every ``checkpoint_every`` steps and at
    the end; ``resume`` continues from it (the run must have the same arguments).
    """
    if seed == HELD_OUT_SEED:
        raise ValueError(f"seed: {HELD_OUT_SEED} draws the held-out clips; train with another")
    start, cpu0 = time.perf_counter(), cpu_seconds()
    torch.manual_seed(seed)
    pool_x, pool_y = render_frames(clips, clip_frames, seed=seed)
    weights = class_weights(pool_y)
    gen = torch.Generator().manual_seed(seed)
    net = StreetSegmenter()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    config = {
        "steps": steps,
        "batch": batch,
        "lr": lr,
        "clips": clips,
        "clip_frames": clip_frames,
        "seed": seed,
    }

    def sample_batch() -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.randint(pool_x.shape[0], (batch,), generator=gen)
        return augment(pool_x[index], pool_y[index], gen)

    running = run_classifier_steps(
        net,
        sample_batch,
        logits=net.train_logits,
        weight=weights,
        optimizer=opt,
        schedule=schedule,
        steps=steps,
        generators={"batches": gen},
        config=config,
        state_path=state_path,
        resume=resume,
        checkpoint_every=checkpoint_every,
        desc=STREET_SEGMENTER,
        log=log,
        start_time=start,
    )
    cost = run_cost(start, cpu0)
    final_loss = sum(running[-100:]) / len(running[-100:])
    if not math.isfinite(final_loss):
        raise RuntimeError("training diverged (non-finite loss)")
    held_out = {
        "seed": HELD_OUT_SEED,
        "clips": eval_clips,
        "frames": 4,
        "clean": held_out_scores(net, clips=eval_clips),
        f"blur_{EVAL_BLUR:g}px": held_out_scores(net, clips=eval_clips, sigma=EVAL_BLUR),
    }
    report = {
        "file": weights_file(STREET_SEGMENTER),
        "task": "6-class semantic segmentation of real toy street frames, 64×64",
        "classes": list(STREET_CLASSES),
        "widths": list(SEGMENTER_WIDTHS),
        "size": SEGMENTER_SIZE,
        "parameters": sum(p.numel() for p in net.parameters()),
        "held_out": held_out,
        "final_loss": round(final_loss, 4),
        "class_weights": [round(float(w), 4) for w in weights],
        "augmentation": {
            "flip": 0.5,
            "blur_sigma_px": [0.0, MAX_BLUR],
            "brightness": [1 - JITTER, 1 + JITTER],
            "contrast": [1 - JITTER, 1 + JITTER],
            "noise_sigma": [0.0, MAX_NOISE],
        },
        "groups": [{"camera_speed": s, "turning": t} for s, t in GROUPS],
        **config,
        **cost,
        "dtype": "float16",
    }
    return net, report


def save(net: StreetSegmenter, report: dict, folder: str | Path = SEGMENTATION_DIR) -> Path:
    """Write ``street-segmenter.safetensors`` (float16) and its manifest entry, atomically."""
    return save_network(net, report, folder, STREET_SEGMENTER)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = "python -m lib.train street_segmenter"
    parser = argparse.ArgumentParser(prog=prog, description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--steps", type=arguments.positive_int, default=1000)
    parser.add_argument("--batch", type=arguments.positive_int, default=16)
    parser.add_argument("--lr", type=arguments.positive_float, default=3e-3)
    parser.add_argument(
        "--clips", type=arguments.int_at_least(4), default=128, help="training clips rendered"
    )
    parser.add_argument(
        "--clip-frames", type=arguments.positive_int, default=8, help="frames per training clip"
    )
    parser.add_argument(
        "--eval-clips",
        type=arguments.int_at_least(4),
        default=32,
        help=f"held-out clips (seed {HELD_OUT_SEED}, 4 frames each)",
    )
    parser.add_argument("--seed", type=arguments.non_negative_int, default=TRAIN_SEED)
    parser.add_argument("--threads", type=arguments.positive_int, default=1)
    parser.add_argument("--out", type=Path, default=SEGMENTATION_DIR)
    parser.add_argument(
        "--checkpoint-every",
        type=arguments.non_negative_int,
        default=100,
        help=f"steps between resumable states (<out>/{STREET_SEGMENTER}-state.pt; 0: at the end)",
    )
    parser.add_argument("--resume", action="store_true", help="continue from the state file")
    args = parser.parse_args(argv)
    if args.seed == HELD_OUT_SEED:
        parser.error(f"argument --seed: {HELD_OUT_SEED} draws the held-out clips; use another")
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    state_path = args.out / f"{STREET_SEGMENTER}-state.pt"
    net, report = train(
        steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        clips=args.clips,
        clip_frames=args.clip_frames,
        eval_clips=args.eval_clips,
        seed=args.seed,
        state_path=state_path,
        # Killed before its first state, a run has nothing to resume and starts afresh.
        resume=args.resume and state_path.is_file(),
        checkpoint_every=args.checkpoint_every,
    )
    report = {"command": " ".join([prog, *argv]), **report}
    path = save(net, report, args.out)
    state_path.unlink(missing_ok=True)  # the run is complete: nothing left to resume
    clean, blurred = report["held_out"]["clean"], report["held_out"][f"blur_{EVAL_BLUR:g}px"]
    print(
        f"{STREET_SEGMENTER}: held-out pixel accuracy {clean['pixel_accuracy']:.4f} "
        f"(blurred {blurred['pixel_accuracy']:.4f}), IoU "
        + ", ".join(f"{k} {v:.3f}" for k, v in clean["iou"].items())
        + f" in {report['train_seconds']} s wall, {report['cpu_seconds']} s CPU → {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
