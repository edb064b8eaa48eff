"""``photos``: random crops from the photographs bundled with scikit-image, scikit-learn and
matplotlib (all inside their wheels, so they load offline)."""

from __future__ import annotations

from functools import cache

import numpy as np
import torch
from torchvision.ops import roi_align

from lib._checks import check_positive_int
from lib.datasets.base import ImageSet
from lib.device import resolve_device


def _skimage(name: str):
    import skimage.data

    image = getattr(skimage.data, name)()
    return image[0] if isinstance(image, tuple) else image  # stereo pairs: the left view


def _sklearn(name: str):
    from sklearn.datasets import load_sample_image

    return load_sample_image(f"{name}.jpg")


def _matplotlib(name: str):
    import matplotlib.cbook
    import matplotlib.image

    return matplotlib.image.imread(matplotlib.cbook.get_sample_data(name, asfileobj=False))


# name -> loader. Only colour photographs that ship inside the packages' wheels.
PHOTO_SOURCES = {
    "astronaut": lambda: _skimage("astronaut"),
    "chelsea": lambda: _skimage("chelsea"),
    "coffee": lambda: _skimage("coffee"),
    "rocket": lambda: _skimage("rocket"),
    "motorcycle": lambda: _skimage("stereo_motorcycle"),
    "hubble_deep_field": lambda: _skimage("hubble_deep_field"),
    "immunohistochemistry": lambda: _skimage("immunohistochemistry"),
    "china": lambda: _sklearn("china"),
    "flower": lambda: _sklearn("flower"),
    "grace_hopper": lambda: _matplotlib("grace_hopper.jpg"),
}


@cache
def load_photo(name: str) -> torch.Tensor:
    """One bundled photo as a 3×H×W float tensor in [0, 1]."""
    if name not in PHOTO_SOURCES:
        raise ValueError(f"name: unknown photo {name!r}; choose one of {sorted(PHOTO_SOURCES)}")
    array = np.asarray(PHOTO_SOURCES[name]())
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    array = np.ascontiguousarray(array[..., :3], dtype=np.float32)
    return torch.from_numpy(array).permute(2, 0, 1).contiguous()


def photos(
    n: int = 1000,
    *,
    size: int = 32,
    seed: int = 0,
    scale: tuple[float, float] = (0.1, 0.6),
    sources: tuple[str, ...] | None = None,
    device: str | torch.device = "cpu",
) -> ImageSet:
    """``n`` random square crops of the bundled photos, resized to size×size, in [0, 1].

    Each crop picks a photo uniformly, a side of ``scale`` × the photo's short side (uniform in
    the range), a position uniformly inside the photo, and a horizontal flip with probability
    1/2. Crops are resampled with ``torchvision.ops.roi_align`` (bilinear with adaptive
    supersampling, so large crops are averaged rather than aliased). Labels index the source photo.

    Args:
        n: number of crops.
        size: output side in pixels.
        seed: the random seed (all draws happen on the CPU, so devices agree).
        scale: (low, high) crop side as a fraction of the photo's short side, within (0, 1].
        sources: names from ``PHOTO_SOURCES`` to crop from (all by default).
        device: where to resample.
    """
    check_positive_int(n, "n")
    check_positive_int(size, "size", minimum=2)
    lo, hi = scale
    if not (0 < lo <= hi <= 1):
        raise ValueError(f"scale: expected 0 < low <= high <= 1, got {scale!r}")
    names = tuple(PHOTO_SOURCES) if sources is None else tuple(sources)
    if not names:
        raise ValueError("sources: give at least one photo name")
    for name in names:
        if name not in PHOTO_SOURCES:
            raise ValueError(
                f"sources: unknown photo {name!r}; choose from {sorted(PHOTO_SOURCES)}"
            )
    device = resolve_device(device)

    gen = torch.Generator().manual_seed(int(seed))
    source = torch.randint(0, len(names), (n,), generator=gen)
    side_frac = lo + (hi - lo) * torch.rand(n, generator=gen)
    pos = torch.rand(n, 2, generator=gen)
    flip = torch.rand(n, generator=gen) < 0.5

    out = torch.empty(n, 3, size, size, device=device)
    for k, name in enumerate(names):
        idx = torch.nonzero(source == k).squeeze(1)
        if idx.numel() == 0:
            continue
        photo = load_photo(name).to(device)
        h, w = photo.shape[-2:]
        side = side_frac[idx] * min(h, w)
        x0 = pos[idx, 0] * (w - side)
        y0 = pos[idx, 1] * (h - side)
        boxes = torch.stack([torch.zeros_like(x0), x0, y0, x0 + side, y0 + side], dim=1)
        crops = roi_align(photo[None], boxes.to(device), output_size=size, aligned=True)
        out[idx.to(device)] = crops
    flip = flip.to(device)
    out[flip] = out[flip].flip(-1)
    return ImageSet(out.clamp_(0, 1), source.to(device), names, "photos", {"seed": seed})
