"""Retrain the course classifiers deterministically and write them to ``data/classifiers``.

    python -m lib.features.train_classifiers            # both
    python -m lib.features.train_classifiers --only digits-cnn

``digits-cnn`` trains on the fixed ``digits`` train split with random affine augmentation and is
tested on the held-out split; ``shapes-cnn`` trains on a fresh ``shapes`` set every epoch and is
tested on a set drawn with a seed never used in training. Both use Adam with a one-cycle learning
rate. Every random number comes from seeded generators and deterministic algorithms are enforced,
so a rerun with the same torch build and thread count reproduces the weights bit for bit.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lib._io import atomic_write, sha256_file
from lib.datasets import ImageSet, digits, shapes
from lib.features.classifiers import CLASSIFIERS_DIR, COURSE_CLASSIFIERS, MANIFEST, CourseCNN


@dataclass(frozen=True)
class Recipe:
    epochs: int
    batch_size: int = 128
    lr: float = 4e-3
    weight_decay: float = 5e-4
    train_images: int = 0  # shapes only: fresh images per epoch


RECIPES = {
    "digits-cnn": Recipe(epochs=20),
    "shapes-cnn": Recipe(epochs=5, train_images=10_000),
}
SHAPES_TEST_SEED = 999_999


def random_affine(x: torch.Tensor, gen: torch.Generator, *, shift=0.1, degrees=12.0, scale=0.1):
    """Small random rotations, scalings and shifts, one per image, applied in one grid_sample."""
    n = x.shape[0]
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(degrees)
    zoom = 1 + (torch.rand(n, generator=gen) * 2 - 1) * scale
    offset = (torch.rand(n, 2, generator=gen) * 2 - 1) * shift * 2
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack(
        [torch.stack([cos, -sin, offset[:, 0]], 1), torch.stack([sin, cos, offset[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


@torch.no_grad()
def accuracy(net: CourseCNN, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of images whose arg-max logit is the label."""
    predicted = net.logits(images).argmax(1)
    return float((predicted == labels.to(predicted.device)).float().mean())


def fit_classifier(
    net: CourseCNN,
    data: ImageSet | Callable[[int], ImageSet],
    *,
    epochs: int,
    batch_size: int = 128,
    lr: float = 4e-3,
    weight_decay: float = 5e-4,
    augment: bool = False,
    seed: int = 0,
    eval_set: ImageSet | None = None,
    log: Callable[[str], None] | None = None,
) -> CourseCNN:
    """Train ``net`` in place with AdamW and a one-cycle learning rate; returns it in eval mode.

    ``data`` is a labelled :class:`~lib.datasets.ImageSet` seen every epoch, or a function
    ``epoch -> ImageSet`` giving fresh images each epoch (all epochs must have the same size).
    ``augment`` applies :func:`random_affine` to every batch. Shuffling and augmentation draw from
    a generator seeded with ``seed`` and deterministic algorithms are enforced, so the result is
    reproducible for a given torch build and thread count.
    """
    first = data(0) if callable(data) else data
    if first.labels is None:
        raise ValueError("data: a classifier needs labelled images (ImageSet.labels is None)")
    n = len(first)
    steps_per_epoch = math.ceil(n / batch_size)
    gen = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr, epochs=epochs, steps_per_epoch=steps_per_epoch
    )
    device = net.device
    start = time.perf_counter()
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        for epoch in range(epochs):
            train_set = first if epoch == 0 or not callable(data) else data(epoch)
            if len(train_set) != n:
                raise ValueError(
                    f"data: epoch {epoch} has {len(train_set)} images, epoch 0 had {n}"
                )
            net.train()
            order = torch.randperm(n, generator=gen)
            total, correct = 0.0, 0
            for step in range(steps_per_epoch):
                idx = order[step * batch_size : (step + 1) * batch_size]
                x, y = train_set.images[idx], train_set.labels[idx]
                if augment:
                    x = random_affine(x, gen)
                x, y = x.to(device), y.to(device)
                logits = net.train_logits(x)
                loss = F.cross_entropy(logits, y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                schedule.step()
                total += float(loss.detach()) * len(y)
                correct += int((logits.argmax(1) == y).sum())
            net.eval()
            if log is not None:
                held_out = (
                    f", held-out acc {accuracy(net, eval_set.images, eval_set.labels):.4f}"
                    if eval_set is not None
                    else ""
                )
                log(
                    f"{net.name} epoch {epoch + 1}/{epochs}: loss {total / n:.4f}, "
                    f"train acc {correct / n:.4f}{held_out}, {time.perf_counter() - start:.0f} s"
                )
    finally:
        torch.use_deterministic_algorithms(previous)
    return net.eval()


def train_classifier(name: str, *, seed: int = 0, log=print) -> tuple[CourseCNN, dict]:
    """Train one course classifier from scratch; returns the network and a report."""
    if name not in COURSE_CLASSIFIERS:
        raise ValueError(f"name: unknown course classifier {name!r}; choose from {sorted(RECIPES)}")
    dataset, channels = COURSE_CLASSIFIERS[name]
    recipe = RECIPES[name]
    torch.manual_seed(seed)
    net = CourseCNN(channels, name=name)
    if dataset == "digits":
        data, test_set = digits("train"), digits("test")
    else:
        test_set = shapes(2000, seed=SHAPES_TEST_SEED)

        def data(epoch: int) -> ImageSet:
            return shapes(recipe.train_images, seed=seed * 1000 + epoch + 1)

    start = time.perf_counter()
    fit_classifier(
        net,
        data,
        epochs=recipe.epochs,
        batch_size=recipe.batch_size,
        lr=recipe.lr,
        weight_decay=recipe.weight_decay,
        augment=dataset == "digits",
        seed=seed,
        eval_set=test_set,
        log=log,
    )
    report = {
        "dataset": dataset,
        "test_accuracy": round(accuracy(net, test_set.images, test_set.labels), 6),
        "test_images": len(test_set),
        "seed": seed,
        "recipe": recipe.__dict__,
        "train_seconds": round(time.perf_counter() - start, 1),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    return net, report


def save_classifier(net: CourseCNN, report: dict, folder=CLASSIFIERS_DIR) -> None:
    """Write NAME.pt and its manifest entry (both atomically)."""
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    path = atomic_write(folder / f"{net.name}.pt", lambda fh: fh.write(buffer.getvalue()))
    manifest_path = folder / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    manifest[net.name] = {**report, "sha256": sha256_file(path)}
    text = json.dumps(dict(sorted(manifest.items())), indent=2) + "\n"
    atomic_write(manifest_path, lambda fh: fh.write(text), mode="w")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.features.train_classifiers")
    parser.add_argument("--only", choices=sorted(RECIPES), action="append")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in args.only or sorted(RECIPES):
        net, report = train_classifier(name, seed=args.seed)
        save_classifier(net, report)
        accuracy_, seconds = report["test_accuracy"], report["train_seconds"]
        print(f"{name}: held-out accuracy {accuracy_:.4f} in {seconds} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
