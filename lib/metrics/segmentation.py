"""The segmentation score of generated street video: pixel accuracy and per-class IoU of a
segmentation network's prediction on generated frames against the label maps they were made from.

pix2pixHD (Wang et al. 2018, §4.1, Table 1) and vid2vid (Wang et al. 2018, §5) evaluate a
label-to-image generator this way: a segmentation network trained on **real** images (PSPNet,
DeepLabV3 on Cityscapes; here the course's :class:`~lib.features.segmentation.StreetSegmenter`)
segments the **generated** frame, and its prediction ŷ is compared with the input label map y.
A generator whose cars look like cars, where the labels put them, scores close to what the
network reaches on real frames (its own ceiling, recorded in its manifest); one that draws
blurry or wrong content scores lower.

With the confusion matrix ``M[i, j] = #{pixels p : y(p) = i, ŷ(p) = j}`` over all pixels of all
frames (classes 0 … C − 1, one ``bincount`` of ``C·y + ŷ``):

* pixel accuracy ``= Σ_c M[c, c] / Σ_{i,j} M[i, j]``;
* IoU of class c ``= M[c, c] / (Σ_j M[c, j] + Σ_i M[i, c] − M[c, c])`` (intersection over union
  of the pixels labelled c and those predicted c; Everingham et al. 2010, the PASCAL VOC measure);
  NaN for a class neither labelled nor predicted anywhere (0/0: no evidence either way);
* mean IoU: the mean over the classes whose IoU is defined (the NaN entries are skipped).

The matrix is computed over the whole set at once (not averaged per frame), as the Cityscapes
benchmark does; matrices of several batches add up (:func:`segmentation_confusion`,
:func:`scores_from_confusion`).
"""

from __future__ import annotations

import torch

from lib._checks import ArrayLike, as_tensor, check_clips, check_images, check_positive_int
from lib.datasets.street import STREET_CLASSES
from lib.device import resolve_device
from lib.features.segmentation import StreetSegmenter, load_street_segmenter

__all__ = [
    "scores_from_confusion",
    "segmentation_confusion",
    "segmentation_score",
    "segmentation_scores",
]

_NUM_CLASSES = len(STREET_CLASSES)


def _class_ids(x: ArrayLike, name: str, num_classes: int, ignore_index: int | None) -> torch.Tensor:
    t = as_tensor(x, name)
    if t.dtype == torch.bool or t.is_floating_point() or t.is_complex():
        hint = " (logits or scores need .argmax(dim=1) first)" if t.is_floating_point() else ""
        raise TypeError(f"{name}: expected integer class ids, got dtype {t.dtype}{hint}")
    if t.numel() == 0:
        raise ValueError(f"{name}: no pixels (shape {tuple(t.shape)})")
    lo, hi = (int(v) for v in torch.aminmax(t))
    if lo < 0 or hi >= num_classes:
        outside = (t < 0) | (t >= num_classes)
        if ignore_index is not None:
            outside &= t != ignore_index
        if bool(outside.any()):
            ignored = f" (or the ignore_index {ignore_index})" if ignore_index is not None else ""
            raise ValueError(
                f"{name}: class ids must lie in [0, {num_classes - 1}]{ignored} for "
                f"num_classes={num_classes}, got values in [{lo}, {hi}]"
            )
    return t


def segmentation_confusion(
    predicted: ArrayLike,
    labels: ArrayLike,
    num_classes: int = _NUM_CLASSES,
    *,
    ignore_index: int | None = None,
) -> torch.Tensor:
    """The C×C confusion matrix ``M[true, predicted]`` (int64, on the CPU) of two maps of class
    ids of the same shape (any leading shape: H×W, N×H×W, N×T×H×W, …), by one ``bincount``.

    Pixels whose label is ``ignore_index`` (e.g. 255, Cityscapes' "void") are left out; every
    other id must lie in [0, C). Matrices of several batches add up.
    """
    num_classes = check_positive_int(num_classes, "num_classes", minimum=2)
    if ignore_index is not None:
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
            raise TypeError(f"ignore_index: expected an integer or None, got {ignore_index!r}")
        if 0 <= ignore_index < num_classes:
            raise ValueError(
                f"ignore_index: {ignore_index} is one of the classes 0 … {num_classes - 1}; "
                "use an id outside them (e.g. 255)"
            )
    y = _class_ids(labels, "labels", num_classes, ignore_index)
    p = _class_ids(predicted, "predicted", num_classes, None)
    if tuple(p.shape) != tuple(y.shape):
        raise ValueError(
            f"predicted, labels: expected the same shape, got {tuple(p.shape)} and "
            f"{tuple(y.shape)} (predict class ids per pixel: N×H×W for N×3×H×W frames)"
        )
    p = p.to(y.device)
    y, p = y.reshape(-1).long(), p.reshape(-1).long()
    if ignore_index is not None:
        keep = y != ignore_index
        y, p = y[keep], p[keep]
    counts = torch.bincount(y * num_classes + p, minlength=num_classes * num_classes)
    return counts.view(num_classes, num_classes).cpu()


