"""Clip-level feature networks: what a video Fréchet distance looks through.

An image network sees one frame at a time, so a metric built on it cannot tell a clip from the
same frames in another order. A **clip network** convolves over time as well as space and returns
one vector per clip. FVD (Unterthiner et al. 2018) and vid2vid's "video FID" use I3D (Carreira &
Zisserman 2017), an Inflated-Inception network trained on Kinetics-400 actions; the course trains
a small stand-in on the toy street clips and loads real I3D weights from a local file where a
student has them (:mod:`lib.features.i3d`).

Input convention: clips are float tensors in [0, 1], **N×T×C×H×W** (C = 1 or 3; grey is repeated
to RGB). Every network states the clip length and frame size it was trained for in
:meth:`ClipFeatureExtractor.describe`; frames of another size are resized (antialiased bilinear).

``street-c3d`` — the course network. Four 3×3×3 convolutions (BatchNorm, ReLU; widths
16-32-64-64; stride 2 in space at every layer, in time at the last two) on 8 frames of 64×64,
global average pooling → **64-d features**, a linear head with 6 classes. It is trained
(:mod:`lib.features.train_video`) without labels on the toy street: an 8-frame window is cut from
a clip at a frame step of 1, 2 or 3, played forwards or backwards, and the network names which
of the 6 it is. To answer it must measure how far and which way things move between frames, so
its features respond to motion as well as to appearance — the property a video distance needs.
It never sees a shuffled, jittered or frame-repeated clip in training.

Weights live in ``data/video_features/street-c3d.pt`` (float16) next to ``manifest.json`` (sha256,
held-out accuracy, training settings); loading checks the checksum and reads with
``torch.load(weights_only=True)``; ``python -m lib.features.train_video`` retrains them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from lib._checks import as_tensor, check_choice, check_positive_int, check_unit_range
from lib.paths import DATA_DIR

__all__ = [
    "CLIP_NETWORKS",
    "VIDEO_FEATURES_DIR",
    "ClipFeatureExtractor",
    "StreetC3D",
    "check_clips",
    "get_clip_network",
    "load_street_c3d",
    "random_c3d",
]

VIDEO_FEATURES_DIR = DATA_DIR / "video_features"
STREET_C3D = "street-c3d"
C3D_WIDTHS = (16, 32, 64, 64)
C3D_CLIP_LENGTH = 8
C3D_SIZE = 64
#: The training task's classes: (frame step, direction).
C3D_CLASSES = tuple((step, direction) for direction in (1, -1) for step in (1, 2, 3))
RETRAIN = "retrain with `python -m lib.features.train_video`"


def check_clips(
    clips,
    name: str = "clips",
    *,
    channels: Sequence[int] | None = (1, 3),
    min_frames: int = 1,
    min_size: int = 1,
) -> torch.Tensor:
    """Validate a batch of clips: an N×T×C×H×W float tensor with values in [0, 1].

    Returns the input as a tensor (not copied). A single clip T×C×H×W needs ``clips[None]``.
    """
    x = as_tensor(clips, name)
    if x.ndim != 5:
        hint = " (one clip T×C×H×W needs clips[None])" if x.ndim == 4 else ""
        raise ValueError(f"{name}: expected an N×T×C×H×W tensor, got shape {tuple(x.shape)}{hint}")
    if x.shape[0] == 0:
        raise ValueError(f"{name}: no clips (shape {tuple(x.shape)})")
    if x.shape[1] < min_frames:
        raise ValueError(f"{name}: need at least {min_frames} frames per clip, got {x.shape[1]}")
    if channels is not None and x.shape[2] not in channels:
        raise ValueError(
            f"{name}: expected {' or '.join(map(str, channels))} channel(s) in dimension 2 "
            f"(N×T×C×H×W), got {x.shape[2]} (shape {tuple(x.shape)})"
        )
    if min(x.shape[-2:]) < min_size:
        raise ValueError(
            f"{name}: frames must be at least {min_size}×{min_size}, got "
            f"{x.shape[-2]}×{x.shape[-1]}"
        )
    return check_unit_range(x, name, "clips")


class ClipFeatureExtractor(nn.Module):
    """A clip → feature-vector network (the video analogue of :class:`FeatureExtractor`).

    Subclasses set ``name``, ``num_features``, ``clip_length`` (frames it was trained on),
    ``frame_size``, ``normalisation`` and ``taps``, and implement ``_run(x, taps)`` on a
    validated N×T×3×H×W batch already resized to ``frame_size``.
    """

    name: str = "clip-network"
    num_features: int = 0
    num_classes: int | None = None
    clip_length: int = 8
    min_frames: int = 1
    frame_size: int = 64
    taps: tuple[str, ...] = ("features",)
    default_tap: str = "features"
    normalisation: str = "none"
    default_batch_size: int = 32

    def _run(self, x: torch.Tensor, taps: Sequence[str]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def weights_description(self) -> str:
        return "not stated"

    @property
    def device(self) -> torch.device:
        for tensor in self.parameters():
            return tensor.device
        return torch.device("cpu")

    def prepare(self, clips: torch.Tensor) -> torch.Tensor:
        """N×T×C×H×W in [0, 1] → N×3×T×S×S (grey repeated to RGB, frames resized to S)."""
        n, t, c, h, w = clips.shape
        x = clips.float()
        if c == 1:
            x = x.expand(-1, -1, 3, -1, -1)
        s = self.frame_size
        if (h, w) != (s, s):
            x = F.interpolate(
                x.reshape(n * t, 3, h, w),
                size=(s, s),
                mode="bilinear",
                antialias=True,
                align_corners=False,
            ).reshape(n, t, 3, s, s)
        return x.permute(0, 2, 1, 3, 4)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """Default tap of one batch, differentiable (for use inside a loss)."""
        check_clips(clips.detach(), min_frames=self.min_frames)
        return self._run(self.prepare(clips.to(self.device)), (self.default_tap,))[self.default_tap]

    @torch.no_grad()
    def features(
        self, clips, *, batch_size: int | None = None, tap: str | None = None
    ) -> torch.Tensor:
        """One feature vector per clip, N×D, without gradients, batch by batch."""
        tap = self.default_tap if tap is None else check_choice(tap, "tap", self.taps)
        batch_size = check_positive_int(
            self.default_batch_size if batch_size is None else batch_size, "batch_size"
        )
        x = check_clips(clips, min_frames=self.min_frames)
        was_training = self.training
        self.eval()
        try:
            out = [
                self._run(self.prepare(x[i : i + batch_size].to(self.device)), (tap,))[tap]
                for i in range(0, x.shape[0], batch_size)
            ]
        finally:
            self.train(was_training)
        return torch.cat(out)

    def logits(self, clips, *, batch_size: int | None = None) -> torch.Tensor:
        if "logits" not in self.taps:
            raise NotImplementedError(f"{self.name!r} has no classifier head")
        return self.features(clips, batch_size=batch_size, tap="logits")

    def describe(self) -> str:
        lines = [
            f"{self.name}: {type(self).__name__}, {self.num_features}-d features "
            f"(tap {self.default_tap!r})",
            f"  input:         N×T×C×H×W clips, C = 1 or 3, float in [0, 1]; trained on "
            f"{self.clip_length}-frame clips",
            f"  resize:        frames to {self.frame_size}×{self.frame_size} "
            "(antialiased bilinear)",
            f"  normalisation: {self.normalisation}",
            f"  taps:          {', '.join(self.taps)}",
            f"  weights:       {self.weights_description()}",
            f"  device:        {self.device}",
        ]
        return "\n".join(lines)


class StreetC3D(ClipFeatureExtractor):
    """The course's small 3-D CNN (module docstring): 8 frames of 64×64 → 64-d features."""

    name = STREET_C3D
    clip_length = C3D_CLIP_LENGTH
    min_frames = 4
    frame_size = C3D_SIZE
    taps = ("layer3", "features", "logits")
    normalisation = "x − 0.5"

    def __init__(self, widths: Sequence[int] = C3D_WIDTHS, *, name: str = STREET_C3D) -> None:
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if len(widths) != 4 or min(widths) < 1:
            raise ValueError(f"widths: expected 4 positive channel counts, got {widths!r}")
        self.name = name
        self.widths = widths
        self.num_features = widths[-1]
        self.num_classes = len(C3D_CLASSES)
        strides = ((1, 2, 2), (1, 2, 2), (2, 2, 2), (2, 2, 2))
        layers, previous = [], 3
        for width, stride in zip(widths, strides, strict=True):
            layers.append(
                nn.Sequential(
                    nn.Conv3d(previous, width, 3, stride=stride, padding=1, bias=False),
                    nn.BatchNorm3d(width),
                    nn.ReLU(inplace=True),
                )
            )
            previous = width
        self.layers = nn.ModuleList(layers)
        self.head = nn.Linear(previous, self.num_classes)
        self._weights = "untrained"

    def weights_description(self) -> str:
        return self._weights

    def _run(self, x: torch.Tensor, taps: Sequence[str]) -> dict[str, torch.Tensor]:
        h = x - 0.5
        out = {}
        for k, layer in enumerate(self.layers):
            h = layer(h)
            if k == 2:
                out["layer3"] = h.mean((2, 3, 4))
        out["features"] = h.mean((2, 3, 4))
        if "logits" in taps:
            out["logits"] = self.head(out["features"])
        return out

    def train_logits(self, clips: torch.Tensor) -> torch.Tensor:
        """Logits with gradients for training (the caller's own N×T×3×H×W batches)."""
        return self._run(self.prepare(clips), ("logits",))["logits"]


