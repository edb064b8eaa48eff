"""Fitting a course classifier to labelled images: AdamW with a one-cycle learning rate, optional
random-affine augmentation, seeded shuffling and deterministic algorithms.

One routine for everything that trains a :class:`~lib.features.classifiers.CourseCNN`: the course
classifiers' recipe (:mod:`lib.train.recipes.classifiers`) and the classifiers that GAN-train /
GAN-test fit on real and generated images (:mod:`lib.metrics.classifier_tests`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from lib.datasets import ImageSet
from lib.features.base import FeatureExtractor
from lib.features.classifiers import CourseCNN

__all__ = ["accuracy", "fit_classifier", "random_affine"]


def random_affine(
    x: torch.Tensor,
    gen: torch.Generator,
    *,
    shift: float = 0.1,
    degrees: float = 12.0,
    scale: float = 0.1,
) -> torch.Tensor:
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
def accuracy(net: FeatureExtractor, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of images whose arg-max logit is the label."""
    predicted = net.logits(images).argmax(1)
    return float((predicted == labels.to(predicted.device)).float().mean())


def _labels_of(data: ImageSet, name: str) -> torch.Tensor:
    if data.labels is None:
        raise ValueError(f"{name}: a classifier needs labelled images (ImageSet.labels is None)")
    return data.labels


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
    _labels_of(first, "data")
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
            labels = _labels_of(train_set, f"data (epoch {epoch})")
            net.train()
            order = torch.randperm(n, generator=gen)
            total, correct = 0.0, 0
            for step in range(steps_per_epoch):
                idx = order[step * batch_size : (step + 1) * batch_size]
                x, y = train_set.images[idx], labels[idx]
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
                    f", held-out acc "
                    f"{accuracy(net, eval_set.images, _labels_of(eval_set, 'eval_set')):.4f}"
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
