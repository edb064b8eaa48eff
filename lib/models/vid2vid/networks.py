"""vid2vid's networks: the sequential generator F with its flow, mask and image heads, the
roll-out over whole clips, and the image and video discriminators (Wang et al. 2018, §3).

Label clips are integer class ids; images are float RGB in [0, 1] (the networks work in [−1, 1]
inside).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from lib._checks import check_choice, check_positive_int
from lib.datasets.street import STREET_CLASSES
from lib.models.pix2pixhd import (
    MultiscaleDiscriminator,
    PatchDiscriminator,
    ResidualBlock,
    norm_layer,
)
from lib.video import warp

HISTORY = 2  # L: previous frames (and L + 1 label maps) the generator sees


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


def one_hot_labels(labels: torch.Tensor, num_classes: int = len(STREET_CLASSES)) -> torch.Tensor:
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


def _decoder(width: int, downsamples: int, norm: str) -> nn.Sequential:
    up: list[nn.Module] = []
    for i in reversed(range(downsamples)):
        c_in, c_out = width * 2 ** (i + 1), width * 2**i
        up += [
            nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1),
            norm_layer(norm, c_out),
            nn.ReLU(inplace=True),
        ]
    return nn.Sequential(*up)


def _batch_statistics_only(module: nn.Module) -> None:
    """Make every batch norm of ``module`` normalise with the statistics of the batch it is given,
    in training *and* in generation (pix2pix, Isola et al. 2017, §3.3), and keep no running
    averages. A sequential generator sees very different inputs at its first step (no previous
    frame) and later, and running averages over training batches fit neither: generated with
    them, the committed street generators lose their colours and layout (segmentation accuracy
    0.33 instead of 0.96 for the no-warping model). The price: the frames of one batch are
    normalised together, so a batch of one clip behaves like instance normalisation and loses
    the camera's pan (measured in notebook 10) — generate clips a dozen at a time."""
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.track_running_stats = False
            m.running_mean = None
            m.running_var = None
            m.num_batches_tracked = None


