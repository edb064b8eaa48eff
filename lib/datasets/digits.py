"""``digits``: scikit-learn's bundled handwritten digits, upsampled to 32×32."""

from __future__ import annotations

from functools import lru_cache
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F

from lib._checks import check_choice
from lib.datasets.base import ImageSet

DIGIT_CLASSES = tuple(str(d) for d in range(10))
TEST_FRACTION = 0.2
SPLIT_SEED = 0  # the fixed split: never change it, results in the notebooks depend on it


@lru_cache(maxsize=1)
def _digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.utils import Bunch

    # Without return_X_y it returns a Bunch; the inferred type also has the (X, y) tuple.
    bunch = cast(Bunch, load_digits())
    images = bunch.images.astype(np.float32) / 16.0  # values 0..16 in the original
    labels = bunch.target.astype(np.int64)
    # Stratified split drawn once from a fixed RandomState (stable across numpy versions).
    rng = np.random.RandomState(SPLIT_SEED)
    is_test = np.zeros(len(labels), dtype=bool)
    for c in range(10):
        idx = np.flatnonzero(labels == c)
        chosen = rng.permutation(idx)[: int(round(TEST_FRACTION * len(idx)))]
        is_test[chosen] = True
    return images, labels, is_test, np.arange(len(labels))


def digits(split: str = "train", *, size: int = 32, channels: int = 1) -> ImageSet:
    """scikit-learn's 1,797 handwritten digits (8×8, 17 grey levels) as N×C×size×size in [0, 1].

    The split is fixed: a stratified 80/20 train/test split drawn once with
    ``numpy.random.RandomState(0)`` (1,438 train and 359 test images). Images are upsampled with
    bilinear interpolation (``align_corners=False``); ``channels=3`` repeats the grey channel.

    Args:
        split: ``"train"``, ``"test"`` or ``"all"``.
        size: output side in pixels (32 by default, the size of the course classifiers).
        channels: 1 (grey) or 3 (RGB).
    """
    check_choice(split, "split", ("train", "test", "all"))
    check_choice(channels, "channels", (1, 3))
    if not isinstance(size, int) or size < 8:
        raise ValueError(f"size: expected an integer of at least 8 pixels, got {size!r}")
    images, labels, is_test, _ = _digits_split()
    keep = {"train": ~is_test, "test": is_test, "all": np.ones_like(is_test)}[split]
    x = torch.from_numpy(images[keep]).unsqueeze(1)
    if size != 8:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    x = x.clamp_(0.0, 1.0)
    if channels == 3:
        x = x.expand(-1, 3, -1, -1).contiguous()
    y = torch.from_numpy(labels[keep])
    return ImageSet(x, y, DIGIT_CLASSES, "digits", {"split": split})
