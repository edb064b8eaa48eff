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
(:mod:`lib.train.recipes.clip_network`) without labels on the toy street: an 8-frame window is
cut from a clip at a frame step of 1, 2 or 3, played forwards or backwards, and the network names
which of the 6 it is. To answer it must measure how far and which way things move between frames, so
its features respond to motion as well as to appearance — the property a video distance needs.
It never sees a shuffled, jittered or frame-repeated clip in training.

Weights live in ``data/video_features/street-c3d.safetensors`` (float16) next to
``manifest.json`` (sha256, held-out accuracy, training settings); loading checks the checksum and
reads them with :mod:`lib.weights` (safetensors: nothing is unpickled);
``python -m lib.train clip_network`` retrains them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lib._checks import check_choice, check_clips
from lib.features.base import ClipFeatureExtractor
from lib.features.i3d import InceptionI3D
from lib.features.registry import available, get, register
from lib.paths import DATA_DIR
from lib.weights import MANIFEST, read_manifest, read_weights, weights_file

__all__ = [
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
RETRAIN = "retrain with `python -m lib.train clip_network`"


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
    folder = VIDEO_FEATURES_DIR if folder is None else Path(folder)
    manifest = read_manifest(folder, how_to_fix=RETRAIN)
    entry = manifest.get(STREET_C3D)
    if entry is None:
        raise FileNotFoundError(f"{folder / MANIFEST} has no entry {STREET_C3D!r}; {RETRAIN}")
    path = folder / weights_file(STREET_C3D)
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


register(STREET_C3D, load_street_c3d, kind="clip")
register("random-c3d", random_c3d, kind="clip")
register("i3d", InceptionI3D, kind="clip")


def get_clip_network(
    name: str = STREET_C3D, *, device: str | torch.device = "cpu", **kwargs: Any
) -> ClipFeatureExtractor:
    """A clip network by name: ``"street-c3d"`` (trained, committed), ``"random-c3d"`` or
    ``"i3d"`` (Kinetics weights from a local file only; see :mod:`lib.features.i3d`); the
    ``"clip"`` kind of :func:`lib.features.registry.get`."""
    check_choice(name, "name", available("clip"))
    return get(name, device, kind="clip", **kwargs)