class Vid2VidGenerator(nn.Module):
    """The sequential generator F with heads h (image), w (flow) and m (mask).

    Two encoders (label maps, previous frames) whose outputs are summed feed two branches of
    residual blocks and up-sampling decoders, as in the authors' code: one ends in the image
    head h, the other in the flow and mask heads w and m (so the flow is not pulled around by
    the image losses).

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
        norm: ``"instance"`` (the paper), ``"batch"`` (batch statistics in training and in
            generation, no running averages) or ``"none"``.
        warp: False for the "no flow warping" ablation: no flow/mask heads, x̃_t = h̃_t.
        zero_flow: True for the "zero-flow copy" control: no flow head, the flow is 0, so the
            mask blends the previous frame *copied in place* with h̃_t — what warping adds over
            plain copying is the difference between this control and the full model.
        coarse: a trained generator to refine (coarse-to-fine); this one then works at twice
            its resolution with ``width = coarse.width // 2`` and one down-sampling.
    """

    # Set by the loader on a committed network; declared so that they are plain attributes.
    variant: str
    seed: int
    info: dict[str, Any]

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
        zero_flow: bool = False,
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
        if not isinstance(zero_flow, bool):
            raise TypeError(f"zero_flow: expected True or False, got {zero_flow!r}")
        if zero_flow and not warp:
            raise ValueError("zero_flow: the copy control needs the mask (warp=True)")
        self.zero_flow = zero_flow
        if coarse is not None:
            if not isinstance(coarse, Vid2VidGenerator):
                raise TypeError(f"coarse: expected a Vid2VidGenerator, got {type(coarse)}")
            if (coarse.num_classes, coarse.history, coarse.use_warp, coarse.zero_flow) != (
                num_classes,
                history,
                warp,
                zero_flow,
            ):
                raise ValueError(
                    "coarse: the coarse generator must have the same num_classes, history, warp "
                    f"and zero_flow, got ({coarse.num_classes}, {coarse.history}, "
                    f"{coarse.use_warp}, {coarse.zero_flow})"
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
        self.decoder = _decoder(width, downsamples, norm)
        if warp:  # the flow and mask have their own residual blocks and decoder (authors' code)
            self.flow_trunk = nn.Sequential(
                *(ResidualBlock(bottleneck, norm) for _ in range(blocks))
            )
            self.flow_decoder = _decoder(width, downsamples, norm)
        self.head_h = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(width, 3, 7), nn.Tanh())
        if warp and not zero_flow:
            flow_conv = nn.Conv2d(width, 2, 3)
            self.head_w = nn.Sequential(nn.ReflectionPad2d(1), flow_conv)
            nn.init.zeros_(flow_conv.weight)  # start from the identity warp
            nn.init.zeros_(cast(torch.Tensor, flow_conv.bias))  # Conv2d has a bias by default
        if warp:
            self.head_m = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(width, 1, 3))
        if norm == "batch":
            _batch_statistics_only(self)

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
        if self.zero_flow:  # only when set, so that older configs read the same
            cfg["zero_flow"] = True
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
    def _features(
        self, onehot: torch.Tensor, previous: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The last feature maps of the image branch and of the flow/mask branch (None without
        warping); a coarse level's maps are added to this level's encoded inputs."""
        x = self.label_encoder(onehot) + self.image_encoder(previous)
        x_image = x_flow = x
        if self.coarse is not None:
            c_image, c_flow = self.coarse._features(
                F.avg_pool2d(onehot, 2), F.avg_pool2d(previous, 2)
            )
            x_image = x + c_image
            x_flow = x + c_flow if c_flow is not None else x
        image = self.decoder(self.trunk(x_image))
        if not self.use_warp:
            return image, None
        return image, self.flow_decoder(self.flow_trunk(x_flow))

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
        else:
            _check_frames(previous, "previous", (n, L, 3, h, w), "N×L×3×H×W")
        if has_previous is None:
            has_previous = True
        has_prev = torch.as_tensor(has_previous, device=device, dtype=torch.float32)
        has_prev = has_prev.reshape(-1, 1, 1, 1).expand(n, 1, 1, 1)

        onehot = one_hot_labels(labels.to(device), self.num_classes).flatten(1, 2)
        prev = (previous.to(device) * 2 - 1).flatten(1, 2)
        feats, flow_feats = self._features(onehot, prev)
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
        assert flow_feats is not None
        if self.zero_flow:
            flow = torch.zeros(n, 2, h, w, device=device)
            warped = last
        else:
            flow = self.head_w(flow_feats) * (w / 51.2)  # the paper's ×20 at 1024 px wide
            warped = warp(last, flow)
        mask = torch.sigmoid(self.head_m(flow_feats))
        mask = has_prev * mask + (1 - has_prev)  # no previous frame: all hallucinated
        image = mask * hallucinated + (1 - mask) * warped
        return {"image": image, "h": hallucinated, "flow": flow, "mask": mask, "warped": warped}

    def extra_repr(self) -> str:
        return (
            f"levels={self.levels}, width={self.width}, history={self.history}, "
            f"warp={self.use_warp}, zero_flow={self.zero_flow}"
        )


def _check_frames(frames: object, name: str, shape: tuple[int, ...], layout: str) -> None:
    # float frames of exactly ``shape``; ``layout`` names its axes in the message
    if (
        not isinstance(frames, torch.Tensor)
        or not frames.is_floating_point()
        or frames.shape != shape
    ):
        raise ValueError(
            f"{name}: expected {layout} = {shape} float frames in [0, 1] matching the labels, "
            f"got {tuple(getattr(frames, 'shape', ()))}"
        )


def generate_clip(
    generator: nn.Module,
    labels: torch.Tensor,
    *,
    given: torch.Tensor | None = None,
    real_history: torch.Tensor | None = None,
    keep: tuple[str, ...] = ("image", "h", "flow", "mask", "warped"),
) -> dict[str, torch.Tensor]:
    """Roll the generator over whole label clips: x̃_t = F(x̃_{t−L}^{t−1}, s_{t−L}^t), t = 0…T−1.

    ``labels`` N×T×H×W class ids, T ≥ L + 1. Label maps before the clip start repeat s_0 and the
    missing previous frames are zeros (x̃_0 is hallucinated from s_0 alone).

    ``given`` (N×G×3×H×W real frames, G ≤ T): the clip's first G frames are taken as they are
    instead of generated, and generation starts at t = G from them — how the authors' code starts
    a training sequence (from real frames), so that the flow and the mask learn on real
    textures. Given frames appear in the output unchanged, with zero flow and mask 0.

    ``real_history`` (N×T×3×H×W real frames): every step is made from the *real* previous
    frames x_{t−L}^{t−1} instead of the generated ones (teacher forcing) — one-step predictions,
    with no feedback of the generator's own output; the free roll-out against this one separates
    the error that accumulates through feedback from the error of a single step.

    Gradients flow through the whole roll-out when enabled (training); wrap in
    ``torch.no_grad()`` to sample. Returns ``{key: N×T×…×H×W}`` for the heads in ``keep``.
    ``generator`` may be wrapped in DistributedDataParallel.
    """
    core = generator.module if hasattr(generator, "module") else generator
    if not isinstance(core, Vid2VidGenerator):
        raise TypeError(f"generator: expected a Vid2VidGenerator, got {type(core).__name__}")
    L = core.history
    labels = _check_clip_labels(labels, core.num_classes, L + 1)
    n, t_len, h, w = labels.shape
    device = next(core.parameters()).device
    labels = labels.to(device)
    start = 0
    if given is not None:
        if (
            not isinstance(given, torch.Tensor)
            or not given.is_floating_point()
            or given.ndim != 5
            or given.shape[0] != n
            or given.shape[2:] != (3, h, w)
            or given.shape[1] > t_len
        ):
            raise ValueError(
                f"given: expected N×G×3×H×W float frames in [0, 1] with N = {n}, H×W = {h}×{w} "
                f"and G ≤ T = {t_len}, got {tuple(getattr(given, 'shape', ()))}"
            )
        start = given.shape[1]
        given = given.to(device)
    if real_history is not None:
        _check_frames(real_history, "real_history", (n, t_len, 3, h, w), "N×T×3×H×W")
        real_history = real_history.to(device)
    padded = torch.cat([labels[:, :1].expand(n, L, h, w), labels], 1)
    history = [torch.zeros(n, 3, h, w, device=device) for _ in range(L)]
    out: dict[str, list[torch.Tensor]] = {k: [] for k in keep}
    for t in range(t_len):
        if t < start:
            assert given is not None
            frame = given[:, t]
            step = {
                "image": frame,
                "h": frame,
                "warped": frame,
                "flow": torch.zeros(n, 2, h, w, device=device),
                "mask": torch.zeros(n, 1, h, w, device=device),
            }
        else:
            step = generator(padded[:, t : t + L + 1], torch.stack(history[-L:], 1), t > 0)
        history.append(step["image"] if real_history is None else real_history[:, t])
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

    def forward(
        self, frames: torch.Tensor, flows: torch.Tensor, scale: int = 0
    ) -> list[torch.Tensor]:
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
