"""CartoonGAN's unpaired data: independent batches of two sides (:func:`unpaired_batches`) and a
user's own cartoon frames and photos from two folders (:func:`unpaired_folders`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from lib._checks import check_positive_int
from lib.datasets.base import ImageSet
from lib.datasets.files import image_folder


# ----------------------------------------------------------------------------- unpaired sides
def _side(data, name: str) -> tuple[tuple[torch.Tensor, ...], bool]:
    """A side of the unpaired data as a tuple of aligned tensors, and whether it was one."""
    if isinstance(data, ImageSet):
        return (data.images,), True
    if isinstance(data, torch.Tensor):
        return (data,), True
    if isinstance(data, tuple | list) and data and all(isinstance(t, torch.Tensor) for t in data):
        lengths = {t.shape[0] for t in data}
        if len(lengths) != 1:
            raise ValueError(
                f"{name}: the aligned tensors must have the same length, got "
                f"{[t.shape[0] for t in data]}"
            )
        return tuple(data), False
    raise TypeError(
        f"{name}: expected an ImageSet, a tensor or a tuple of aligned tensors, got "
        f"{type(data).__name__}"
    )


def unpaired_batches(
    a: ImageSet | torch.Tensor | tuple[torch.Tensor, ...],
    b: ImageSet | torch.Tensor | tuple[torch.Tensor, ...],
    *,
    batch_size: int = 8,
    seed: int = 0,
    epochs: int | None = 1,
    drop_last: bool = True,
) -> Iterator[tuple]:
    """Batches of two *unpaired* sides, e.g. photos and cartoons: ``(batch_a, batch_b)``.

    Each side is shuffled with its own generator (seeded by ``(seed, 0)`` and ``(seed, 1)``)
    every epoch, so which photo meets which cartoon is random and changes between epochs. A side
    may be an ImageSet or a tensor (a batch is a tensor) or a tuple of aligned tensors that are
    indexed together (a batch is a tuple): CartoonGAN draws ``(cartoons, edge_smooth(cartoons))``
    as one side, so a cartoon and its smoothed copy stay together. An epoch has
    min(len a, len b) / batch_size batches (the longer side is subsampled; the last, short batch
    is dropped unless ``drop_last=False``). ``epochs=None`` repeats forever.
    """
    side_a, single_a = _side(a, "a")
    side_b, single_b = _side(b, "b")
    check_positive_int(batch_size, "batch_size")
    if epochs is not None:
        check_positive_int(epochs, "epochs")
    n = min(side_a[0].shape[0], side_b[0].shape[0])
    if n == 0:
        raise ValueError("a, b: both sides need at least one image")
    if drop_last and n < batch_size:
        raise ValueError(
            f"batch_size: {batch_size} is more than the shorter side has ({n}); lower it or pass "
            "drop_last=False"
        )
    gens = []
    for k in range(2):
        state = np.random.SeedSequence([int(seed) & (2**63 - 1), k]).generate_state(2, np.uint32)
        gens.append(torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1])))

    def pick(side, order):
        return tuple(t[order.to(t.device)] for t in side)

    epoch = 0
    while epochs is None or epoch < epochs:
        order_a = torch.randperm(side_a[0].shape[0], generator=gens[0])
        order_b = torch.randperm(side_b[0].shape[0], generator=gens[1])
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            batch_a = pick(side_a, order_a[start : start + batch_size])
            batch_b = pick(side_b, order_b[start : start + batch_size])
            yield (
                batch_a[0] if single_a else batch_a,
                batch_b[0] if single_b else batch_b,
            )
        epoch += 1


def unpaired_folders(
    cartoon_dir: str | Path,
    photo_dir: str | Path,
    *,
    size: int | tuple[int, int] = 256,
    crop: bool = True,
    recursive: bool = True,
    skip_bad: bool = False,
) -> tuple[ImageSet, ImageSet]:
    """A user's own unpaired data: cartoon (e.g. anime) frames from one folder and photos from
    another, both as N×3×H×W floats in [0, 1] at one size, through
    :func:`lib.datasets.image_folder`. With ``crop`` (default) each image is centre-cropped to
    the target aspect ratio before resizing, so nothing is stretched (CartoonGAN trains on
    256×256). Labels are dropped: the two sides are unpaired and unlabelled."""
    if isinstance(size, bool) or not isinstance(size, int | tuple | list):
        raise TypeError(f"size: expected an int or (height, width), got {size!r}")
    sets = []
    for path, name in ((cartoon_dir, "cartoons"), (photo_dir, "photos")):
        s = image_folder(
            path, size=size, crop=crop, mode="RGB", recursive=recursive, skip_bad=skip_bad
        )
        sets.append(ImageSet(s.images, None, (), name, {**s.info, "path": str(path)}))
    return sets[0], sets[1]
