"""CartoonGAN's edge-smoothed cartoons (Chen, Lai & Liu, CVPR 2018, §3.2), through OpenCV.

The paper's reference code (and its widely used PyTorch / TensorFlow ports) makes the negatives
with ``cv2.Canny(grey, 100, 200)`` on the 8-bit grey image, ``cv2.dilate`` with a 5×5 block of
ones, and inside the dilated band each pixel replaced by its 5×5 Gaussian blur
(``cv2.getGaussianKernel(5, 0)``, borders reflected), at 256×256. The functions here call those
same OpenCV routines, one image at a time on the CPU (OpenCV has no batch axis and no GPU path in
the wheels the course installs); results go back to the device the images came from. Nothing here
is differentiated through: the negatives are made once, before training, and the edge statistics
of :mod:`lib.metrics.cartoon` are read-outs, so the batched torch port that stood here before
bought nothing but code to keep identical to OpenCV.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch

from lib._checks import ArrayLike, check_images, check_positive_int
from lib.datasets.base import ImageSet

CANNY_THRESHOLDS = (100, 200)
DILATE_SIZE = 5
BLUR_SIZE = 5


def _check_odd(value, name: str, minimum: int = 1) -> int:
    check_positive_int(value, name, minimum)
    if value % 2 == 0:
        raise ValueError(f"{name}: expected an odd kernel size (3, 5, 7, …), got {value}")
    return value


def _check_thresholds(low, high) -> tuple[int, int]:
    for value, name in ((low, "low"), (high, "high")):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise TypeError(
                f"{name}: expected a finite number (0–255 grey-level units), got {value!r}"
            )
        if value < 0:
            raise ValueError(f"{name}: expected a threshold >= 0, got {value!r}")
    if low > high:
        raise ValueError(f"low: must not exceed high, got low={low!r} > high={high!r}")
    return math.floor(low), math.floor(high)


def _as_images(images, name: str = "images", min_size: int = 3) -> torch.Tensor:
    if isinstance(images, ImageSet):
        images = images.images
    return check_images(images, name, channels=(1, 3), min_size=min_size)


def _grey_levels(x: torch.Tensor) -> np.ndarray:
    """N×H×W uint8 grey levels: the image rounded to 8 bits (half to even) and, for colour
    images, ``cv2.cvtColor(RGB2GRAY)``'s BT.601 luma in fixed point."""
    q = torch.round(x.detach().float().cpu() * 255).to(torch.uint8)
    if q.shape[1] == 1:
        return q[:, 0].numpy()
    rgb = q.permute(0, 2, 3, 1).contiguous().numpy()
    return np.stack([cv2.cvtColor(im, cv2.COLOR_RGB2GRAY) for im in rgb])


def _canny_masks(x: torch.Tensor, lo: int, hi: int) -> np.ndarray:
    """N×H×W uint8 Canny masks (0 or 255) of the images' grey levels."""
    return np.stack([cv2.Canny(grey, lo, hi) for grey in _grey_levels(x)])


def _dilate_masks(masks: np.ndarray, size: int) -> np.ndarray:
    """``cv2.dilate`` of each N×H×W uint8 mask with a size×size block of ones (nothing outside
    the image: OpenCV's default border for morphology)."""
    if size == 1:
        return masks.copy()
    kernel = np.ones((size, size), np.uint8)
    return np.stack([cv2.dilate(m, kernel) for m in masks])