def scores_from_confusion(confusion: ArrayLike) -> dict:
    """Pixel accuracy, per-class IoU and mean IoU of a C×C confusion matrix ``M[true, pred]``
    (see the module docstring for the formulas); the dict of :func:`segmentation_scores`."""
    m = as_tensor(confusion, "confusion")
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] < 2:
        raise ValueError(f"confusion: expected a C×C matrix with C ≥ 2, got {tuple(m.shape)}")
    if m.is_floating_point() or m.dtype == torch.bool or m.is_complex():
        raise TypeError(f"confusion: expected integer pixel counts, got dtype {m.dtype}")
    m = m.cpu().long()
    if bool((m < 0).any()):
        raise ValueError("confusion: pixel counts must be non-negative")
    total = int(m.sum())
    if total == 0:
        raise ValueError("confusion: no pixels were counted (all of them ignored?)")
    counts = m.double()
    hits = counts.diagonal()
    union = counts.sum(1) + counts.sum(0) - hits
    iou = torch.where(union > 0, hits / union.clamp(min=1), torch.full_like(hits, float("nan")))
    defined = ~iou.isnan()
    return {
        "pixel_accuracy": float(hits.sum() / total),
        "iou": iou,
        "mean_iou": float(iou[defined].mean()),
        "confusion": m.clone(),
    }


def segmentation_scores(
    predicted: ArrayLike,
    labels: ArrayLike,
    num_classes: int = _NUM_CLASSES,
    *,
    ignore_index: int | None = None,
) -> dict:
    """Pixel accuracy and IoU of predicted class ids against label maps (same shape, any leading
    shape: H×W, N×H×W, N×T×H×W, …), from one confusion matrix over all pixels.

    Returns ``{"pixel_accuracy": float, "iou": C float64 tensor, "mean_iou": float,
    "confusion": C×C int64 tensor M[true, predicted]}``. ``iou[c]`` is NaN only for a class
    that is neither labelled nor predicted anywhere, and ``mean_iou`` skips it. Pixels labelled
    ``ignore_index`` are not counted. Formulas: the module docstring.
    """
    confusion = segmentation_confusion(predicted, labels, num_classes, ignore_index=ignore_index)
    return scores_from_confusion(confusion)


def segmentation_score(
    frames: ArrayLike,
    labels: ArrayLike,
    segmenter: StreetSegmenter | None = None,
    *,
    batch_size: int = 64,
    device: str | torch.device | None = None,
) -> dict:
    """The segmentation score of (generated) street frames: the course segmentation network
    (:func:`~lib.features.segmentation.load_street_segmenter`, trained on real frames) segments
    them and its prediction is scored against the label maps the frames were made from
    (:func:`segmentation_scores`; pix2pixHD §4.1, vid2vid §5).

    ``frames``: N×T×3×H×W clips or N×3×H×W images, float RGB in [0, 1], any size (the network
    resizes them to its own height); ``labels``: N×T×H×W or N×H×W integer class ids of
    :data:`~lib.datasets.street.STREET_CLASSES`. The frames go through the network
    ``batch_size`` at a time and the confusion matrix is accumulated batch by batch. The
    committed network is loaded onto ``device`` (default: the frames' device); a ``segmenter``
    passed in runs where it is. Returns the dict of :func:`segmentation_scores`.
    """
    x = as_tensor(frames, "frames")
    if x.ndim == 5:
        check_clips(x, "frames", channels=(3,), min_size=8)
    elif x.ndim == 4:
        check_images(x, "frames", channels=(3,), min_size=8)
    else:
        raise ValueError(
            f"frames: expected N×T×3×H×W clips or N×3×H×W RGB images, got {tuple(x.shape)}"
        )
    y = as_tensor(labels, "labels")
    expected = (*x.shape[:-3], *x.shape[-2:])
    if tuple(y.shape) != expected:
        raise ValueError(
            f"labels: expected one label map per frame, shape {expected}, got {tuple(y.shape)}"
        )
    batch_size = check_positive_int(batch_size, "batch_size")
    if segmenter is not None and not isinstance(segmenter, StreetSegmenter):
        raise TypeError(f"segmenter: expected a StreetSegmenter, got {type(segmenter).__name__}")
    num_classes = len(STREET_CLASSES) if segmenter is None else segmenter.num_classes
    y = _class_ids(y, "labels", num_classes, None)
    if segmenter is None:
        segmenter = load_street_segmenter().to(
            resolve_device(x.device if device is None else device)
        )
    x, y = x.reshape(-1, *x.shape[-3:]), y.reshape(-1, *y.shape[-2:])
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    for start in range(0, x.shape[0], batch_size):
        predicted = segmenter.predict(x[start : start + batch_size], batch_size=batch_size)
        confusion += segmentation_confusion(predicted, y[start : start + batch_size], num_classes)
    return scores_from_confusion(confusion)
