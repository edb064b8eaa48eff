"""Pose pre-processing of Everybody Dance Now (Chan et al. 2019): smoothing and normalisation.

Keypoints are T×J×2 float tensors of (x, y) pixel coordinates (y grows downwards), joints in
OpenPose's BODY_25 order (its first 15 joints, as :mod:`lib.datasets.puppet` produces them). A
missing joint is a NaN coordinate or, when a T×J ``confidence`` is given, a confidence at or
below ``min_confidence`` (OpenPose reports missing joints as (0, 0) with confidence 0).

* :func:`smooth_keypoints`: a temporal median over a window of frames that skips missing
  joints and fills a gap from the frames around it (the paper smooths over 7 frames);
* :func:`floor_statistics`, :func:`fit_pose_normalisation`, :func:`normalise_poses`: the global
  pose normalisation of §3.3 and the appendix, which maps the source's poses into the target's
  picture: the feet onto the target's floor, the body to the target's height at that distance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from lib._checks import ArrayLike, as_tensor, check_positive_int
from lib.datasets.puppet import ANKLES

NOSE = 0


def _check_keypoints(keypoints, name: str, needed: Sequence[int] = ()) -> torch.Tensor:
    x = as_tensor(keypoints, name)
    if x.dtype == torch.bool or x.is_complex():
        raise TypeError(f"{name}: expected real (x, y) coordinates, got dtype {x.dtype}")
    if not x.is_floating_point():
        x = x.double()
    elif x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()
    if x.ndim != 3 or x.shape[-1] != 2:
        hint = " (add a frame dimension with keypoints[None])" if x.ndim == 2 else ""
        raise ValueError(
            f"{name}: expected a T×J×2 tensor of (x, y) pixel coordinates, got shape "
            f"{tuple(x.shape)}{hint}"
        )
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name}: no frames or no joints (shape {tuple(x.shape)})")
    if needed and max(needed) >= x.shape[1]:
        raise ValueError(
            f"{name}: joint index {max(needed)} is needed but the keypoints have only "
            f"{x.shape[1]} joints; pass the ankle/head indices of your joint order"
        )
    if bool(torch.isinf(x).any()):
        raise ValueError(f"{name}: contains infinite values; mark missing joints with NaN instead")
    return x


def _missing(kp: torch.Tensor, confidence, min_confidence: float, name: str) -> torch.Tensor:
    """T×J mask of missing joints: NaN coordinates or confidence <= min_confidence."""
    gone = torch.isnan(kp).any(dim=-1)
    if confidence is None:
        return gone
    c = as_tensor(confidence, name)
    if tuple(c.shape) != tuple(kp.shape[:2]):
        raise ValueError(
            f"{name}: expected shape {tuple(kp.shape[:2])} (frames × joints) to match the "
            f"keypoints, got {tuple(c.shape)}"
        )
    if c.dtype == torch.bool:
        c = c.float()
    if bool(torch.isnan(c.float()).any()):
        raise ValueError(f"{name}: contains NaN; use 0 for a missing joint")
    return gone | (c.to(kp.device) <= min_confidence)


def _check_fraction(value, name: str, *, low_open: bool = False) -> float:
    ok = isinstance(value, int | float) and math.isfinite(value) and 0.0 <= value <= 1.0
    if not ok or (low_open and value == 0):
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{name}: expected a number in {interval}, got {value!r}")
    return float(value)


# ------------------------------------------------------------------------------------ smoothing
def smooth_keypoints(
    keypoints: ArrayLike,
    confidence: ArrayLike | None = None,
    *,
    window: int = 7,
    min_confidence: float = 0.0,
) -> torch.Tensor:
    """Temporal median filter of keypoints that ignores missing joints and fills gaps.

    For frame ``t`` and joint ``j``, each coordinate becomes the median over the frames
    ``s`` with ``|s − t| ≤ window // 2`` in which joint ``j`` is present::

        k̃[t, j] = median{ k[s, j] : |s − t| ≤ ⌊window / 2⌋, joint j present in frame s }

    (x and y separately; with an even number of values the lower of the two middle ones, as
    :func:`torch.nanmedian` does). A missing joint is filled whenever a frame of its window has
    it; it stays NaN when none does. At the ends of the clip the window is cut short. A single
    outlier — in fact up to ``window // 2`` in one window — is removed, and jitter shrinks.

    Args:
        keypoints: T×J×2 (x, y) pixel coordinates; NaN marks a missing joint.
        confidence: optional T×J confidences; joints at or below ``min_confidence`` are missing.
        window: odd number of frames (7 in the paper; 1 only fills nothing and changes nothing).
        min_confidence: the confidence at or below which a joint counts as missing.

    Returns the smoothed T×J×2 keypoints (NaN where a joint had no neighbour to fill it from),
    in the input's float dtype and on its device.
    """
    kp = _check_keypoints(keypoints, "keypoints")
    check_positive_int(window, "window")
    if window % 2 == 0:
        raise ValueError(f"window: expected an odd number of frames (centred), got {window}")
    if not (isinstance(min_confidence, int | float) and math.isfinite(min_confidence)):
        raise ValueError(f"min_confidence: expected a number, got {min_confidence!r}")
    gone = _missing(kp, confidence, min_confidence, "confidence")
    values = kp.masked_fill(gone[..., None], float("nan"))
    half = window // 2
    pad = values.new_full((half, *values.shape[1:]), float("nan"))
    padded = torch.cat([pad, values, pad], dim=0)
    windows = padded.unfold(0, window, 1)  # T×J×2×window
    return torch.nanmedian(windows, dim=-1).values


# -------------------------------------------------------------------------------- normalisation
@dataclass(frozen=True)
class FloorStatistics:
    """Where a subject's feet go in its video, and how tall it looks there (pixels).

    ``close``/``far``: the largest/smallest ankle row (y grows downwards, so the largest row is
    the position closest to the camera); ``height_close``/``height_far``: the body's height
    (ankle row − head row) at those positions; ``centre_x``: the median column of the feet.
    """

    close: float
    far: float
    height_close: float
    height_far: float
    centre_x: float
    frames: int


def _feet(kp: torch.Tensor, gone: torch.Tensor, ankles: Sequence[int]):
    """Per frame: the ankle row of the lower visible ankle (the foot on the floor), the mean
    column of the visible ankles, and whether any ankle is visible."""
    idx = list(ankles)
    ay, ax = kp[:, idx, 1], kp[:, idx, 0]
    seen = ~gone[:, idx]
    row = torch.where(seen, ay, torch.full_like(ay, -math.inf)).amax(dim=1)
    col = torch.where(seen, ax, torch.zeros_like(ax)).sum(dim=1) / seen.sum(dim=1).clamp(min=1)
    return row, col, seen.any(dim=1)


def _heights(kp: torch.Tensor, gone: torch.Tensor, rows: torch.Tensor, head: Sequence[int]):
    """Ankle row minus the highest visible head joint's row (NaN without one)."""
    idx = list(head)
    hy = kp[:, idx, 1]
    seen = ~gone[:, idx]
    top = torch.where(seen, hy, torch.full_like(hy, math.inf)).amin(dim=1)
    return torch.where(seen.any(dim=1), rows - top, torch.full_like(rows, math.nan))


