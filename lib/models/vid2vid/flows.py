"""Flows around vid2vid: the reference flow the generator is supervised with, the windows of
frames (with composed flows) the video discriminator sees, and flows drawn as colours."""

from __future__ import annotations

import torch

from lib._checks import check_choice
from lib.datasets.street import StreetClips
from lib.video import estimate_flow, warp

FLOW_SOURCES = ("exact", "dis", "none", "zero")
# The authors' occlusion test for a reference flow: warp error < 0.02 on [−1, 1] images.
CONFIDENCE_THRESHOLD = 0.01  # the same on [0, 1] images


def compose_flow(later: torch.Tensor, earlier: torch.Tensor) -> torch.Tensor:
    """Backward flow across two steps: f_{t→t−2}(p) = f_t(p) + f_{t−1}(p + f_t(p)).

    ``later`` is the backward flow of frame t (to t−1), ``earlier`` that of frame t−1 (to t−2);
    both ...×2×H×W in pixels.
    """
    return later + warp(earlier, later)


def video_windows(
    frames: torch.Tensor, flow: torch.Tensor, k: int = 3, skip: int = 1
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """All windows of ``k`` frames ``skip`` apart from N×T clips, with the backward flows between
    consecutive window frames (composed over the skipped frames).

    ``frames`` N×T×3×H×W, ``flow`` N×T×2×H×W (flow[:, t] from t to t−1). Returns
    ``(windows M×k×3×H×W, flows M×(k−1)×2×H×W)`` or ``None`` when the clip is too short.
    """
    n, t_len = frames.shape[:2]
    if flow.shape[:2] != (n, t_len) or flow.shape[-2:] != frames.shape[-2:]:
        raise ValueError(f"flow: shape {tuple(flow.shape)} does not match frames")
    span = (k - 1) * skip
    if t_len <= span:
        return None
    # Flow from frame t to frame t − skip, for t ≥ skip.
    jump = flow
    for _ in range(skip - 1):
        jump = torch.cat([jump[:, :1], compose_flow(jump[:, 1:], flow[:, :-1])], 1)
    starts = range(0, t_len - span)
    win = torch.stack([frames[:, s : s + span + 1 : skip] for s in starts], 1)
    wflow = torch.stack([jump[:, s + skip : s + span + 1 : skip] for s in starts], 1)
    return win.flatten(0, 1), wflow.flatten(0, 1)


# ---------------------------------------------------------------------------------- flows
def reference_flow(clips: StreetClips, source: str = "exact") -> tuple[torch.Tensor, torch.Tensor]:
    """The flow the generator is supervised with and where it is trusted.

    ``clips``: :class:`lib.datasets.street.StreetClips`. Returns ``(flow N×T×2×H×W, confidence
    N×T×1×H×W)``: ``"exact"`` gives the rendered flow and the non-occluded pixels; ``"dis"``
    the DIS estimate, trusted where it warps the real previous frame to within 0.02 on a
    [−1, 1] scale (the authors' rule); ``"none"`` zeros and zero confidence (no flow target;
    the flow is then learned from the warp term alone); ``"zero"`` zero flow, trusted by the
    same rule where the previous frame copied in place matches (the target of the zero-flow
    copy control, which has no flow head). Frame 0 is never trusted.
    """
    check_choice(source, "source", FLOW_SOURCES)
    frames = clips.frames
    n, t_len, _, h, w = frames.shape
    if source == "exact":
        flow = clips.flow
        conf = (~clips.occlusion).unsqueeze(2).float()
    elif source in ("dis", "zero"):
        if source == "dis":
            flow = estimate_flow(frames)[0]
        else:
            flow = torch.zeros(n, t_len, 2, h, w, device=frames.device)
        err = (warp(frames[:, :-1], flow[:, 1:]) - frames[:, 1:]).abs().mean(2, keepdim=True)
        conf = torch.cat([torch.zeros_like(err[:, :1]), (err < CONFIDENCE_THRESHOLD).float()], 1)
    else:
        flow = torch.zeros(n, t_len, 2, h, w, device=frames.device)
        conf = torch.zeros(n, t_len, 1, h, w, device=frames.device)
    conf[:, 0] = 0
    return flow, conf


# --------------------------------------------------------------------------------- display
def flow_colours(flow: torch.Tensor, max_magnitude: float | None = None) -> torch.Tensor:
    """Flow fields ``...×2×H×W`` as RGB images ``...×3×H×W`` in [0, 1] for display: hue = the
    direction, saturation = the length (relative to ``max_magnitude``, default the largest
    length in the input), white = no motion (the Middlebury convention, simplified)."""
    if not isinstance(flow, torch.Tensor) or flow.ndim < 3 or flow.shape[-3] != 2:
        raise ValueError(f"flow: expected ...×2×H×W, got {tuple(getattr(flow, 'shape', ()))}")
    flow = flow.detach().float()
    mag = flow.norm(dim=-3)
    top = float(mag.max()) if max_magnitude is None else float(max_magnitude)
    sat = (mag / max(top, 1e-6)).clamp(0, 1)
    hue = (torch.atan2(flow[..., 1, :, :], flow[..., 0, :, :]) / (2 * torch.pi)) % 1.0
    # HSV → RGB with V = 1: channel n (R 5, G 3, B 1) is 1 − S·clamp(min(k, 4 − k), 0, 1)
    k = torch.stack([(n + 6 * hue) % 6 for n in (5, 3, 1)], -3)
    return 1 - sat.unsqueeze(-3) * torch.minimum(k, 4 - k).clamp(0, 1)
