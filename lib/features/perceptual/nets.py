"""The perceptual networks: one interface (:class:`PerceptualNet`), three backends (VGG19, a
course classifier and the course's scene-layout network)."""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Mapping, Sequence
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from lib._checks import ArrayLike, as_tensor, check_images
from lib.features.classifiers import COURSE_CLASSIFIERS, CourseCNN, load_course_classifier
from lib.features.perceptual.vgg19 import (
    _VGG19_CHANNELS,
    IMAGENET_MEAN,
    IMAGENET_STD,
    VGG19_LAYERS,
    _imagenet_normalise,
    _load_vgg19_modules,
)
from lib.features.scene_layout import SceneLayoutNet, load_scene_layout_net

#: The layout network's layers (:class:`LayoutPerceptual`).
SCENE_LAYOUT_LAYERS: tuple[str, ...] = ("stage1", "stage2", "stage3")

#: vid2vid / pix2pixHD VGG-loss weights (pix2pixHD, Wang et al. 2018): deeper layers count more.
VID2VID_LAYER_WEIGHTS: dict[str, float] = {
    "relu1_1": 1 / 32,
    "relu2_1": 1 / 16,
    "relu3_1": 1 / 8,
    "relu4_1": 1 / 4,
    "relu5_1": 1.0,
}

_COURSE_WIDTHS = (24, 48, 96, 96)
#: The course network's layers: each stage after its ReLU (before pooling), and before the ReLU.
COURSE_LAYERS: tuple[str, ...] = tuple(f"stage{k}" for k in range(1, 5)) + tuple(
    f"stage{k}_pre" for k in range(1, 5)
)
#: Default weights of the course backend — the course's choice, not from a paper: the same
#: "deeper counts more, halving per stage" pattern as vid2vid's.
COURSE_LAYER_WEIGHTS: dict[str, float] = {
    "stage1": 1 / 8,
    "stage2": 1 / 4,
    "stage3": 1 / 2,
    "stage4": 1.0,
}


# ---------------------------------------------------------------------------------------------
# The perceptual networks