def floor_statistics(
    keypoints: ArrayLike,
    confidence: ArrayLike | None = None,
    *,
    ankles: Sequence[int] = ANKLES,
    head: Sequence[int] = (NOSE,),
    band: float = 0.1,
    quantile: float = 0.9,
    min_confidence: float = 0.0,
) -> FloorStatistics:
    """The closest/farthest ankle rows of a clip and the subject's height at each.

    The ankle row of a frame is that of its lower visible ankle (the foot on the floor). The
    closest position is the largest ankle row over the clip, the farthest the smallest. The
    height at the closest position is the ``quantile`` of ankle row − head row over the frames
    whose ankle row lies within ``band × (close − far)`` of ``close`` (likewise for ``far``): a
    high quantile rather than the mean, because bent knees and a bowed head make a dancer
    shorter, never taller, than when standing. When the ankle never moves, all frames count.

    Args:
        keypoints: T×J×2 pixel coordinates (NaN: missing).
        confidence: optional T×J confidences (at or below ``min_confidence``: missing).
        ankles: indices of the ankle joints (BODY_25: 11, 14; COCO-18: 10, 13).
        head: indices of the joints whose highest one marks the top of the body (the nose).
        band: width of the windows around the closest and farthest rows, as a fraction of the
            ankle range.
        quantile: which quantile of the heights in a window is the standing height.
        min_confidence: confidence at or below which a joint is missing.
    """
    kp = _check_keypoints(keypoints, "keypoints", needed=(*ankles, *head))
    band = _check_fraction(band, "band")
    quantile = _check_fraction(quantile, "quantile")
    gone = _missing(kp, confidence, min_confidence, "confidence")
    rows, cols, has_feet = _feet(kp, gone, ankles)
    if not bool(has_feet.any()):
        raise ValueError("keypoints: no frame has a visible ankle; cannot find the floor")
    heights = _heights(kp, gone, rows, head)
    valid_rows = rows[has_feet]
    close, far = float(valid_rows.max()), float(valid_rows.min())
    span = close - far
    usable = has_feet & torch.isfinite(heights)
    if span > 1e-6:
        near_close = usable & (rows >= close - band * span)
        near_far = usable & (rows <= far + band * span)
    else:
        near_close = near_far = usable
    if not bool(near_close.any()) or not bool(near_far.any()):
        raise ValueError(
            "keypoints: no frame near the closest or farthest ankle position shows the head "
            f"joints {tuple(head)}; widen band or pass other head joints"
        )
    h_close = float(torch.quantile(heights[near_close].double(), quantile))
    h_far = float(torch.quantile(heights[near_far].double(), quantile))
    if h_close <= 0 or h_far <= 0:
        raise ValueError(
            "keypoints: the head is not above the ankles (height <= 0); check that y grows "
            "downwards and that the ankle and head indices match the joint order"
        )
    return FloorStatistics(
        close=close,
        far=far,
        height_close=h_close,
        height_far=h_far,
        centre_x=float(cols[has_feet].median()),
        frames=int(kp.shape[0]),
    )


