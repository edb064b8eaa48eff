"""VGG19 as a :class:`~lib.features.base.FeatureExtractor` for the metrics."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from lib._checks import check_choice
from lib.features.base import FeatureExtractor
from lib.features.perceptual.vgg19 import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    VGG19_LAYERS,
    _imagenet_normalise,
    _load_vgg19_modules,
)

# ---------------------------------------------------------------------------------------------
# VGG19 as a feature extractor for the metrics

_VGG19_FEATURE_TAPS = {
    "relu1_1": 64,
    "relu2_1": 128,
    "relu3_1": 256,
    "relu4_1": 512,
    "relu5_1": 512,
    "fc7": 4096,
    "logits": 1000,
}
_VGG19_INPUT_SIZE = 224


class VGG19Features(FeatureExtractor):
    """VGG19 (torchvision, ImageNet weights from a local file) as a feature extractor.

    Taps: ``relu1_1`` … ``relu5_1`` (spatial means of those maps: 64, 128, 256, 512, 512-d),
    ``fc7`` (4096-d, the second fully-connected layer after its ReLU — the VGG feature that
    Kynkäänniemi et al. use, with VGG16, for precision/recall) and ``logits`` (1000 ImageNet
    classes). Input float [0, 1] RGB or grey (repeated to RGB), resized to 224×224 with
    antialiased bilinear interpolation (the weights were trained on 224 crops; no centre crop
    here), ImageNet mean/std. Needs the complete weights file (classifier included).

    Args:
        path: the weights file; default :func:`find_vgg19_weights`.
        tap: what :meth:`features` returns (``"fc7"`` by default).
    """

    name = "vgg19"
    num_classes = 1000
    taps = tuple(_VGG19_FEATURE_TAPS)
    default_tap = "fc7"
    logits_tap = "logits"
    input_channels = (1, 3)
    input_range = "float images in [0, 1]; grey images repeated to RGB"
    resize = "antialiased bilinear to 224×224 (no crop)"
    normalisation = f"ImageNet: (x − {list(IMAGENET_MEAN)}) / {list(IMAGENET_STD)} per channel"
    default_batch_size = 32

    def __init__(self, path: str | os.PathLike | None = None, *, tap: str = "fc7") -> None:
        super().__init__()
        check_choice(tap, "tap", self.taps)
        body, classifier, self._weights_info = _load_vgg19_modules(
            path, len(VGG19_LAYERS) - 1, classifier=True
        )
        assert classifier is not None  # classifier=True always loads it
        self.body, self.classifier = body, classifier
        self.requires_grad_(False)
        self.eval()
        self.default_tap = tap
        self.num_features = _VGG19_FEATURE_TAPS[tap]

    def weights_description(self) -> str:
        return self._weights_info

    def train(self, mode: bool = True) -> VGG19Features:
        """Always eval mode: the classifier's dropout must never make the features random."""
        return super().train(False)

    def _run(self, x: torch.Tensor, taps: Sequence[str]) -> dict[str, torch.Tensor]:
        h = x.to(cast(nn.Linear, self.classifier[0]).weight.dtype)
        if h.shape[-2:] != (_VGG19_INPUT_SIZE, _VGG19_INPUT_SIZE):
            h = F.interpolate(
                h,
                size=(_VGG19_INPUT_SIZE, _VGG19_INPUT_SIZE),
                mode="bilinear",
                antialias=True,
                align_corners=False,
            )
        h = _imagenet_normalise(h)
        wanted = {VGG19_LAYERS[t]: t for t in taps if t in VGG19_LAYERS}
        head = "fc7" in taps or "logits" in taps
        last = len(self.body) - 1 if head else max(wanted)
        out = {}
        for index, module in enumerate(self.body):
            h = module(h)
            if index in wanted:
                out[wanted[index]] = h.mean((2, 3))
            if index == last:
                break
        if head:
            h = torch.flatten(F.adaptive_avg_pool2d(h, (7, 7)), 1)
            fc7 = self.classifier[:5](h)
            out["fc7"] = fc7
            if "logits" in taps:
                out["logits"] = self.classifier[5:](fc7)
        return out
