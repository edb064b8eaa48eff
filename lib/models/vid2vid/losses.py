"""vid2vid's objectives with the paper's weights (Wang et al. 2018, §3): the generator's GAN,
feature-matching, perceptual and flow terms, and the discriminators' LSGAN losses."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import cast

import torch
from torch import nn

from lib._checks import check_choice
from lib.features.perceptual import PerceptualNet, perceptual_loss
from lib.models.pix2pixhd import feature_matching_loss, lsgan_loss
from lib.models.vid2vid.flows import FLOW_SOURCES, video_windows
from lib.models.vid2vid.networks import VideoDiscriminator
from lib.video import warp

LOSS_WEIGHTS = {
    "gan": 1.0,
    "feature_matching": 10.0,
    "perceptual": 10.0,
    "flow": 10.0,
    "l1": 10.0,
}


def _check_frames(frames, name: str, like: tuple[int, ...] | None = None) -> torch.Tensor:
    if not isinstance(frames, torch.Tensor) or not frames.is_floating_point():
        raise TypeError(f"{name}: expected a float tensor of RGB frames in [0, 1]")
    if frames.ndim != 5 or frames.shape[2] != 3:
        raise ValueError(f"{name}: expected N×T×3×H×W RGB frames, got {tuple(frames.shape)}")
    if not torch.isfinite(frames).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    if like is not None and (frames.shape[:2] + frames.shape[3:]) != like:
        raise ValueError(
            f"{name}: shape {tuple(frames.shape)} does not match the labels' N×T×H×W {like}"
        )
    return frames


def _check_start(start: int, t_len: int) -> int:
    if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start < t_len:
        raise ValueError(
            f"start: expected the number of given frames, an int in 0..{t_len - 1}, got {start!r}"
        )
    return start


# ---------------------------------------------------------------------------------- losses
def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(0, 1)


Windows = tuple[torch.Tensor, torch.Tensor]


def _windows_per_scale(
    video_d: nn.Module, real: torch.Tensor, fake: torch.Tensor, flow_ref: torch.Tensor
) -> Iterator[tuple[int, Windows, Windows]]:
    """``(scale, real windows, generated windows)`` for each temporal scale of D_V whose windows
    fit in the clips (the generated clips have the real ones' length)."""
    # DistributedDataParallel keeps the discriminator, and so its attributes, in ``.module``.
    core = cast(VideoDiscriminator, getattr(video_d, "module", video_d))
    for scale, skip in enumerate(core.skips()):
        real_w = video_windows(real, flow_ref, core.frames, skip)
        if real_w is None:
            continue
        fake_w = cast(Windows, video_windows(fake, flow_ref, core.frames, skip))
        yield scale, real_w, fake_w


def class_balanced_l1(
    generated: torch.Tensor, real: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """(1/|C|) Σ_{c∈C} mean_{p: s(p)=c} |x̃(p) − x(p)| over the classes C present in ``labels``:
    the L1 distance with every class weighing the same, so that the few pixels of a person
    count as much as the sky (a plain mean leaves them a per cent of the loss). ``generated``
    and ``real`` …×3×H×W, ``labels`` the matching …×H×W class ids."""
    per_pixel = (generated - real).abs().mean(-3).flatten()
    ids = labels.flatten().long()
    count = torch.bincount(ids).to(per_pixel.dtype)
    total = torch.zeros_like(count).index_add_(0, ids, per_pixel)
    present = count > 0
    return (total[present] / count[present]).mean()


def flow_losses(
    flow: torch.Tensor,
    mask: torch.Tensor,
    previous: torch.Tensor,
    frames: torch.Tensor | None,
    flow_ref: torch.Tensor,
    confidence: torch.Tensor,
    *,
    flow_source: str = "exact",
    weights: Mapping[str, float] = LOSS_WEIGHTS,
) -> dict[str, torch.Tensor]:
    """The flow and mask terms of :func:`generator_losses` for frames with a previous frame
    (any matching leading shapes: ``flow`` …×2×H×W, ``mask`` …×1×H×W, the real ``previous`` and
    current ``frames`` …×3×H×W, ``flow_ref`` and ``confidence`` from :func:`reference_flow`):

    * ``flow`` = λ_W · (mean |warp(x_{t−1}, w̃) − x_t| + mean_conf |w̃ − w| / 2) — none for the
      copy control (``flow_source="zero"``: no flow head), no second part for ``"none"``, no
      first part when ``frames`` is None (supervision by the reference flow alone);
    * ``mask`` = λ_W · (mean_conf m̃ + mean_(1−conf) (1 − m̃)): pulled to 0 where the reference
      flow explains the frame and to 1 where it does not, each side weighing half (none for
      ``"none"``, which has no confidence).
    """
    check_choice(flow_source, "flow_source", FLOW_SOURCES)
    terms: dict[str, torch.Tensor] = {}
    if flow_source != "zero":
        flow_term = flow.new_zeros(())
        if frames is not None:
            flow_term = (warp(previous, flow) - frames).abs().mean()
        elif flow_source == "none":
            raise ValueError("frames: needed for the flow term when there is no reference flow")
        if flow_source != "none":
            denom = confidence.sum().clamp(min=1.0)
            flow_term = flow_term + ((flow - flow_ref).abs() * confidence).sum() / (2 * denom)
        terms["flow"] = weights["flow"] * flow_term
    if flow_source != "none":
        visible = (mask * confidence).sum() / confidence.sum().clamp(min=1.0)
        new = ((1 - mask) * (1 - confidence)).sum() / (1 - confidence).sum().clamp(min=1.0)
        terms["mask"] = weights["flow"] * (visible + new)
    return terms


def generator_losses(
    fake: Mapping[str, torch.Tensor],
    frames: torch.Tensor,
    labels: torch.Tensor,
    flow_ref: torch.Tensor,
    confidence: torch.Tensor,
    *,
    image_d: nn.Module,
    video_d: nn.Module | None = None,
    perceptual: PerceptualNet | None = None,
    perceptual_tile: int | None = None,
    flow_source: str = "exact",
    use_warp: bool = True,
    weights: Mapping[str, float] = LOSS_WEIGHTS,
    start: int = 0,
) -> dict[str, torch.Tensor]:
    """The generator's terms, each already multiplied by its weight (``total`` is their sum).

    * ``gan_image`` = L_GAN(D_I(s, x̃)) + L_GAN(D_I(s, h̃)) and ``fm_image`` (feature matching
      of x̃ and h̃ against D_I(s, x), × 10);
    * ``gan_video``, ``fm_video`` the same for D_V on windows of K frames with the reference
      flows, summed over temporal scales (only with ``video_d``);
    * ``perceptual`` = 10 · Σ_l w_l (|φ_l(x̃) − φ_l(x)| + |φ_l(h̃) − φ_l(x)|) (``perceptual`` a
      :class:`lib.features.perceptual.PerceptualNet`, or None to skip; ``perceptual_tile``
      compares tiles of that size, so that a network made for small images sees every pixel
      of a larger frame at its own resolution). With warping, h̃ gets the feature-matching and
      perceptual terms too, as in the authors' code: the mask hides most of it in x̃, and
      without them h̃ learns the image only where the mask lets it through;
    * ``l1`` = 10 · (L1(x̃, x) + L1(h̃, x)), each :func:`class_balanced_l1`: pix2pix's L1 term
      (not in vid2vid's objective) with the classes weighing the same; at the course's CPU
      budget it gets the layout and colours right in hundreds of steps where the adversarial
      and perceptual terms alone need many thousands;
    * ``flow`` = 10 · (mean_conf |w̃ − w| / 2 + mean |warp(x_{t−1}, w̃) − x_t|): L1 to the
      reference flow where it is trusted, plus the real previous frame warped by the generator's
      flow (the paper's L_W, λ_W = 10); the first term is dropped for ``flow_source="none"``;
    * ``mask`` = 10 · (mean_conf m̃ + mean_(1−conf) (1 − m̃)): the mask is pulled to 0 where the
      reference flow explains the frame and to 1 where it does not (occluded, newly visible).
      The authors' code has only the first half (m̃ → 0 where the flow is trusted; it is not in
      the paper's equations); without the second half only the image losses raise the mask on
      new content, and a small generator whose h̃ is still poor learns "copy everything" (a flat
      mask). See :func:`flow_losses`. No flow or mask terms when ``use_warp`` is False.

    ``fake`` is :func:`generate_clip`'s output, ``frames`` N×T×3×H×W the real clip, ``labels``
    N×T×H×W, ``flow_ref`` N×T×2×H×W and ``confidence`` N×T×1×H×W from :func:`reference_flow`.
    ``start``: the number of given (real) frames the roll-out started from
    (``generate_clip(..., given=...)``); the image terms leave them out, the video windows keep
    them (the authors' D_V sees the real frames a sequence starts from).
    """
    check_choice(flow_source, "flow_source", FLOW_SOURCES)
    image = fake["image"]
    frames = _check_frames(frames, "frames", tuple(labels.shape))
    if image.shape != frames.shape:
        raise ValueError(
            f"fake images {tuple(image.shape)} and frames {tuple(frames.shape)} differ"
        )
    n, t_len = labels.shape[:2]
    start = _check_start(start, t_len)
    lab = _flat(labels[:, start:])
    terms: dict[str, torch.Tensor] = {}
    real_out = image_d(lab, _flat(frames[:, start:]))
    fake_out = image_d(lab, _flat(image[:, start:]))
    h_out = image_d(lab, _flat(fake["h"][:, start:]))
    terms["gan_image"] = weights["gan"] * (lsgan_loss(fake_out, True) + lsgan_loss(h_out, True))
    fm = feature_matching_loss(fake_out, real_out)
    if use_warp:  # h̃ is a frame of its own only when the mask blends it with a warped one
        fm = fm + feature_matching_loss(h_out, real_out)
    terms["fm_image"] = weights["feature_matching"] * fm
    if video_d is not None:
        gan_v = fm_v = image.new_zeros(())
        for scale, real_w, fake_w in _windows_per_scale(video_d, frames, image, flow_ref):
            r = video_d(*real_w, scale)
            f = video_d(*fake_w, scale)
            gan_v = gan_v + lsgan_loss(f, True)
            fm_v = fm_v + feature_matching_loss(f, r)
        terms["gan_video"] = weights["gan"] * gan_v
        terms["fm_video"] = weights["feature_matching"] * fm_v
    if weights.get("l1", 0):
        real, lab_t = frames[:, start:], labels[:, start:]
        l1 = class_balanced_l1(image[:, start:], real, lab_t) + class_balanced_l1(
            fake["h"][:, start:], real, lab_t
        )
        terms["l1"] = weights["l1"] * l1
    if perceptual is not None:
        real_flat = _flat(frames[:, start:])
        outputs = [image, fake["h"]] if use_warp else [image]
        perceptual_terms = [
            perceptual_loss(perceptual, _flat(x[:, start:]), real_flat, tile=perceptual_tile)
            for x in outputs
        ]
        terms["perceptual"] = weights["perceptual"] * torch.stack(perceptual_terms).sum()
    first = max(1, start)  # the first frame with a generated flow and mask
    if use_warp and t_len > first:
        terms |= flow_losses(
            fake["flow"][:, first:],
            fake["mask"][:, first:],
            frames[:, first - 1 : -1],
            frames[:, first:],
            flow_ref[:, first:],
            confidence[:, first:],
            flow_source=flow_source,
            weights=weights,
        )
    # sum() starts from the int 0, which the stubs cannot fold into a tensor.
    terms["total"] = cast(torch.Tensor, sum(terms.values()))
    return terms


def discriminator_losses(
    fake: Mapping[str, torch.Tensor],
    frames: torch.Tensor,
    labels: torch.Tensor,
    flow_ref: torch.Tensor,
    *,
    image_d: nn.Module,
    video_d: nn.Module | None = None,
    start: int = 0,
) -> dict[str, torch.Tensor]:
    """LSGAN losses of D_I (real (s, x) vs (s, x̃) and (s, h̃)) and D_V (real vs generated
    windows at every temporal scale); the fakes are detached. ``total`` is their sum.
    ``start`` as in :func:`generator_losses` (D_I never sees given frames as fakes)."""
    start = _check_start(start, labels.shape[1])
    lab = _flat(labels[:, start:])
    image = fake["image"].detach()
    real_img = _flat(frames[:, start:])
    d_real = lsgan_loss(image_d(lab, real_img), True)
    d_fake = lsgan_loss(image_d(lab, _flat(image[:, start:])), False)
    d_h = lsgan_loss(image_d(lab, _flat(fake["h"][:, start:].detach())), False)
    terms = {"d_image": d_real + 0.5 * (d_fake + d_h)}
    if video_d is not None:
        total = image.new_zeros(())
        for scale, real_w, fake_w in _windows_per_scale(video_d, frames, image, flow_ref):
            total = total + lsgan_loss(video_d(*real_w, scale), True)
            total = total + lsgan_loss(video_d(*fake_w, scale), False)
        terms["d_video"] = total
    # sum() starts from the int 0, which the stubs cannot fold into a tensor.
    terms["total"] = cast(torch.Tensor, sum(terms.values()))
    return terms