def _as_mask(masks: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(masks > 0)[:, None].to(device)


def canny(
    images: ArrayLike | ImageSet,
    low: float = CANNY_THRESHOLDS[0],
    high: float = CANNY_THRESHOLDS[1],
) -> torch.Tensor:
    """Canny edges of a batch, ``cv2.Canny(grey, low, high)`` per image (N×1×H×W bool, on the
    images' device).

    1. grey = ``cv2.cvtColor(RGB2GRAY)`` of the image rounded to 8 bits (the BT.601 luma
       0.299 R + 0.587 G + 0.114 B in fixed point), or the 8-bit image itself;
    2. gx, gy = 3×3 Sobel derivatives (replicated borders); magnitude m = |gx| + |gy| (L1, the
       default of cv2.Canny);
    3. non-maximum suppression along the gradient quantised to 0°, 45°, 90° or 135°; pixels with
       m > low that survive are candidates, those with m > high are strong;
    4. hysteresis: a candidate is an edge when a chain of 8-connected candidates joins it to a
       strong pixel.

    Thresholds are in OpenCV's units (the Sobel magnitude of 0–255 grey levels; compared as
    m > ⌊low⌋ and m > ⌊high⌋). CartoonGAN uses (100, 200).
    """
    x = _as_images(images)
    lo, hi = _check_thresholds(low, high)
    return _as_mask(_canny_masks(x, lo, hi), x.device)


def edge_band(
    images: ArrayLike | ImageSet,
    *,
    low: float = CANNY_THRESHOLDS[0],
    high: float = CANNY_THRESHOLDS[1],
    dilate: int = DILATE_SIZE,
) -> torch.Tensor:
    """The dilated Canny edge mask: ``cv2.dilate(cv2.Canny(grey, low, high), ones(dilate,
    dilate))`` for a batch (N×1×H×W bool). CartoonGAN: (100, 200), 5×5."""
    x = _as_images(images)
    lo, hi = _check_thresholds(low, high)
    _check_odd(dilate, "dilate")
    return _as_mask(_dilate_masks(_canny_masks(x, lo, hi), dilate), x.device)


def opencv_gaussian_kernel(size: int) -> torch.Tensor:
    """``cv2.getGaussianKernel(size, 0)`` as a 1-D float64 tensor (sums to 1): OpenCV's fixed
    tables for sizes up to 9 (size 5 is the binomial [1, 4, 6, 4, 1]/16) and otherwise a
    Gaussian with σ = 0.3·((size − 1)/2 − 1) + 0.8."""
    _check_odd(size, "size")
    return torch.from_numpy(cv2.getGaussianKernel(size, 0)[:, 0].copy())


def gaussian_blur(images: ArrayLike | ImageSet, size: int = BLUR_SIZE) -> torch.Tensor:
    """Blur every channel with OpenCV's size×size Gaussian (:func:`opencv_gaussian_kernel`):
    ``cv2.GaussianBlur(x, (size, size), 0)`` per image, with mirrored borders
    (``BORDER_REFLECT_101``, numpy's ``mode="reflect"``), as CartoonGAN's reference code does.
    Images need more than size // 2 pixels per side."""
    _check_odd(size, "size")
    x = _as_images(images, min_size=size // 2 + 1)
    return _blur(x, size)


def _blur(x: torch.Tensor, size: int) -> torch.Tensor:
    if size == 1:
        return x.clone()
    work = x.detach().cpu()
    if work.dtype not in (torch.float32, torch.float64):  # OpenCV filters only these floats
        work = work.float()
    hwc = work.permute(0, 2, 3, 1).contiguous().numpy()
    out = np.stack(
        [
            cv2.GaussianBlur(im, (size, size), 0, borderType=cv2.BORDER_REFLECT_101).reshape(
                im.shape
            )  # OpenCV drops a single channel axis
            for im in hwc
        ]
    )
    return torch.from_numpy(out).permute(0, 3, 1, 2).to(x.device, x.dtype)


def edge_smooth(
    images: ArrayLike | ImageSet,
    *,
    low: float = CANNY_THRESHOLDS[0],
    high: float = CANNY_THRESHOLDS[1],
    dilate: int = DILATE_SIZE,
    blur: int = BLUR_SIZE,
    return_mask: bool = False,
) -> torch.Tensor | ImageSet | tuple[torch.Tensor | ImageSet, torch.Tensor]:
    """CartoonGAN's edge-smoothed cartoons (Chen, Lai & Liu 2018, §3.2): the negatives that teach
    the discriminator that a cartoon has *clear* edges.

    m = dilate(Canny(x, low, high), dilate×dilate) (:func:`edge_band`), and

        x_smooth = m · blur(x) + (1 − m) · x,

    with blur = OpenCV's blur×blur Gaussian (:func:`gaussian_blur`). The reference code's
    parameters are the defaults: Canny (100, 200) on the 8-bit grey image, a 5×5 dilation, a
    5×5 Gaussian (cv2.getGaussianKernel(5, 0) = binomial [1, 4, 6, 4, 1]/16, σ = 1), reflected
    borders; the authors work at 256×256. One blur of each image and a mask replace the
    reference code's per-pixel loop; pixels outside the band are returned unchanged, bit for bit.

    Args:
        images: N×C×H×W floats in [0, 1] (C = 1 or 3), or an ImageSet (then an ImageSet with the
            same labels is returned).
        low, high: Canny thresholds in OpenCV's units (see :func:`canny`).
        dilate, blur: odd kernel sizes.
        return_mask: also return the band m (N×1×H×W bool).
    """
    source = images if isinstance(images, ImageSet) else None
    x = _as_images(images, min_size=3)
    lo, hi = _check_thresholds(low, high)
    _check_odd(dilate, "dilate")
    _check_odd(blur, "blur")
    if blur // 2 >= min(x.shape[-2:]):
        raise ValueError(
            f"blur: a {blur}×{blur} kernel needs images larger than {blur // 2} pixels, got "
            f"{x.shape[-2]}×{x.shape[-1]}"
        )
    mask = _as_mask(_dilate_masks(_canny_masks(x, lo, hi), dilate), x.device)
    smooth = torch.where(mask, _blur(x, blur), x)
    if source is not None:
        info = {
            **source.info,
            "edge_smooth": {"low": low, "high": high, "dilate": dilate, "blur": blur},
        }
        smooth = ImageSet(
            smooth, source.labels, source.class_names, f"{source.name}-smoothed", info
        )
    return (smooth, mask) if return_mask else smooth