def load_street_c3d(*, folder: str | os.PathLike | None = None) -> StreetC3D:
    """The trained course clip network, its file's sha256 checked against the manifest."""
    from lib.train import read_manifest, read_weights

    folder = VIDEO_FEATURES_DIR if folder is None else Path(folder)
    manifest = read_manifest(folder, how_to_fix=RETRAIN)
    entry = manifest.get(STREET_C3D)
    if entry is None:
        raise FileNotFoundError(f"{folder}/manifest.json has no {STREET_C3D!r} entry; {RETRAIN}")
    path = folder / f"{STREET_C3D}.pt"
    state = read_weights(path, sha256=entry["sha256"], how_to_fix=RETRAIN)
    net = StreetC3D(tuple(entry.get("widths", C3D_WIDTHS)))
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    net._weights = (
        f"{path.name} (float16), sha256 {entry['sha256'][:12]}…, self-supervised on toy street "
        f"clips (held-out step/direction accuracy {entry['test_accuracy']:.3f})"
    )
    return net.eval()


@torch.no_grad()
def random_c3d(*, seed: int = 0, calibration_clips: int = 64) -> StreetC3D:
    """The course clip network with random weights: the "no training" baseline.

    Kaiming-normal convolutions from a generator seeded with ``seed``; the BatchNorm statistics
    are calibrated on uniform-noise clips of the same seed, so features have unit-order scale.
    """
    gen = torch.Generator().manual_seed(int(seed))
    net = StreetC3D(name="random-c3d")
    for module in net.modules():
        if isinstance(module, nn.Conv3d | nn.Linear):
            fan_in = module.weight[0].numel()
            module.weight.copy_(
                torch.randn(module.weight.shape, generator=gen) * (2 / fan_in) ** 0.5
            )
    noise = torch.rand(calibration_clips, C3D_CLIP_LENGTH, 3, C3D_SIZE, C3D_SIZE, generator=gen)
    for module in net.modules():
        if isinstance(module, nn.BatchNorm3d):
            module.reset_running_stats()
            module.momentum = None
    net.train()
    net._run(net.prepare(noise), ("features",))
    net.eval()
    net._weights = f"random (Kaiming normal, seed {seed}), BatchNorm calibrated on noise"
    return net


def _i3d(**kwargs):
    from lib.features.i3d import InceptionI3D

    return InceptionI3D(**kwargs)


#: name → builder; ``get_clip_network(name, **kwargs)`` calls it.
CLIP_NETWORKS = {
    STREET_C3D: load_street_c3d,
    "random-c3d": random_c3d,
    "i3d": _i3d,
}


def get_clip_network(
    name: str = STREET_C3D, *, device: str | torch.device = "cpu", **kwargs
) -> ClipFeatureExtractor:
    """A clip network by name: ``"street-c3d"`` (trained, committed), ``"random-c3d"`` or
    ``"i3d"`` (Kinetics weights from a local file only; see :mod:`lib.features.i3d`)."""
    from lib.device import resolve_device

    check_choice(name, "name", tuple(CLIP_NETWORKS))
    return CLIP_NETWORKS[name](**kwargs).to(resolve_device(device)).eval()
