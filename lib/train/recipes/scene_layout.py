"""Train the course network ``scene-layout`` (CartoonGAN's content network for the cartoon
world) and write it to ``data/segmentation``.

    python -m lib.train scene_layout            # the committed weights (≈ 20 min, 1 thread)
    python -m lib.train scene_layout --steps 20 --scenes 64 --out /tmp/layout

The network (:class:`lib.features.scene_layout.SceneLayoutNet`) learns, per pixel, which shape
of the scene covers it (:func:`lib.features.scene_layout.layout_classes` of
:func:`lib.datasets.cartoon.scene_layouts`) from ``--scenes`` cartoons drawn with seed
:data:`CARTOON_SEED` and as many photo renders drawn with seed :data:`PHOTO_SEED` — different
scenes in the two styles, unpaired, like CartoonGAN's own training data. CartoonGAN trains on
seeds 10·s + 1 and 10·s + 2 and is tested on seed 424242, so this network never sees a scene
CartoonGAN is trained or measured on.

Loss: per-pixel cross-entropy, batches of ``--batch`` drawn from both styles together; Adam with
a one-cycle learning rate, deterministic algorithms (a rerun with the same torch build and
thread count reproduces the weights). The held-out scores come from :data:`HELD_OUT` scenes of
seed :data:`HELD_OUT_SEED` rendered both ways: pixel accuracy on the photo renders and on the
cartoons, and the confusion ratio at each stage
(:func:`lib.models.cartoongan_diagnostics.content_style_confusion`) — the distance from a
scene's photo to its own cartoon over the distance to another scene's photo, the number that
decides whether a content loss lets the style change. The manifest records them with the
command, the settings, wall and CPU seconds and the torch version; the weights are stored as
float16.

The steps run through :func:`lib.train.loop.run_classifier_steps`: every
``--checkpoint-every`` steps the state goes to ``<out>/scene-layout-state.pt``; ``--resume``
continues from it and writes the weights an uninterrupted run writes.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import torch

from lib.datasets.base import ImageSet
from lib.datasets.cartoon import cartoons, photo_renders, scene_layouts
from lib.features.perceptual import SCENE_LAYOUT_LAYERS, LayoutPerceptual
from lib.features.scene_layout import (
    SCENE_LAYOUT_CLASSES,
    SCENE_LAYOUT_DIR,
    SCENE_LAYOUT_NET,
    SCENE_LAYOUT_WIDTHS,
    SceneLayoutNet,
    layout_classes,
)
from lib.models.cartoongan_diagnostics import content_style_confusion
from lib.train import arguments
from lib.train.loop import cpu_seconds, run_classifier_steps, run_cost, save_network
from lib.weights import weights_file

CARTOON_SEED = 101
PHOTO_SEED = 202
HELD_OUT_SEED = 303
HELD_OUT = 128
SIZE = 64


def rendered_scenes(n: int, *, seed: int, style: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` scenes of ``seed`` drawn as ``style`` (``"cartoon"`` or ``"photo"``) at 64²: the
    images (N×3×64×64 float in [0, 1]) and their layout classes (N×64×64 int64)."""
    draw = cartoons if style == "cartoon" else photo_renders
    images = cast(ImageSet, draw(n, size=SIZE, seed=seed)).images
    return images, layout_classes(scene_layouts(n, size=SIZE, seed=seed))


def held_out_scores(net: SceneLayoutNet, *, n: int = HELD_OUT, seed: int = HELD_OUT_SEED) -> dict:
    """Pixel accuracy on ``n`` held-out scenes drawn both ways, and the confusion ratio at each
    stage (plain floats, rounded)."""
    photos, labels = rendered_scenes(n, seed=seed, style="photo")
    toons, _ = rendered_scenes(n, seed=seed, style="cartoon")  # the same scenes: same labels
    confusion = {
        layer: round(
            content_style_confusion(LayoutPerceptual([layer], network=net), photos, toons)["ratio"],
            4,
        )
        for layer in SCENE_LAYOUT_LAYERS
    }
    return {
        "seed": seed,
        "scenes": n,
        "accuracy_photos": round(float((net.predict(photos) == labels).float().mean()), 4),
        "accuracy_cartoons": round(float((net.predict(toons) == labels).float().mean()), 4),
        "confusion_ratio": confusion["stage3"],
        "confusion_by_stage": confusion,
    }


