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

__all__ = ["ClassifierFit", "accuracy", "fit_classifier", "random_affine"]


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


class ClassifierFit:
    """One fit of a course classifier, one optimisation step at a time.

    AdamW with a one-cycle learning rate over ``epochs × ceil(N / batch_size)`` steps; each epoch
    starts with a permutation drawn from ``gen`` (seeded with ``seed``), and ``augment`` applies
    :func:`random_affine` to every batch with the same generator. :func:`fit_classifier` runs
    every step; a resumable trainer runs them through its own loop instead and saves ``net``,
    ``opt``, ``schedule``, ``gen`` and :meth:`position` (the current epoch's permutation and its
    running sums, which a generator state alone cannot give back mid-epoch).
    Call :meth:`step` with deterministic algorithms enabled for reproducible results.
    """

    def __init__(
        self,
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
    ) -> None:
        self.net, self.data, self.epochs, self.batch_size = net, data, epochs, batch_size
        self.augment, self.eval_set, self.log = augment, eval_set, log
        self.first = data(0) if callable(data) else data
        _labels_of(self.first, "data")
        self.n = len(self.first)
        self.steps_per_epoch = math.ceil(self.n / batch_size)
        self.steps = epochs * self.steps_per_epoch
        self.gen = torch.Generator().manual_seed(int(seed))
        self.opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
        self.schedule = torch.optim.lr_scheduler.OneCycleLR(
            self.opt, max_lr=lr, epochs=epochs, steps_per_epoch=self.steps_per_epoch
        )
        self.start = time.perf_counter()
        self._train_set, self._labels = self.first, _labels_of(self.first, "data")
        self._order = torch.arange(0)
        self._loss_sum, self._correct = 0.0, 0

    def _load_epoch(self, epoch: int) -> None:
        data = self.data
        train_set = self.first if epoch == 0 or not callable(data) else data(epoch)
        if len(train_set) != self.n:
            raise ValueError(
                f"data: epoch {epoch} has {len(train_set)} images, epoch 0 had {self.n}"
            )
        self._train_set = train_set
        self._labels = _labels_of(train_set, f"data (epoch {epoch})")

    def step(self, step: int) -> dict[str, float]:
        """Optimisation step ``step`` (0-based, over all epochs); returns ``{"loss": …}``.

        The first step of an epoch loads its images and draws its permutation; the last one
        leaves the network in eval mode and logs the epoch.
        """
        epoch, within = divmod(step, self.steps_per_epoch)
        if within == 0:
            self._load_epoch(epoch)
            self._order = torch.randperm(self.n, generator=self.gen)
            self._loss_sum, self._correct = 0.0, 0
        net = self.net.train()
        idx = self._order[within * self.batch_size : (within + 1) * self.batch_size]
        x, y = self._train_set.images[idx], self._labels[idx]
        if self.augment:
            x = random_affine(x, self.gen)
        x, y = x.to(net.device), y.to(net.device)
        logits = net.train_logits(x)
        loss = F.cross_entropy(logits, y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.schedule.step()
        value = float(loss.detach())
        self._loss_sum += value * len(y)
        self._correct += int((logits.argmax(1) == y).sum())
        if within == self.steps_per_epoch - 1:
            net.eval()
            self._log_epoch(epoch)
        return {"loss": value}

    def _log_epoch(self, epoch: int) -> None:
        if self.log is None:
            return
        eval_set, n = self.eval_set, self.n
        held_out = (
            f", held-out acc "
            f"{accuracy(self.net, eval_set.images, _labels_of(eval_set, 'eval_set')):.4f}"
            if eval_set is not None
            else ""
        )
        self.log(
            f"{self.net.name} epoch {epoch + 1}/{self.epochs}: loss {self._loss_sum / n:.4f}, "
            f"train acc {self._correct / n:.4f}{held_out}, "
            f"{time.perf_counter() - self.start:.0f} s"
        )

    def position(self) -> dict:
        """Where the fit stands inside its epoch: the permutation and the running sums (plain
        lists and numbers, for a training state's ``extra``)."""
        return {
            "order": self._order.tolist(),
            "loss_sum": self._loss_sum,
            "correct": self._correct,
        }

    def restore_position(self, step: int, position: dict) -> None:
        """Continue at ``step`` (the number of steps done) from a :meth:`position` saved then;
        ``net``, ``opt``, ``schedule`` and ``gen`` are restored by the caller."""
        epoch, within = divmod(step, self.steps_per_epoch)
        if within == 0:  # the next step starts an epoch and draws its own permutation
            return
        self._load_epoch(epoch)
        self._order = torch.tensor(position["order"], dtype=torch.int64)
        self._loss_sum, self._correct = float(position["loss_sum"]), int(position["correct"])


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
    reproducible for a given torch build and thread count. The steps are those of
    :class:`ClassifierFit`, which a resumable trainer drives itself.
    """
    fit = ClassifierFit(
        net,
        data,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        augment=augment,
        seed=seed,
        eval_set=eval_set,
        log=log,
    )
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        for step in range(fit.steps):
            fit.step(step)
    finally:
        torch.use_deterministic_algorithms(previous)
    return net.eval()