@dataclass(frozen=True)
class PoseNormalisation:
    """Everybody Dance Now's global pose normalisation, fitted to a source and a target clip.

    For a source frame whose ankle row is ``f`` (the lower visible ankle)::

        p       = (f − far_s) / (close_s − far_s)                  position between far and close
        s_close = height_close_t / height_close_s,  s_far = height_far_t / height_far_s
        s       = s_far + p (s_close − s_far)                       scale
        t       = far_t + p (close_t − far_t)                       the target's ankle row
        y'      = t + s (y − f)                                     (translation b = t − f)
        x'      = x_f + s (x − x_f) + (centre_x_t − centre_x_s)     x_f: the frame's feet column

    so a source at its closest position lands on the target's closest floor row at the target's
    height there, likewise at the farthest, and in between both interpolate linearly (under
    perspective, height is linear in the floor row, so this is exact for a flat floor). The
    horizontal shift between the clips' median feet columns is not in the paper, which only
    places the body vertically; ``horizontal=False`` drops it. A source clip whose ankle never
    moves (``close_s = far_s``) uses ``p = 1/2``. Frames without a visible ankle take ``f`` and
    ``x_f`` from the nearest frame that has one. ``p`` is not clipped: frames beyond the fitted
    range are extrapolated.
    """

    source: FloorStatistics
    target: FloorStatistics
    ankles: tuple[int, ...] = ANKLES
    horizontal: bool = True
    min_confidence: float = 0.0

    @property
    def scale_close(self) -> float:
        return self.target.height_close / self.source.height_close

    @property
    def scale_far(self) -> float:
        return self.target.height_far / self.source.height_far

    def parameters(
        self, keypoints: ArrayLike, confidence: ArrayLike | None = None
    ) -> dict[str, torch.Tensor]:
        """Per frame: ``position`` p, ``scale`` s, ``ankle_row`` f, ``target_row`` t and
        ``feet_x`` x_f of source keypoints (T each)."""
        kp = _check_keypoints(keypoints, "keypoints", needed=self.ankles)
        gone = _missing(kp, confidence, self.min_confidence, "confidence")
        rows, cols, has_feet = _feet(kp, gone, self.ankles)
        if not bool(has_feet.any()):
            raise ValueError("keypoints: no frame has a visible ankle; cannot place the body")
        if not bool(has_feet.all()):
            frames = torch.arange(kp.shape[0], device=kp.device)
            known = frames[has_feet]
            nearest = known[(frames[:, None] - known[None]).abs().argmin(dim=1)]
            rows, cols = rows[nearest], cols[nearest]
        src, tgt = self.source, self.target
        span = src.close - src.far
        if span > 1e-6:
            p = (rows - src.far) / span
        else:
            p = torch.full_like(rows, 0.5)
        scale = self.scale_far + p * (self.scale_close - self.scale_far)
        target_row = tgt.far + p * (tgt.close - tgt.far)
        return {
            "position": p,
            "scale": scale,
            "ankle_row": rows,
            "target_row": target_row,
            "feet_x": cols,
        }

    def __call__(self, keypoints, confidence=None) -> torch.Tensor:
        """The source keypoints (T×J×2) mapped into the target's picture; NaN stays NaN."""
        kp = _check_keypoints(keypoints, "keypoints", needed=self.ankles)
        par = self.parameters(kp, confidence)
        s = par["scale"][:, None]
        shift = (self.target.centre_x - self.source.centre_x) if self.horizontal else 0.0
        x_f = par["feet_x"][:, None]
        out = torch.empty_like(kp)
        out[..., 0] = x_f + s * (kp[..., 0] - x_f) + shift
        out[..., 1] = par["target_row"][:, None] + s * (kp[..., 1] - par["ankle_row"][:, None])
        return out


