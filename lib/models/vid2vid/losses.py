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

LOSS_WEIGHTS = {"gan": 1.0, "feature_matching": 10.0, "perceptual": 10.0, "flow": 10.0}


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
    flow_source: str = "exact",
    use_warp: bool = True,
    weights: Mapping[str, float] = LOSS_WEIGHTS,
) -> dict[str, torch.Tensor]:
    """The generator's terms, each already multiplied by its weight (``total`` is their sum).

    * ``gan_image`` = L_GAN(D_I(s, x̃)) + L_GAN(D_I(s, h̃)) and ``fm_image`` (feature matching
      against D_I(s, x), × 10);
    * ``gan_video``, ``fm_video`` the same for D_V on windows of K frames with the reference
      flows, summed over temporal scales (only with ``video_d``);
    * ``perceptual`` = 10 · Σ_l w_l |φ_l(x̃) − φ_l(x)| (``perceptual`` a
      :class:`lib.features.perceptual.PerceptualNet`, or None to skip);
    * ``flow`` = 10 · (mean_conf |w̃ − w| + mean |warp(x_{t−1}, w̃) − x_t|): L1 to the reference
      flow where it is trusted, plus the real previous frame warped by the generator's flow
      (the paper's L_W, λ_W = 10); the first term is dropped for ``flow_source="none"``;
      ``mask`` = 10 · mean_conf m̃ pulls the mask to 0 where the reference flow explains the
      frame (the authors' implementation has a similar term; it is not in the paper's equations,
      and it uses the flow weight). No flow terms when ``use_warp`` is False
      (the generator has no flow head).

    ``fake`` is :func:`generate_clip`'s output, ``frames`` N×T×3×H×W the real clip, ``labels``
    N×T×H×W, ``flow_ref`` N×T×2×H×W and ``confidence`` N×T×1×H×W from :func:`reference_flow`.
    """
    check_choice(flow_source, "flow_source", FLOW_SOURCES)
    image = fake["image"]
    frames = _check_frames(frames, "frames", tuple(labels.shape))
    if image.shape != frames.shape:
        raise ValueError(
            f"fake images {tuple(image.shape)} and frames {tuple(frames.shape)} differ"
        )
    n, t_len = labels.shape[:2]
    lab = _flat(labels)
    terms: dict[str, torch.Tensor] = {}
    real_out = image_d(lab, _flat(frames))
    fake_out = image_d(lab, _flat(image))
    h_out = image_d(lab, _flat(fake["h"]))
    terms["gan_image"] = weights["gan"] * (lsgan_loss(fake_out, True) + lsgan_loss(h_out, True))
    terms["fm_image"] = weights["feature_matching"] * feature_matching_loss(fake_out, real_out)
    if video_d is not None:
        gan_v = fm_v = image.new_zeros(())
        for scale, real_w, fake_w in _windows_per_scale(video_d, frames, image, flow_ref):
            r = video_d(*real_w, scale)
            f = video_d(*fake_w, scale)
            gan_v = gan_v + lsgan_loss(f, True)
            fm_v = fm_v + feature_matching_loss(f, r)
        terms["gan_video"] = weights["gan"] * gan_v
        terms["fm_video"] = weights["feature_matching"] * fm_v
    if perceptual is not None:
        terms["perceptual"] = weights["perceptual"] * perceptual_loss(
            perceptual, _flat(image), _flat(frames)
        )
    if use_warp and t_len > 1:
        w_fake, conf = fake["flow"][:, 1:], confidence[:, 1:]
        warped_real = warp(frames[:, :-1], w_fake)
        flow_term = (warped_real - frames[:, 1:]).abs().mean()
        if flow_source != "none":
            denom = conf.sum().clamp(min=1.0)
            flow_term = flow_term + ((w_fake - flow_ref[:, 1:]).abs() * conf).sum() / (2 * denom)
            terms["mask"] = weights["flow"] * (fake["mask"][:, 1:] * conf).sum() / denom
        terms["flow"] = weights["flow"] * flow_term
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
) -> dict[str, torch.Tensor]:
    """LSGAN losses of D_I (real (s, x) vs (s, x̃) and (s, h̃)) and D_V (real vs generated
    windows at every temporal scale); the fakes are detached. ``total`` is their sum."""
    lab = _flat(labels)
    image = fake["image"].detach()
    real_img = _flat(frames)
    d_real = lsgan_loss(image_d(lab, real_img), True)
    d_fake = lsgan_loss(image_d(lab, _flat(image)), False)
    d_h = lsgan_loss(image_d(lab, _flat(fake["h"].detach())), False)
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
