"""The course network ``scene-layout``: a content network that sees the cartoon world's scenes
and not the style they are drawn in.

CartoonGAN's content loss ω·‖φ(G(p)) − φ(p)‖₁ (Chen et al. 2018, eq. 3) lets the generator change
a photo's style only if φ puts a scene's cartoon near its photo — VGG19's conv4_4, trained on
ImageNet's many styles of one object, does that well enough. The course's classifiers do not:
trained on flat shapes, their features change more between a scene's photo and its cartoon than
between two different scenes (:func:`lib.evaluation.cartoongan_bars.content_style_confusion`).

``scene-layout`` is trained for what the content loss needs: per pixel, which shape of the scene
covers it (:func:`lib.datasets.cartoon.scene_layouts`: the shape's drawing order, 0 = the
backdrop; orders ≥ :data:`SCENE_LAYOUT_CLASSES` − 1 share the last class), from **both**
renderings of the cartoon world — cartoons of one set of scenes and photo-like renders of
another (unpaired, as CartoonGAN's own data) — so the label never depends on the style and the
features learn to ignore it. The CartoonGAN test scenes are never among its training scenes.

:class:`SceneLayoutNet`: three stages of 3×3 convolutions with BatchNorm and ReLU (widths
16-32-64; 2, 2 and 3 convolutions; the second and third stages start with stride 2), and a 1×1
head on the three stage outputs upsampled to the input size and concatenated (a hypercolumn,
Hariharan et al. 2015) giving :data:`SCENE_LAYOUT_CLASSES` logits per pixel. About 0.11 M
parameters; input N×3×H×W RGB in [0, 1], normalised as 2x − 1, H and W multiples of 4. Its stage
outputs are the ``"layout"`` backend of :func:`lib.features.perceptual.perceptual_net`.

Weights live in ``data/segmentation/scene-layout.safetensors`` (float16) next to the manifest
(sha256, held-out pixel accuracy on both renderings and the held-out confusion ratio, training
settings); loading checks the checksum (:mod:`lib.weights`: nothing is unpickled).
``python -m lib.train scene_layout`` retrains them (:mod:`lib.train.recipes.scene_layout`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from lib._checks import ArrayLike, check_images, check_positive_int
from lib.paths import DATA_DIR
from lib.weights import load_committed

__all__ = [
    "SCENE_LAYOUT_CLASSES",
    "SCENE_LAYOUT_DIR",
    "SCENE_LAYOUT_NET",
    "SCENE_LAYOUT_WIDTHS",
    "SceneLayoutNet",
    "layout_classes",
    "load_scene_layout_net",
]

SCENE_LAYOUT_DIR = DATA_DIR / "segmentation"
SCENE_LAYOUT_NET = "scene-layout"
SCENE_LAYOUT_WIDTHS = (16, 32, 64)
#: Drawing orders 0 … 10 and "11 or later" (about 4 % of the pixels of the course's scenes).
SCENE_LAYOUT_CLASSES = 12
RETRAIN = "retrain with `python -m lib.train scene_layout`"


def layout_classes(layouts: torch.Tensor) -> torch.Tensor:
    """The network's targets from :func:`~lib.datasets.cartoon.scene_layouts` (N×1×H×W drawing
    orders): N×H×W int64, orders ≥ :data:`SCENE_LAYOUT_CLASSES` − 1 merged into the last class."""
    if layouts.ndim != 4 or layouts.shape[1] != 1 or layouts.is_floating_point():
        raise ValueError(
            f"layouts: expected N×1×H×W integer drawing orders (scene_layouts), got "
            f"{layouts.dtype} of shape {tuple(layouts.shape)}"
        )
    return layouts[:, 0].long().clamp(0, SCENE_LAYOUT_CLASSES - 1)


def _unit(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride, 1),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
    )


class SceneLayoutNet(nn.Module):
    """N×3×H×W RGB in [0, 1] → N×:data:`SCENE_LAYOUT_CLASSES`×H×W logits of the covering shape."""

    def __init__(self, widths: Sequence[int] = SCENE_LAYOUT_WIDTHS) -> None:
        super().__init__()
        widths = tuple(widths)
        if len(widths) != 3 or not all(
            isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in widths
        ):
            raise ValueError(f"widths: expected 3 positive channel counts, got {widths!r}")
        self.widths = widths
        w1, w2, w3 = widths
        self.stages = nn.ModuleList(
            [
                nn.Sequential(_unit(3, w1), _unit(w1, w1)),
                nn.Sequential(_unit(w1, w2, 2), _unit(w2, w2)),
                nn.Sequential(_unit(w2, w3, 2), _unit(w3, w3), _unit(w3, w3)),
            ]
        )
        self.head = nn.Conv2d(sum(widths), SCENE_LAYOUT_CLASSES, 1)
        self._weights = "untrained"

    @property
    def device(self) -> torch.device:
        """The device the network's parameters are on."""
        return next(self.parameters()).device

    def weights_description(self) -> str:
        """Where the weights came from (the committed file and its checksum, or "untrained")."""
        return self._weights

    def describe(self) -> str:
        """A few lines on the network: classes, input, parameters, weights."""
        params = sum(p.numel() for p in self.parameters())
        return "\n".join(
            [
                f"SceneLayoutNet (widths {'-'.join(map(str, self.widths))}, hypercolumn head)",
                f"  classes:    drawing orders 0 … {SCENE_LAYOUT_CLASSES - 2} and "
                f"≥ {SCENE_LAYOUT_CLASSES - 1}",
                "  input:      N×3×H×W float RGB in [0, 1], H and W multiples of 4",
                f"  parameters: {params:,}",
                f"  weights:    {self._weights}",
            ]
        )

    def stage_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The three stage outputs (full, ½ and ¼ resolution), with gradients; no validation."""
        h = x * 2 - 1
        out = []
        for stage in self.stages:
            h = stage(h)
            out.append(h)
        return out

    def train_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits with gradients, for training (no input validation: the caller's own batches)."""
        size = x.shape[-2:]
        maps = [
            f if f.shape[-2:] == size else F.interpolate(f, size=size, mode="bilinear")
            for f in self.stage_features(x)
        ]
        return self.head(torch.cat(maps, 1))

    def _check(self, images: ArrayLike) -> torch.Tensor:
        x = check_images(images, channels=(3,), min_size=4)
        if x.shape[-2] % 4 or x.shape[-1] % 4:
            raise ValueError(
                f"images: H and W must be multiples of 4 (two stride-2 stages), got "
                f"{x.shape[-2]}×{x.shape[-1]}"
            )
        return x.float().to(self.device)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """N×C×H×W logits of one batch (differentiable)."""
        return self.train_logits(self._check(images))

    @torch.no_grad()
    def predict(self, images: ArrayLike, *, batch_size: int = 256) -> torch.Tensor:
        """Layout classes (N×H×W int64, on this network's device), batched, in eval mode (the
        mode is restored afterwards)."""
        x = self._check(images)
        batch_size = check_positive_int(batch_size, "batch_size")
        was_training = self.training
        self.eval()
        try:
            return torch.cat(
                [
                    self.train_logits(x[i : i + batch_size]).argmax(1)
                    for i in range(0, len(x), batch_size)
                ]
            )
        finally:
            self.train(was_training)