class PerceptualNet(nn.Module):
    """A frozen network that returns intermediate feature maps at named layers.

    ``net(images)`` → ``{layer: N×C_l×H_l×W_l}`` for :attr:`layers` (in that order), or for a
    subset with ``net(images, layers=[...])``. Differentiable with respect to ``images`` (float
    N×C×H×W in [0, 1], validated; moved to the network's device and dtype); the parameters have
    ``requires_grad=False`` and the module stays in eval mode even when a parent module calls
    ``.train()`` (so BatchNorm statistics never change).

    Attributes: :attr:`backend` (``"vgg19"`` or ``"course"``), :attr:`layers`,
    :attr:`available_layers`, :attr:`default_layer_weights` (what :func:`perceptual_loss` uses
    when given no weights; layers not listed there weigh 1). :meth:`describe` states it all.
    """

    backend: str = ""
    available_layers: tuple[str, ...] = ()
    default_layers: tuple[str, ...] = ()
    default_layer_weights: Mapping[str, float] = {}
    input_channels: tuple[int, ...] = (1, 3)
    normalisation: str = "none"
    resize: str = "none"
    channels_note: str = "grey repeated to RGB"

    def __init__(self, layers: Sequence[str] | None) -> None:
        super().__init__()
        self.layers = self._check_layers(self.default_layers if layers is None else layers)
        self.min_size = 1

    # -- what a subclass provides ----------------------------------------------------------

    def _run(self, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        raise NotImplementedError(f"{type(self).__name__} must implement _run(x, layers)")

    def weights_description(self) -> str:
        return "not stated"

    def network_description(self) -> str:
        return type(self).__name__

    def layer_channels(self, layer: str) -> int:
        raise NotImplementedError

    # -- public ----------------------------------------------------------------------------

    def _check_layers(self, layers, name: str = "layers") -> tuple[str, ...]:
        if isinstance(layers, str):
            layers = (layers,)
        try:
            layers = tuple(layers)
        except TypeError:
            raise TypeError(
                f"{name}: expected a sequence of layer names, got {type(layers).__name__}"
            ) from None
        if not layers:
            raise ValueError(f"{name}: ask for at least one layer of the {self.backend} network")
        unknown = [layer for layer in layers if layer not in self.available_layers]
        if unknown:
            raise ValueError(
                f"{name}: unknown layer(s) {', '.join(map(repr, unknown))} for the "
                f"{self.backend!r} backend; available: {', '.join(self.available_layers)}"
            )
        return tuple(dict.fromkeys(layers))  # drop repeats, keep the order

    @property
    def device(self) -> torch.device:
        for tensor in self.parameters():
            return tensor.device
        for tensor in self.buffers():
            return tensor.device
        return torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        for tensor in self.parameters():
            return tensor.dtype
        return torch.get_default_dtype()

    def train(self, mode: bool = True) -> PerceptualNet:
        """Always eval mode: a frozen loss network must not update BatchNorm statistics."""
        return super().train(False)

    def validate(self, images: ArrayLike, name: str = "images") -> torch.Tensor:
        """Check an image batch (float N×C×H×W in [0, 1], C = 1 or 3) and return it as given."""
        images = as_tensor(images, name)
        check_images(images.detach(), name, channels=self.input_channels, min_size=self.min_size)
        return images

    def forward(
        self, images: torch.Tensor, layers: Sequence[str] | None = None
    ) -> dict[str, torch.Tensor]:
        """``{layer: feature map}`` for :attr:`layers` (or a subset of them), with gradients."""
        layers = self.layers if layers is None else self._subset(layers)
        x = self.validate(images)
        return self._features(x, layers)

    def _subset(self, layers, name: str = "layers") -> tuple[str, ...]:
        layers = self._check_layers(layers, name)
        outside = [layer for layer in layers if layer not in self.layers]
        if outside:
            raise ValueError(
                f"{name}: {', '.join(map(repr, outside))} not among the layers this network was "
                f"built for ({', '.join(self.layers)}); build it with "
                f"perceptual_net(layers=[...]) including them"
            )
        return layers

    def _features(self, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        out = self._run(x.to(self.device, self.dtype), layers)
        return {layer: out[layer] for layer in layers}

    def describe(self) -> str:
        """A few lines saying which network this is, its weights, layers and input convention."""
        weights = ", ".join(
            f"{layer} {_fraction(self.default_layer_weights.get(layer, 1.0))}"
            for layer in self.layers
        )
        layers = ", ".join(f"{layer} ({self.layer_channels(layer)} ch)" for layer in self.layers)
        lines = [
            f"perceptual network: backend {self.backend!r} — {self.network_description()}",
            f"  weights:       {self.weights_description()}",
            f"  layers:        {layers}",
            f"  loss weights:  {weights} (perceptual_loss default)",
            f"  input:         N×C×H×W float in [0, 1], C = "
            f"{' or '.join(map(str, self.input_channels))} ({self.channels_note}); "
            f"at least {self.min_size}×{self.min_size}",
            f"  resize:        {self.resize}",
            f"  normalisation: {self.normalisation}",
            f"  device:        {self.device}",
        ]
        return "\n".join(lines)

    def extra_repr(self) -> str:
        return f"backend={self.backend!r}, layers={list(self.layers)}"


def _fraction(w: float) -> str:
    if w > 0 and math.log2(w).is_integer() and w < 1:
        return f"1/{round(1 / w)}"
    return f"{w:g}"


class VGG19Perceptual(PerceptualNet):
    """torchvision's VGG19 ``features`` with local ImageNet weights, cut after the deepest layer.

    Args:
        layers: VGG names (:data:`VGG19_LAYERS`: ``convB_K``, ``reluB_K``, ``poolB``); default
            relu1_1 … relu5_1 (the vid2vid loss). ``conv4_4`` is CartoonGAN's pre-ReLU layer.
        path: the weights file; default :func:`find_vgg19_weights` (``vgg19-dcbb9e9d.pth`` in
            ``torch.hub.get_dir()/checkpoints``). A features-only state dict is accepted.

    Input float [0, 1] (grey repeated to RGB), ``(x − mean) / std`` with the ImageNet statistics,
    no resizing: the maps of layer ``l`` are H/2^p × W/2^p after p pools, so H and W must be at
    least 2^p for the deepest layer.
    """

    backend = "vgg19"
    available_layers = tuple(VGG19_LAYERS)
    default_layers = tuple(VID2VID_LAYER_WEIGHTS)
    default_layer_weights = VID2VID_LAYER_WEIGHTS
    normalisation = f"ImageNet: (x − {list(IMAGENET_MEAN)}) / {list(IMAGENET_STD)} per channel"
    resize = "none (feature maps shrink ×2 at each pool)"

    def __init__(
        self, layers: Sequence[str] | None = None, path: str | os.PathLike | None = None
    ) -> None:
        super().__init__(layers)
        last = max(VGG19_LAYERS[layer] for layer in self.layers)
        self.features, _, self._weights_info = _load_vgg19_modules(path, last, classifier=False)
        self.requires_grad_(False)
        self.eval()
        pools = sum(1 for name, i in VGG19_LAYERS.items() if name.startswith("pool") and i <= last)
        self.min_size = 2**pools

    def weights_description(self) -> str:
        return self._weights_info

    def network_description(self) -> str:
        return "VGG19 (torchvision layout), ImageNet weights"

    def layer_channels(self, layer: str) -> int:
        return _VGG19_CHANNELS[int(layer[-3] if "_" in layer else layer[-1])]

    def preprocess(self, images: ArrayLike) -> torch.Tensor:
        """Images → the normalised network input (grey repeated to RGB, ImageNet mean/std)."""
        x = self.validate(images)
        return _imagenet_normalise(x.to(self.device, self.dtype))

    def _run(self, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        wanted = {VGG19_LAYERS[layer]: layer for layer in layers}
        last = max(wanted)
        out = {}
        h = _imagenet_normalise(x)
        for index, module in enumerate(self.features):
            h = module(h)
            if index in wanted:
                out[wanted[index]] = h
            if index == last:
                break
        return out


class CoursePerceptual(PerceptualNet):
    """A course classifier's stage outputs as perceptual features.

    Args:
        layers: ``stage1`` … ``stage4`` (after the ReLU, before the 2×2 max-pool) and
            ``stage1_pre`` … ``stage4_pre`` (before the ReLU); default stage1 … stage4 with
            weights 1/8, 1/4, 1/2, 1 (:data:`COURSE_LAYER_WEIGHTS`).
        network: ``"shapes-cnn"`` (default), ``"digits-cnn"`` (loaded with
            :func:`~lib.features.classifiers.load_course_classifier`, checksum checked) or a
            :class:`~lib.features.classifiers.CourseCNN` (e.g. ``random_cnn()``), which is
            copied, so the caller's network is left as it was.

    Input through ``CourseCNN.prepare``: channels matched, antialiased bilinear resize to 32×32,
    ``x − 0.5``; the maps are 32, 16, 8 and 4 px on a side.
    """

    backend = "course"
    available_layers = COURSE_LAYERS
    default_layers = tuple(COURSE_LAYER_WEIGHTS)
    default_layer_weights = COURSE_LAYER_WEIGHTS
    normalisation = "x − 0.5 (CourseCNN.prepare; RGB → luma for a grey network)"
    resize = "antialiased bilinear to 32×32 (CourseCNN.prepare) when the input is another size"
    channels_note = "matched to the network by CourseCNN.prepare"

    def __init__(
        self, layers: Sequence[str] | None = None, network: str | CourseCNN = "shapes-cnn"
    ) -> None:
        super().__init__(layers)
        if isinstance(network, str):
            network = load_course_classifier(network)
        elif isinstance(network, CourseCNN):
            network = copy.deepcopy(network)
        else:
            raise TypeError(
                f"network: expected a course classifier name ({', '.join(COURSE_CLASSIFIERS)}) "
                f"or a CourseCNN, got {type(network).__name__}"
            )
        self.network = network
        self.requires_grad_(False)
        self.eval()
        self.min_size = network.min_size

    def weights_description(self) -> str:
        return self.network.weights_description()

    def network_description(self) -> str:
        return f"course network {self.network.name!r} (CourseCNN, {self.network.in_channels}-ch)"

    def layer_channels(self, layer: str) -> int:
        return _COURSE_WIDTHS[int(layer[len("stage")]) - 1]

    def _run(self, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        # CourseCNN's own forward, step by step: each stage is conv → BatchNorm → ReLU, with a
        # 2×2 max-pool between stages. Its ReLU is in-place, so the out-of-place F.relu keeps
        # the pre-ReLU map intact.
        last = max(int(layer[len("stage")]) for layer in layers)
        out = {}
        h = self.network.prepare(x)
        stages = self.network.stages
        for k, stage in enumerate(stages, start=1):
            stage = cast(nn.Sequential, stage)  # CourseCNN builds every stage as a Sequential
            pre = stage[1](stage[0](h))
            h = F.relu(pre)
            out[f"stage{k}_pre"], out[f"stage{k}"] = pre, h
            if k == last:
                break
            if k < len(stages):
                h = F.max_pool2d(h, 2)
        return out


class LayoutPerceptual(PerceptualNet):
    """The course network ``scene-layout``'s stage outputs as perceptual features: a content
    network for the cartoon world that sees which shape covers each pixel and little of the
    style it is drawn in (:mod:`lib.features.scene_layout`).

    Args:
        layers: ``stage1`` (full resolution, 16 ch), ``stage2`` (½, 32 ch), ``stage3`` (¼, 64 ch),
            each after its last ReLU; default ``stage3``.
        network: a :class:`~lib.features.scene_layout.SceneLayoutNet` (copied, so the caller's
            network is left as it was); default the committed weights
            (:func:`~lib.features.scene_layout.load_scene_layout_net`, checksum checked).

    Input N×3×H×W RGB in [0, 1] (H, W multiples of 4), ``2x − 1``, not resized.
    """

    backend = "layout"
    available_layers = SCENE_LAYOUT_LAYERS
    default_layers = ("stage3",)
    default_layer_weights = {"stage3": 1.0}
    input_channels = (3,)
    normalisation = "2x − 1"
    resize = "none (stage2 and stage3 maps are ½ and ¼ of the input's size)"
    channels_note = "RGB only"

    def __init__(
        self, layers: Sequence[str] | None = None, network: SceneLayoutNet | None = None
    ) -> None:
        super().__init__(layers)
        if network is None:
            network = load_scene_layout_net()
        elif isinstance(network, SceneLayoutNet):
            network = copy.deepcopy(network)
        else:
            raise TypeError(f"network: expected a SceneLayoutNet, got {type(network).__name__}")
        self.network = network
        self.requires_grad_(False)
        self.eval()
        self.min_size = 4

    def weights_description(self) -> str:
        return self.network.weights_description()

    def network_description(self) -> str:
        return "course network 'scene-layout' (SceneLayoutNet)"

    def layer_channels(self, layer: str) -> int:
        return self.network.widths[SCENE_LAYOUT_LAYERS.index(layer)]

    def validate(self, images: ArrayLike, name: str = "images") -> torch.Tensor:
        images = super().validate(images, name)
        if images.shape[-2] % 4 or images.shape[-1] % 4:
            raise ValueError(
                f"{name}: H and W must be multiples of 4 for the layout network, got "
                f"{images.shape[-2]}×{images.shape[-1]}"
            )
        return images

    def _run(self, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        maps = self.network.stage_features(x)
        return dict(zip(SCENE_LAYOUT_LAYERS, maps, strict=True))
