"""vid2vid (Wang et al. 2018) at course scale: label clips → video with flow warping.

The conditional video GAN learns p(x̃₁…x̃_T | s₁…s_T) = p(x₁…x_T | s₁…s_T) for a source sequence
s (here one-hot semantic label maps of the toy street, :func:`lib.datasets.street`) and the
real video x. The generator is **Markov** with L = 2 (:data:`HISTORY`): frame t is made from
the label maps s_{t−L}…s_t and the L previous *generated* frames x̃_{t−L}…x̃_{t−1},

    x̃_t = F(x̃_{t−L}^{t−1}, s_{t−L}^{t}) = (1 − m̃_t) ⊙ warp(x̃_{t−1}, w̃_t) + m̃_t ⊙ h̃_t,

with three heads of one network (:class:`Vid2VidGenerator`): the flow w̃_t (backward flow of
frame t in pixels, :func:`lib.video.warp`), the occlusion mask m̃_t ∈ [0, 1] and the
hallucinated image h̃_t. Where the previous frame holds the content (most of a panning street)
the warp copies it, which keeps the video consistent; the mask lights up where new content
appears (background uncovered behind a car, the frame's entering edge, a car's new face).

Pieces (Wang et al. 2018, "Video-to-Video Synthesis", §3 and the authors' code; pix2pixHD blocks
from :mod:`lib.models.pix2pixhd`):

- :class:`Vid2VidGenerator`: two encoders (labels s_{t−L}^t; previous frames) whose bottleneck
  features are **summed**, residual blocks, one up-sampling decoder, and the heads h (7×7 conv,
  tanh), w (3×3 conv × W/51.2, i.e. the paper's ×20 at 1024 px wide) and m (3×3 conv, sigmoid).
  ``warp=False`` builds the "no flow warping" ablation (x̃_t = h̃_t, a per-frame pix2pixHD
  that still sees the previous frames). **Coarse-to-fine**: ``Vid2VidGenerator(coarse=g1)``
  is a finer generator on top of a trained coarse one (pix2pixHD's local enhancer): its
  encoders work at twice the coarse resolution and down-sample once, their features are summed
  with the coarse generator's last feature map (computed on 2×-pooled inputs), and its own
  residual blocks, decoder and heads make the full-resolution frame.
- :func:`generate_clip`: the sequential roll-out over a whole clip (missing previous frames
  at t < L are zeros and the first frame is pure hallucination, m = 1).
- :class:`ImageDiscriminator`: multi-scale PatchGAN on (one-hot label, image), applied to x̃_t
  and to h̃_t. :class:`VideoDiscriminator`: PatchGANs on K = 3 consecutive frames plus the K−1
  reference flows between them, one per temporal scale (frames 1, 2, … apart);
  :func:`video_windows` cuts the windows and composes the flows for the skipped frames.
- :func:`generator_losses` / :func:`discriminator_losses` with the paper's weights
  (:data:`LOSS_WEIGHTS`): LSGAN 1, feature matching 10, perceptual ("VGG") 10, flow 10 (L1
  against the reference flow plus L1 of the real previous frame warped by w̃ — the paper's
  λ_W L_W). Flow supervision (:data:`FLOW_SOURCES`): ``"exact"`` (the street's rendered flow,
  occluded pixels left out), ``"dis"`` (OpenCV's DIS estimate,
  :func:`lib.metrics.video.estimate_flow`, standing in for FlowNet2) or ``"none"`` (only the
  warp term, i.e. self-supervised flow).
- The measures of the notebook's ablation live in :mod:`lib.metrics.video`
  (``warping_error`` under the exact flow, ``per_frame_fid``); :func:`flow_colours` draws flows.
- :func:`load_vid2vid`: the committed trained generators (``data/vid2vid``, float16, sha256
  checked); ``python -m lib.train vid2vid`` retrains them.

Images are float RGB in [0, 1] at every public function (the networks work in [−1, 1] inside).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from lib._checks import check_choice, check_positive_int
from lib.datasets.street import STREET_CLASSES
from lib.features.perceptual import perceptual_loss
from lib.models.pix2pixhd import (
    MultiscaleDiscriminator,
    PatchDiscriminator,
    ResidualBlock,
    feature_matching_loss,
    lsgan_loss,
    norm_layer,
)
from lib.paths import DATA_DIR
from lib.video import estimate_flow, warp
from lib.weights import load_committed

__all__ = [
    "HISTORY",
    "LOSS_WEIGHTS",
    "FLOW_SOURCES",
    "VARIANTS",
    "VID2VID_DIR",
    "Vid2VidGenerator",
    "ImageDiscriminator",
    "VideoDiscriminator",
    "one_hot_labels",
    "generate_clip",
    "video_windows",
    "compose_flow",
    "reference_flow",
    "generator_losses",
    "discriminator_losses",
    "flow_colours",
    "load_vid2vid",
]

HISTORY = 2  # L: previous frames (and L + 1 label maps) the generator sees
LOSS_WEIGHTS = {"gan": 1.0, "feature_matching": 10.0, "perceptual": 10.0, "flow": 10.0}
FLOW_SOURCES = ("exact", "dis", "none")
VARIANTS = ("full", "no_warp", "no_video_d")
VID2VID_DIR = DATA_DIR / "vid2vid"
RETRAIN = "python -m lib.train vid2vid --variant {variant} --out data/vid2vid"
# The authors' occlusion test for a reference flow: warp error < 0.02 on [−1, 1] images.
CONFIDENCE_THRESHOLD = 0.01  # the same on [0, 1] images


# ------------------------------------------------------------------------------ validation
def _check_labels(labels, num_classes: int, name: str = "labels") -> torch.Tensor:
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"{name}: expected an integer tensor of class ids, got {type(labels)}")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise TypeError(
            f"{name}: expected integer class ids (e.g. StreetClips.labels), got dtype "
            f"{labels.dtype}; one-hot maps are made inside"
        )
    if labels.numel():
        lo, hi = int(labels.min()), int(labels.max())
        if lo < 0 or hi >= num_classes:
            raise ValueError(
                f"{name}: class ids must be in 0..{num_classes - 1} ({num_classes} classes), "
                f"got values in {lo}..{hi}"
            )
    return labels


def _check_clip_labels(labels, num_classes: int, min_frames: int) -> torch.Tensor:
    labels = _check_labels(labels, num_classes)
    if labels.ndim != 4:
        raise ValueError(
            f"labels: expected N×T×H×W class ids (a batch of label clips), got shape "
            f"{tuple(labels.shape)}"
        )
    if labels.shape[1] < min_frames:
        raise ValueError(
            f"labels: a clip needs at least L + 1 = {min_frames} frames (the generator sees "
            f"s_(t−L)..s_t), got {labels.shape[1]}"
        )
    return labels


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


def one_hot_labels(labels, num_classes: int = len(STREET_CLASSES)) -> torch.Tensor:
    """Class ids ``...×H×W`` → one-hot float maps ``...×C×H×W`` (C = ``num_classes``)."""
    check_positive_int(num_classes, "num_classes")
    labels = _check_labels(labels, num_classes)
    if labels.ndim < 2:
        raise ValueError(f"labels: expected ...×H×W class ids, got shape {tuple(labels.shape)}")
    out = F.one_hot(labels.long(), num_classes).to(torch.float32)
    return out.movedim(-1, -3).contiguous()


# ------------------------------------------------------------------------------- generator
def _conv_block(c_in: int, c_out: int, norm: str, *, kernel: int = 3, stride: int = 1):
    pad = [nn.ReflectionPad2d(kernel // 2)] if stride == 1 else []
    conv = nn.Conv2d(c_in, c_out, kernel, stride, 0 if stride == 1 else kernel // 2)
    return [*pad, conv, norm_layer(norm, c_out), nn.ReLU(inplace=True)]


def _encoder(c_in: int, width: int, downsamples: int, norm: str) -> nn.Sequential:
    layers = _conv_block(c_in, width, norm, kernel=7)
    for i in range(downsamples):
        layers += _conv_block(width * 2**i, width * 2 ** (i + 1), norm, stride=2)
    return nn.Sequential(*layers)


class Vid2VidGenerator(nn.Module):
    """The sequential generator F with heads h (image), w (flow) and m (mask).

    ``forward(labels, previous)`` makes one frame: ``labels`` N×(L+1)×H×W class ids
    (s_{t−L}…s_t, oldest first), ``previous`` N×L×3×H×W the previous generated frames in [0, 1]
    (x̃_{t−L}…x̃_{t−1}; ``None`` at t = 0) and ``has_previous`` (N bools or one bool) says whether
    x̃_{t−1} exists. Returns a dict of N×…×H×W tensors: ``image`` x̃_t, ``h``, ``flow`` w̃ (pixels,
    x then y), ``mask`` m̃, ``warped`` warp(x̃_{t−1}, w̃), all in [0, 1] but the flow.

    Args:
        num_classes: label classes (6 for the street).
        history: L (2 in the paper).
        width: channels after the first convolution (doubled by each down-sampling).
        downsamples, blocks: stride-2 convolutions and residual blocks of the coarsest level.
        norm: ``"instance"`` (the paper), ``"batch"`` or ``"none"``.
        warp: False for the "no flow warping" ablation: no flow/mask heads, x̃_t = h̃_t.
        coarse: a trained generator to refine (coarse-to-fine); this one then works at twice
            its resolution with ``width = coarse.width // 2`` and one down-sampling.
    """

    def __init__(
        self,
        num_classes: int = len(STREET_CLASSES),
        *,
        history: int = HISTORY,
        width: int = 32,
        downsamples: int = 2,
        blocks: int = 3,
        norm: str = "instance",
        warp: bool = True,
        coarse: Vid2VidGenerator | None = None,
    ) -> None:
        super().__init__()
        self.num_classes = check_positive_int(num_classes, "num_classes")
        self.history = check_positive_int(history, "history")
        self.blocks = check_positive_int(blocks, "blocks", minimum=0)
        self.norm = check_choice(norm, "norm", ("instance", "batch", "none"))
        if not isinstance(warp, bool):
            raise TypeError(f"warp: expected True or False, got {warp!r}")
        self.use_warp = warp
        if coarse is not None:
            if not isinstance(coarse, Vid2VidGenerator):
                raise TypeError(f"coarse: expected a Vid2VidGenerator, got {type(coarse)}")
            if (coarse.num_classes, coarse.history, coarse.use_warp) != (
                num_classes,
                history,
                warp,
            ):
                raise ValueError(
                    "coarse: the coarse generator must have the same num_classes, history and "
                    f"warp, got ({coarse.num_classes}, {coarse.history}, {coarse.use_warp})"
                )
            if coarse.width % 2:
                raise ValueError(f"coarse: its width must be even, got {coarse.width}")
            width, downsamples = coarse.width // 2, 1
        self.width = check_positive_int(width, "width")
        self.downsamples = check_positive_int(downsamples, "downsamples", minimum=0)
        self.coarse = coarse
        c_lab, c_img = num_classes * (history + 1), 3 * history
        bottleneck = width * 2**downsamples
        self.label_encoder = _encoder(c_lab, width, downsamples, norm)
        self.image_encoder = _encoder(c_img, width, downsamples, norm)
        self.trunk = nn.Sequential(*(ResidualBlock(bottleneck, norm) for _ in range(blocks)))
        up: list[nn.Module] = []
        for i in reversed(range(downsamples)):
            c_in, c_out = width * 2 ** (i + 1), width * 2**i
            up += [
                nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1),
                norm_layer(norm, c_out),
                nn.ReLU(inplace=True),
            ]
        self.decoder = nn.Sequential(*up)
        self.head_h = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(width, 3, 7), nn.Tanh())
        if warp:
            self.head_w = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(width, 2, 3))
            self.head_m = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(width, 1, 3))
            nn.init.zeros_(self.head_w[1].weight)  # start from the identity warp
            nn.init.zeros_(self.head_w[1].bias)

    # -- structure ---------------------------------------------------------------------------
    @property
    def levels(self) -> int:
        """1 for a single generator, 2 for coarse + fine, …"""
        return 1 if self.coarse is None else self.coarse.levels + 1

    @property
    def multiple(self) -> int:
        """Frame height and width must be multiples of this."""
        own = 2**self.downsamples
        return own if self.coarse is None else 2 * self.coarse.multiple

    @property
    def config(self) -> dict:
        """The constructor arguments (nested for the coarse levels), for saving."""
        cfg = {
            "num_classes": self.num_classes,
            "history": self.history,
            "width": self.width,
            "downsamples": self.downsamples,
            "blocks": self.blocks,
            "norm": self.norm,
            "warp": self.use_warp,
        }
        if self.coarse is not None:
            cfg["coarse"] = self.coarse.config
        return cfg

    @classmethod
    def from_config(cls, config: Mapping) -> Vid2VidGenerator:
        cfg = dict(config)
        coarse = cfg.pop("coarse", None)
        if coarse is not None:
            cfg["coarse"] = cls.from_config(coarse)
        return cls(**cfg)

    def freeze_coarse(self) -> Vid2VidGenerator:
        """Stop gradients into the coarse levels (train only the finest one, as pix2pixHD does
        before fine-tuning everything together)."""
        if self.coarse is not None:
            self.coarse.requires_grad_(False)
        return self

    # -- forward -----------------------------------------------------------------------------
    def _features(self, onehot: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
        x = self.label_encoder(onehot) + self.image_encoder(previous)
        if self.coarse is not None:
            x = x + self.coarse._features(F.avg_pool2d(onehot, 2), F.avg_pool2d(previous, 2))
        return self.decoder(self.trunk(x))

    def forward(
        self,
        labels: torch.Tensor,
        previous: torch.Tensor | None = None,
        has_previous: bool | torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        labels = _check_labels(labels, self.num_classes)
        L = self.history
        if labels.ndim != 4 or labels.shape[1] != L + 1:
            raise ValueError(
                f"labels: expected N×(L+1)×H×W = N×{L + 1}×H×W class ids (s_(t−L)..s_t), got "
                f"shape {tuple(labels.shape)}"
            )
        n, _, h, w = labels.shape
        if h % self.multiple or w % self.multiple:
            raise ValueError(
                f"labels: height and width must be multiples of {self.multiple} for this "
                f"generator ({self.levels} level(s)), got {h}×{w}"
            )
        device = next(self.parameters()).device
        if previous is None:
            previous = torch.zeros(n, L, 3, h, w, device=device)
            has_previous = False if has_previous is None else has_previous
        elif (
            not isinstance(previous, torch.Tensor)
            or not previous.is_floating_point()
            or previous.shape != (n, L, 3, h, w)
        ):
            raise ValueError(
                f"previous: expected N×L×3×H×W = {(n, L, 3, h, w)} float frames in [0, 1] "
                f"matching the labels, got {tuple(getattr(previous, 'shape', ()))}"
            )
        if has_previous is None:
            has_previous = True
        has_prev = torch.as_tensor(has_previous, device=device, dtype=torch.float32)
        has_prev = has_prev.reshape(-1, 1, 1, 1).expand(n, 1, 1, 1)

        onehot = one_hot_labels(labels.to(device), self.num_classes).flatten(1, 2)
        prev = (previous.to(device) * 2 - 1).flatten(1, 2)
        feats = self._features(onehot, prev)
        hallucinated = (self.head_h(feats) + 1) / 2
        last = previous[:, -1].to(device)
        if not self.use_warp:
            zeros = torch.zeros(n, 2, h, w, device=device)
            return {
                "image": hallucinated,
                "h": hallucinated,
                "flow": zeros,
                "mask": torch.ones(n, 1, h, w, device=device),
                "warped": last,
            }
        flow = self.head_w(feats) * (w / 51.2)  # the paper's ×20 at 1024 px wide
        mask = torch.sigmoid(self.head_m(feats))
        mask = has_prev * mask + (1 - has_prev)  # no previous frame: all hallucinated
        warped = warp(last, flow)
        image = mask * hallucinated + (1 - mask) * warped
        return {"image": image, "h": hallucinated, "flow": flow, "mask": mask, "warped": warped}

    def extra_repr(self) -> str:
        return (
            f"levels={self.levels}, width={self.width}, history={self.history}, "
            f"warp={self.use_warp}"
        )


def generate_clip(
    generator: nn.Module,
    labels: torch.Tensor,
    *,
    keep: tuple[str, ...] = ("image", "h", "flow", "mask", "warped"),
) -> dict[str, torch.Tensor]:
    """Roll the generator over whole label clips: x̃_t = F(x̃_{t−L}^{t−1}, s_{t−L}^t), t = 0…T−1.

    ``labels`` N×T×H×W class ids, T ≥ L + 1. Label maps before the clip start repeat s_0 and the
    missing previous frames are zeros (x̃_0 is hallucinated from s_0 alone). Gradients flow
    through the whole roll-out when enabled (training); wrap in ``torch.no_grad()`` to sample.
    Returns ``{key: N×T×…×H×W}`` for the heads in ``keep``. ``generator`` may be wrapped in
    DistributedDataParallel.
    """
    core = generator.module if hasattr(generator, "module") else generator
    if not isinstance(core, Vid2VidGenerator):
        raise TypeError(f"generator: expected a Vid2VidGenerator, got {type(core).__name__}")
    L = core.history
    labels = _check_clip_labels(labels, core.num_classes, L + 1)
    n, t_len, h, w = labels.shape
    device = next(core.parameters()).device
    labels = labels.to(device)
    padded = torch.cat([labels[:, :1].expand(n, L, h, w), labels], 1)
    history = [torch.zeros(n, 3, h, w, device=device) for _ in range(L)]
    out: dict[str, list[torch.Tensor]] = {k: [] for k in keep}
    for t in range(t_len):
        step = generator(padded[:, t : t + L + 1], torch.stack(history[-L:], 1), t > 0)
        history.append(step["image"])
        for k in keep:
            out[k].append(step[k])
    return {k: torch.stack(v, 1) for k, v in out.items()}


# -------------------------------------------------------------------------- discriminators
class ImageDiscriminator(nn.Module):
    """D_I: a multi-scale PatchGAN on the one-hot label map concatenated with the image.

    ``forward(labels N×H×W, images N×3×H×W in [0, 1])`` → one list of feature maps per scale.
    """

    def __init__(
        self,
        num_classes: int = len(STREET_CLASSES),
        *,
        scales: int = 2,
        width: int = 32,
        layers: int = 3,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        self.num_classes = check_positive_int(num_classes, "num_classes")
        self.net = MultiscaleDiscriminator(num_classes + 3, scales, width, layers, norm)

    def forward(self, labels: torch.Tensor, images: torch.Tensor) -> list[list[torch.Tensor]]:
        labels = _check_labels(labels, self.num_classes)
        if (
            images.ndim != 4
            or images.shape[1] != 3
            or labels.shape
            != (
                images.shape[0],
                *images.shape[2:],
            )
        ):
            raise ValueError(
                f"images {tuple(images.shape)} and labels {tuple(labels.shape)}: expected N×3×H×W "
                "images and N×H×W labels of the same N, H and W"
            )
        onehot = one_hot_labels(labels, self.num_classes).to(images)
        return self.net(torch.cat([onehot, images * 2 - 1], 1))


class VideoDiscriminator(nn.Module):
    """D_V: PatchGANs on K consecutive frames plus their K − 1 reference flows, one per temporal
    scale (scale k sees frames 2^k apart; the paper's frame skipping).

    ``forward(frames N×K×3×H×W, flows N×(K−1)×2×H×W, scale)`` → that scale's list of maps. Flows
    are divided by W/32 so that their range does not depend on the resolution.
    """

    def __init__(
        self,
        frames: int = 3,
        *,
        temporal_scales: int = 2,
        width: int = 32,
        layers: int = 3,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        self.frames = check_positive_int(frames, "frames", minimum=2)
        self.temporal_scales = check_positive_int(temporal_scales, "temporal_scales")
        c_in = 3 * frames + 2 * (frames - 1)
        self.nets = nn.ModuleList(
            PatchDiscriminator(c_in, width, layers, norm) for _ in range(temporal_scales)
        )

    def skips(self) -> list[int]:
        return [2**k for k in range(self.temporal_scales)]

    def forward(self, frames: torch.Tensor, flows: torch.Tensor, scale: int = 0):
        k = self.frames
        if frames.ndim != 5 or frames.shape[1:3] != (k, 3):
            raise ValueError(f"frames: expected N×{k}×3×H×W, got {tuple(frames.shape)}")
        if flows.shape != (frames.shape[0], k - 1, 2, *frames.shape[3:]):
            raise ValueError(
                f"flows: expected N×{k - 1}×2×H×W matching the frames, got {tuple(flows.shape)}"
            )
        if not 0 <= scale < self.temporal_scales:
            raise ValueError(f"scale: expected 0..{self.temporal_scales - 1}, got {scale}")
        x = torch.cat(
            [(frames * 2 - 1).flatten(1, 2), (flows * (32 / frames.shape[-1])).flatten(1, 2)], 1
        )
        return self.nets[scale](x)


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
def reference_flow(clips, source: str = "exact") -> tuple[torch.Tensor, torch.Tensor]:
    """The flow the generator is supervised with and where it is trusted.

    ``clips``: :class:`lib.datasets.street.StreetClips`. Returns ``(flow N×T×2×H×W, confidence
    N×T×1×H×W)``: ``"exact"`` gives the rendered flow and the non-occluded pixels; ``"dis"``
    the DIS estimate, trusted where it warps the real previous frame to within 0.02 on a
    [−1, 1] scale (the authors' rule); ``"none"`` zeros and zero confidence (no flow target;
    the flow is then learned from the warp term alone). Frame 0 is never trusted.
    """
    check_choice(source, "source", FLOW_SOURCES)
    frames = clips.frames
    n, t_len, _, h, w = frames.shape
    if source == "exact":
        flow = clips.flow
        conf = (~clips.occlusion).unsqueeze(2).float()
    elif source == "dis":
        flow = estimate_flow(frames)[0]
        err = (warp(frames[:, :-1], flow[:, 1:]) - frames[:, 1:]).abs().mean(2, keepdim=True)
        conf = torch.cat([torch.zeros_like(err[:, :1]), (err < CONFIDENCE_THRESHOLD).float()], 1)
    else:
        flow = torch.zeros(n, t_len, 2, h, w, device=frames.device)
        conf = torch.zeros(n, t_len, 1, h, w, device=frames.device)
    conf[:, 0] = 0
    return flow, conf


# ---------------------------------------------------------------------------------- losses
def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(0, 1)


def generator_losses(
    fake: Mapping[str, torch.Tensor],
    frames: torch.Tensor,
    labels: torch.Tensor,
    flow_ref: torch.Tensor,
    confidence: torch.Tensor,
    *,
    image_d: nn.Module,
    video_d: nn.Module | None = None,
    perceptual=None,
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
        core = video_d.module if hasattr(video_d, "module") else video_d
        gan_v = fm_v = image.new_zeros(())
        for scale, skip in enumerate(core.skips()):
            real_w = video_windows(frames, flow_ref, core.frames, skip)
            if real_w is None:
                continue
            fake_w = video_windows(image, flow_ref, core.frames, skip)
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
    terms["total"] = sum(terms.values())
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
        core = video_d.module if hasattr(video_d, "module") else video_d
        total = image.new_zeros(())
        for scale, skip in enumerate(core.skips()):
            real_w = video_windows(frames, flow_ref, core.frames, skip)
            if real_w is None:
                continue
            fake_w = video_windows(image, flow_ref, core.frames, skip)
            total = total + lsgan_loss(video_d(*real_w, scale), True)
            total = total + lsgan_loss(video_d(*fake_w, scale), False)
        terms["d_video"] = total
    terms["total"] = sum(terms.values())
    return terms


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


# ---------------------------------------------------------------------------- checkpoints
def load_vid2vid(
    variant: str = "full", *, folder: str | os.PathLike | None = None
) -> Vid2VidGenerator:
    """A committed trained generator (eval mode, CPU, float32): ``"full"``, ``"no_warp"`` (no
    flow warping) or ``"no_video_d"`` (trained without the video discriminator).

    The sha256 is checked against ``manifest.json`` and the file read with
    safetensors (no pickle); errors say how to regenerate it. ``generator.info`` holds the
    manifest entry (training command, steps, losses, timings).
    """
    check_choice(variant, "variant", VARIANTS)
    folder = VID2VID_DIR if folder is None else Path(folder)
    how = f"retrain with `{RETRAIN.format(variant=variant)}`"
    entry, state = load_committed(folder, variant, how_to_fix=how)
    net = Vid2VidGenerator.from_config(entry["generator"])
    net.load_state_dict(state)
    net.variant = variant
    net.info = dict(entry)
    return net.eval()