def load_scene_layout_net(*, folder: str | os.PathLike | None = None) -> SceneLayoutNet:
    """The trained ``scene-layout`` network, its file's sha256 checked against the manifest
    (``data/segmentation`` unless ``folder`` says otherwise); in eval mode, on the CPU."""
    folder = SCENE_LAYOUT_DIR if folder is None else Path(folder)
    how = f"restore it from the repository or {RETRAIN}"
    entry, state = load_committed(folder, SCENE_LAYOUT_NET, how_to_fix=how)
    net = SceneLayoutNet(tuple(entry.get("widths", SCENE_LAYOUT_WIDTHS)))
    net.load_state_dict(state)
    held_out = entry.get("held_out", {})
    quality = ""
    if {"accuracy_photos", "accuracy_cartoons", "confusion_ratio"} <= set(held_out):
        quality = (
            f" (held-out pixel accuracy {held_out['accuracy_photos']:.3f} on photo renders, "
            f"{held_out['accuracy_cartoons']:.3f} on cartoons; confusion ratio "
            f"{held_out['confusion_ratio']:.2f} at stage3)"
        )
    net._weights = (
        f"{entry['file']} (float16), sha256 {entry['sha256'][:12]}…, trained on the scene "
        f"layouts of cartoons and photo renders{quality}"
    )
    return net.eval()
