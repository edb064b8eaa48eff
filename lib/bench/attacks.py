"""Adversarial attacks: bench sets whose images look unchanged to a person but not to the
network a metric looks through (the "robust to attacks" criterion of the report card)."""

from __future__ import annotations

from numbers import Real

import torch
import torch.nn.functional as F

from lib.datasets import ImageSet
from lib.datasets.base import check_image_set
from lib.features import FeatureExtractor

__all__ = ["fgsm"]


def fgsm(network: FeatureExtractor, image_set: ImageSet, epsilon: float = 2 / 255) -> ImageSet:
    """An adversarial copy of ``image_set``: one fast-gradient-sign step (Goodfellow et al. 2015)

        x_adv = clip(x + ε · sign(∇_x CE(logits(x), y)), 0, 1),

    against ``network``'s classifier head, with y the set's labels (its predicted classes when
    it has none). Every pixel moves by at most ε (2/255: two grey levels); the labels are kept.
    """
    image_set = check_image_set(image_set, "image_set")
    if not isinstance(network, FeatureExtractor) or network.logits_tap is None:
        raise TypeError("network: expected a lib.features classifier (with a logits tap)")
    if isinstance(epsilon, bool) or not isinstance(epsilon, Real):
        raise TypeError(f"epsilon: expected a number, got {type(epsilon).__name__}")
    if not 0.0 <= float(epsilon) <= 1.0:
        raise ValueError(f"epsilon: must lie in [0, 1] (image units), got {epsilon}")
    device = network.device
    labels = image_set.labels
    if labels is None:
        labels = network.logits(image_set.images).argmax(1)
    was_training = network.training
    network.eval()
    out = []
    try:
        for start in range(0, len(image_set), 256):
            x = image_set.images[start : start + 256].to(device).float().requires_grad_(True)
            y = labels[start : start + 256].to(device).long()
            logits = network._run(x, (network.logits_tap,))[network.logits_tap]
            (grad,) = torch.autograd.grad(F.cross_entropy(logits, y, reduction="sum"), x)
            out.append((x + float(epsilon) * grad.sign()).clamp(0, 1).detach())
    finally:
        network.train(was_training)
    images = torch.cat(out).to(device=image_set.images.device, dtype=image_set.images.dtype)
    info = {"source": image_set.name, "attack": "fgsm", "epsilon": float(epsilon)}
    return ImageSet(images, image_set.labels, image_set.class_names, f"{image_set.name} fgsm", info)
