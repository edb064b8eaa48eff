"""MS-SSIM as a diversity measure: the mean MS-SSIM of pairs of generated images.

Odena, Olah & Shlens (2017, "Conditional Image Synthesis with Auxiliary Classifier GANs", ICML)
measure how varied a class-conditional GAN's samples are by the mean multi-scale SSIM of random
pairs of samples *of one class*: pairs of distinct, unrelated images have a low MS-SSIM, copies
have 1, so the mean rises as the samples of a class collapse. A class whose samples score above
the real training images of that class has lost variety. (They used 100 pairs per class.)

==========================  ====================================================================
:func:`image_pairs`         random pairs of distinct images, all within one class when labels
                            are given
:func:`pairwise_ms_ssim`    MS-SSIM of given pairs of images, batched
:func:`ms_ssim_diversity`   the mean over pairs (per class and overall)
:func:`scale_weights`       the first M of the paper's five scale weights, renormalised, for
                            images too small for five scales
==========================  ====================================================================

This module is not re-exported by :mod:`lib.metrics`; import it as ``lib.metrics.diversity``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch

from lib._checks import ArrayLike, as_tensor, check_images, check_positive_int, check_seed
from lib.metrics.ssim import MS_SSIM_WEIGHTS, ms_ssim

__all__ = [
    "MSSSIMDiversity",
    "image_pairs",
    "ms_ssim_diversity",
    "pairwise_ms_ssim",
    "scale_weights",
]


class MSSSIMDiversity(NamedTuple):
    """What :func:`ms_ssim_diversity` returns.

    ``mean``: the mean MS-SSIM over the pairs — without labels, over all pairs; with labels, the
    mean of the per-class means over the classes that have pairs (higher = less diverse).
    ``per_class``: with labels, one mean per class 0..C−1 (NaN where a class has fewer than two
    images), otherwise ``None``. ``values`` and ``pairs``: every pair's MS-SSIM and its two
    indices (P and P×2).
    """

    mean: float
    per_class: torch.Tensor | None
    values: torch.Tensor
    pairs: torch.Tensor


def scale_weights(levels: int) -> tuple[float, ...]:
    """The first ``levels`` of Wang et al.'s five MS-SSIM weights, divided by their sum.

    ``ms_ssim`` needs the short side to exceed (win_size − 1)·2^(M−1) pixels for M scales
    (160 px for five scales and the 11-tap window); a 32-px image allows M = 3 with a 7-tap
    window. Renormalising keeps the exponents summing to 1, as the five paper weights do
    (to rounding), so a uniform change of every term changes MS-SSIM by the same factor.
    """
    levels = check_positive_int(levels, "levels")
    if levels > len(MS_SSIM_WEIGHTS):
        raise ValueError(f"levels: at most {len(MS_SSIM_WEIGHTS)} scales, got {levels}")
    w = MS_SSIM_WEIGHTS[:levels]
    total = sum(w)
    return tuple(v / total for v in w)


def _check_labels(labels: ArrayLike, n: int) -> torch.Tensor:
    labels = as_tensor(labels, "labels").detach().cpu()
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or labels.is_complex():
        raise TypeError(f"labels: expected integer class labels, got dtype {labels.dtype}")
    if labels.shape != (n,):
        raise ValueError(f"labels: expected shape ({n},), one per image, got {tuple(labels.shape)}")
    labels = labels.long()
    if n and bool((labels < 0).any()):
        raise ValueError("labels: class labels must be >= 0")
    return labels


def _random_pairs(n: int, n_pairs: int | None, gen: torch.Generator) -> torch.Tensor:
    """Pairs (i, j) of distinct indices in 0..n−1: all i < j when ``n_pairs`` is None, else
    ``n_pairs`` pairs drawn independently and uniformly among the ordered pairs with i ≠ j."""
    if n_pairs is None:
        return torch.triu_indices(n, n, offset=1).T
    i = torch.randint(0, n, (n_pairs,), generator=gen)
    j = torch.randint(0, n - 1, (n_pairs,), generator=gen)
    j = j + (j >= i).long()  # skip i itself: j is uniform over the other n − 1 indices
    return torch.stack([i, j], dim=1)


def image_pairs(
    n: int,
    n_pairs: int | None = 100,
    *,
    labels: ArrayLike | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """Index pairs of two different images, a P×2 long tensor.

    Without ``labels``: ``n_pairs`` pairs of distinct indices of 0..n−1, each drawn uniformly
    among the n(n − 1) ordered pairs (independently, so a pair may come twice); ``None`` gives
    all n(n − 1)/2 pairs i < j. With ``labels`` (one integer class per image): the same within
    every class, ``n_pairs`` pairs *per class* (Odena et al.'s protocol), classes in increasing
    order; classes with fewer than two images give none. Two copies of one image at different
    indices count as a pair (that is what mode collapse looks like).
    """
    n = check_positive_int(n, "n", minimum=0)
    if n_pairs is not None:
        n_pairs = check_positive_int(n_pairs, "n_pairs")
    gen = torch.Generator().manual_seed(check_seed(seed))
    if labels is None:
        if n < 2:
            raise ValueError(f"n: need at least 2 images to make pairs, got {n}")
        return _random_pairs(n, n_pairs, gen)
    labels = _check_labels(labels, n)
    parts = []
    for c in torch.unique(labels).tolist():
        members = torch.nonzero(labels == c).squeeze(1)
        if members.numel() >= 2:
            parts.append(members[_random_pairs(members.numel(), n_pairs, gen)])
    if not parts:
        raise ValueError("labels: no class has two images, so there are no pairs within a class")
    return torch.cat(parts)


def pairwise_ms_ssim(
    images: torch.Tensor,
    pairs: torch.Tensor,
    *,
    batch_size: int = 512,
    **ms_ssim_kwargs: Any,
) -> torch.Tensor:
    """MS-SSIM(images[i], images[j]) for every row (i, j) of ``pairs``: a tensor of length P.

    ``images`` is a float N×C×H×W batch in [0, 1]; ``pairs`` a P×2 integer tensor of indices.
    The pairs go through :func:`lib.metrics.ms_ssim` (``reduction="none"``) ``batch_size`` at a
    time, on the images' device; ``ms_ssim_kwargs`` (``weights``, ``win_size``, ``sigma``, …) are
    passed on — small images need fewer scales, e.g. ``weights=scale_weights(3), win_size=7``
    for 32 px.
    """
    x = check_images(images, "images")
    batch_size = check_positive_int(batch_size, "batch_size")
    pairs = as_tensor(pairs, "pairs")
    if pairs.dtype.is_floating_point or pairs.dtype == torch.bool or pairs.is_complex():
        raise TypeError(f"pairs: expected integer indices, got dtype {pairs.dtype}")
    if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.shape[0] == 0:
        raise ValueError(
            f"pairs: expected a P×2 tensor of index pairs (P ≥ 1), got shape {tuple(pairs.shape)}"
        )
    pairs = pairs.long().to(x.device)
    if bool((pairs < 0).any()) or bool((pairs >= x.shape[0]).any()):
        raise ValueError(f"pairs: indices must lie in 0..{x.shape[0] - 1}")
    out = [
        ms_ssim(x[chunk[:, 0]], x[chunk[:, 1]], reduction="none", **ms_ssim_kwargs)
        for chunk in pairs.split(batch_size)
    ]
    return torch.cat(out)


def ms_ssim_diversity(
    images: torch.Tensor,
    labels: ArrayLike | None = None,
    *,
    n_pairs: int | None = 100,
    seed: int = 0,
    batch_size: int = 512,
    **ms_ssim_kwargs: Any,
) -> MSSSIMDiversity:
    """Mean MS-SSIM of random pairs of different images (Odena et al. 2017).

    With ``labels``: ``n_pairs`` random pairs within each class (:func:`image_pairs`), the mean
    per class, and their mean over the classes — Odena et al.'s intra-class measure, which rises
    as the samples of a class collapse; it says nothing about classes that are missing. Without
    labels: ``n_pairs`` random pairs of the whole set and their mean. ``n_pairs=None`` uses every
    pair. Higher means less diverse; copies score 1, unrelated natural images ≈ 0–0.2.

    ``ms_ssim_kwargs`` go to :func:`lib.metrics.ms_ssim` (see :func:`pairwise_ms_ssim`).
    """
    x = check_images(images, "images")
    pairs = image_pairs(x.shape[0], n_pairs, labels=labels, seed=seed)
    values = pairwise_ms_ssim(x, pairs, batch_size=batch_size, **ms_ssim_kwargs)
    cpu_values = values.detach().cpu().double()
    if labels is None:
        return MSSSIMDiversity(float(cpu_values.mean()), None, values, pairs)
    lab = _check_labels(labels, x.shape[0])
    pair_class = lab[pairs[:, 0].cpu()]
    num_classes = int(lab.max()) + 1
    sums = torch.zeros(num_classes, dtype=torch.float64).index_add_(0, pair_class, cpu_values)
    counts = torch.bincount(pair_class, minlength=num_classes).double()
    per_class = sums / counts  # NaN (0/0) where a class has no pairs
    return MSSSIMDiversity(float(per_class.nanmean()), per_class, values, pairs)