def fit_pose_normalisation(
    source: ArrayLike,
    target: ArrayLike,
    *,
    source_confidence: ArrayLike | None = None,
    target_confidence: ArrayLike | None = None,
    ankles: Sequence[int] = ANKLES,
    head: Sequence[int] = (NOSE,),
    band: float = 0.1,
    quantile: float = 0.9,
    horizontal: bool = True,
    min_confidence: float = 0.0,
) -> PoseNormalisation:
    """Fit :class:`PoseNormalisation` (its docstring has the formula) to a source clip's and a
    target clip's keypoints (T×J×2 each, any lengths); the statistics come from
    :func:`floor_statistics` with ``ankles``, ``head``, ``band`` and ``quantile``."""

    def statistics(keypoints: ArrayLike, confidence: ArrayLike | None) -> FloorStatistics:
        return floor_statistics(
            keypoints,
            confidence,
            ankles=ankles,
            head=head,
            band=band,
            quantile=quantile,
            min_confidence=min_confidence,
        )

    src = statistics(source, source_confidence)
    tgt = statistics(target, target_confidence)
    return PoseNormalisation(
        src, tgt, tuple(int(a) for a in ankles), bool(horizontal), float(min_confidence)
    )


def normalise_poses(
    source: ArrayLike,
    target: ArrayLike,
    *,
    source_confidence: ArrayLike | None = None,
    target_confidence: ArrayLike | None = None,
    **options: Any,
) -> torch.Tensor:
    """The source clip's keypoints mapped into the target's picture: fit the normalisation of
    :class:`PoseNormalisation` on both clips and apply it to the source. ``options`` go to
    :func:`fit_pose_normalisation`."""
    norm = fit_pose_normalisation(
        source,
        target,
        source_confidence=source_confidence,
        target_confidence=target_confidence,
        **options,
    )
    return norm(source, source_confidence)


__all__ = [
    "FloorStatistics",
    "PoseNormalisation",
    "fit_pose_normalisation",
    "floor_statistics",
    "normalise_poses",
    "smooth_keypoints",
]