def train(
    *,
    steps: int = 1000,
    batch: int = 32,
    lr: float = 2e-3,
    scenes: int = 1024,
    held_out: int = HELD_OUT,
    log: Callable[[str], None] | None = print,
    state_path: str | Path | None = None,
    resume: bool = False,
    checkpoint_every: int = 0,
) -> tuple[SceneLayoutNet, dict]:
    """Train ``scene-layout`` from scratch; returns the network and a report (resumable like
    :func:`lib.train.recipes.street_segmenter.train`)."""
    start, cpu0 = time.perf_counter(), cpu_seconds()
    torch.manual_seed(CARTOON_SEED)
    toons, toon_labels = rendered_scenes(scenes, seed=CARTOON_SEED, style="cartoon")
    photos, photo_labels = rendered_scenes(scenes, seed=PHOTO_SEED, style="photo")
    pool_x, pool_y = torch.cat([toons, photos]), torch.cat([toon_labels, photo_labels])
    gen = torch.Generator().manual_seed(CARTOON_SEED)
    net = SceneLayoutNet()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    config = {"steps": steps, "batch": batch, "lr": lr, "scenes": scenes}

    def sample_batch() -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.randint(pool_x.shape[0], (batch,), generator=gen)
        return pool_x[index], pool_y[index]

    running = run_classifier_steps(
        net,
        sample_batch,
        logits=net.train_logits,
        optimizer=opt,
        schedule=schedule,
        steps=steps,
        generators={"batches": gen},
        config=config,
        state_path=state_path,
        resume=resume,
        checkpoint_every=checkpoint_every,
        desc=SCENE_LAYOUT_NET,
        log=log,
        start_time=start,
    )
    cost = run_cost(start, cpu0)
    final_loss = sum(running[-100:]) / len(running[-100:])
    if not math.isfinite(final_loss):
        raise RuntimeError("training diverged (non-finite loss)")
    report = {
        "file": weights_file(SCENE_LAYOUT_NET),
        "task": (
            f"per-pixel covering shape (drawing order 0 … {SCENE_LAYOUT_CLASSES - 2}, "
            f"≥ {SCENE_LAYOUT_CLASSES - 1}) of cartoon-world scenes in both styles, 64×64"
        ),
        "widths": list(SCENE_LAYOUT_WIDTHS),
        "classes": SCENE_LAYOUT_CLASSES,
        "parameters": sum(p.numel() for p in net.parameters()),
        "data": {"cartoon_seed": CARTOON_SEED, "photo_seed": PHOTO_SEED, "size": SIZE},
        "held_out": held_out_scores(net, n=held_out),
        "final_loss": round(final_loss, 4),
        **config,
        **cost,
        "dtype": "float16",
    }
    return net, report


def save(net: SceneLayoutNet, report: dict, folder: str | Path = SCENE_LAYOUT_DIR) -> Path:
    """Write ``scene-layout.safetensors`` (float16) and its manifest entry, atomically."""
    return save_network(net, report, folder, SCENE_LAYOUT_NET)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = "python -m lib.train scene_layout"
    parser = argparse.ArgumentParser(prog=prog, description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--steps", type=arguments.positive_int, default=1000)
    parser.add_argument("--batch", type=arguments.positive_int, default=32)
    parser.add_argument("--lr", type=arguments.positive_float, default=2e-3)
    parser.add_argument(
        "--scenes",
        type=arguments.int_at_least(2),
        default=1024,
        help="training scenes per style (cartoons and photo renders, different scenes)",
    )
    parser.add_argument(
        "--held-out",
        type=arguments.int_at_least(2),
        default=HELD_OUT,
        help=f"held-out scenes (seed {HELD_OUT_SEED}), each drawn in both styles",
    )
    parser.add_argument("--threads", type=arguments.positive_int, default=1)
    parser.add_argument("--out", type=Path, default=SCENE_LAYOUT_DIR)
    parser.add_argument(
        "--checkpoint-every",
        type=arguments.non_negative_int,
        default=100,
        help=f"steps between resumable states (<out>/{SCENE_LAYOUT_NET}-state.pt; 0: at the end)",
    )
    parser.add_argument("--resume", action="store_true", help="continue from the state file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    state_path = args.out / f"{SCENE_LAYOUT_NET}-state.pt"
    net, report = train(
        steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        scenes=args.scenes,
        held_out=args.held_out,
        state_path=state_path,
        # Killed before its first state, a run has nothing to resume and starts afresh.
        resume=args.resume and state_path.is_file(),
        checkpoint_every=args.checkpoint_every,
    )
    report = {"command": " ".join([prog, *argv]), **report}
    path = save(net, report, args.out)
    state_path.unlink(missing_ok=True)  # the run is complete: nothing left to resume
    scores = report["held_out"]
    print(
        f"{SCENE_LAYOUT_NET}: held-out pixel accuracy {scores['accuracy_photos']:.4f} (photo "
        f"renders), {scores['accuracy_cartoons']:.4f} (cartoons); confusion ratio "
        + ", ".join(f"{k} {v:.3f}" for k, v in scores["confusion_by_stage"].items())
        + f" in {report['train_seconds']} s wall, {report['cpu_seconds']} s CPU → {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
