"""Optical flow estimated from the frames alone: OpenCV's DIS with a forward–backward occlusion
check. It stands in for FlowNet2 wherever the course needs flow it does not know exactly (the
vid2vid generator on real clips, the estimated warping error of generated video).

Flow follows :mod:`lib.video.warp`: backward, in pixels, x then y.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from lib._checks import LUMA, ArrayLike, check_choice, check_clips
from lib.video.warp import warp

__all__ = ["DIS_PRESETS", "estimate_flow"]

DIS_PRESETS = ("ultrafast", "fast", "medium")


def _grey_uint8(frames: torch.Tensor) -> np.ndarray:
    luma = torch.tensor(LUMA, dtype=frames.dtype, device=frames.device)
    grey = frames if frames.shape[-3] == 1 else (frames * luma.view(3, 1, 1)).sum(-3, keepdim=True)
    return (grey[..., 0, :, :].clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()


def estimate_flow(
    clips: ArrayLike,
    *,
    preset: str = "medium",
    occlusion_alpha: float = 0.01,
    occlusion_beta: float = 0.5,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Backward flow and an occlusion mask estimated from the frames alone (OpenCV DIS).

    For each t ≥ 1, DIS (Kroeger et al. 2016; ``cv2.DISOpticalFlow``, ``preset`` ultrafast / fast
    / medium) on the grey frames gives the backward flow b (frame t → t−1) and the forward flow
    f (frame t−1 → t). A pixel is marked occluded when the two disagree (Sundaram et al. 2010):

        ‖b(p) + f(p + b(p))‖² > α (‖b(p)‖² + ‖f(p + b(p))‖²) + β,   α = 0.01, β = 0.5 px²

    Frame 0 gets zero flow and is all occluded. Returns ``(flow N×T×2×H×W, occlusion N×T×H×W)``
    on the clips' device. Runs on the CPU (OpenCV), one frame pair at a time.
    """
    x = check_clips(clips, min_frames=2)
    check_choice(preset, "preset", DIS_PRESETS)
    n, t, _, h, w = x.shape
    grey = _grey_uint8(x.detach())
    # The factory exists in OpenCV's Python module but is missing from its type stubs.
    dis = cv2.DISOpticalFlow_create(  # pyright: ignore[reportAttributeAccessIssue]
        {
            "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
            "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
            "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
        }[preset]
    )
    backward = np.zeros((n, t, h, w, 2), np.float32)
    forward = np.zeros((n, t, h, w, 2), np.float32)
    for i in range(n):
        for k in range(1, t):
            # calc(a, b) returns flow with a(p) ≈ b(p + flow(p)).
            backward[i, k] = dis.calc(grey[i, k], grey[i, k - 1], None)
            forward[i, k] = dis.calc(grey[i, k - 1], grey[i, k], None)
    b = torch.from_numpy(backward).permute(0, 1, 4, 2, 3)
    f = torch.from_numpy(forward).permute(0, 1, 4, 2, 3)
    f_at = warp(f[:, 1:], b[:, 1:])  # forward flow sampled where each pixel came from
    mismatch = ((b[:, 1:] + f_at) ** 2).sum(2)
    scale = (b[:, 1:] ** 2).sum(2) + (f_at**2).sum(2)
    occluded = torch.ones(n, t, h, w, dtype=torch.bool)
    occluded[:, 1:] = mismatch > occlusion_alpha * scale + occlusion_beta
    return b.to(x.device), occluded.to(x.device)
