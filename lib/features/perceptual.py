"""Perceptual feature taps and the perceptual loss of vid2vid, Everybody Dance Now and CartoonGAN.

A perceptual loss compares two images through the intermediate feature maps of a frozen
network instead of pixel by pixel (REFERENCE §B):

- **vid2vid** and **Everybody Dance Now** (pix2pixHD's VGG loss, weight 10):
  Σ_l w_l · mean |φ_l(x) − φ_l(y)| over VGG19's relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 with
  w = 1/32, 1/16, 1/8, 1/4, 1 (:data:`VID2VID_LAYER_WEIGHTS`, the default here);
- **CartoonGAN** content loss: ω · ‖φ(G(p)) − φ(p)‖₁ with ω = 10 and φ = VGG19 **conv4_4 before
  its ReLU**: ``10 * perceptual_loss(perceptual_net(["conv4_4"]), G(p), p)``.

Two backends give the same interface (:class:`PerceptualNet`: ``net(images)`` →
``{layer: N×C×h×w}``, differentiable with respect to the images, parameters frozen, always in
eval mode):

- ``"vgg19"`` (:class:`VGG19Perceptual`): torchvision's ``vgg19`` architecture with the
  ImageNet weights read from a local file only — ``vgg19-dcbb9e9d.pth`` in
  ``torch.hub.get_dir()/checkpoints`` (where torchvision caches it) or an explicit ``path=``; the
  file name's sha256 prefix is checked and it is read with ``torch.load(weights_only=True)``.
  Layers use the standard VGG names (``conv3_2``, ``relu3_2``, ``pool3``, ...;
  :data:`VGG19_LAYERS` maps them to indices of torchvision's ``features``). Input: float
  [0, 1], N×C×H×W with C = 3 (grey C = 1 repeated to RGB), normalised with the ImageNet
  mean/std, not resized. The network is cut after the deepest layer asked for.
- ``"course"`` (:class:`CoursePerceptual`): a course classifier (default the trained
  ``shapes-cnn``; see :mod:`lib.features.classifiers`). Its layers are ``stage1`` … ``stage4``,
  each stage's output after its ReLU and **before** the 2×2 max-pool (32, 16, 8 and 4 px on a
  side, 24/48/96/96 channels), and ``stage1_pre`` … ``stage4_pre``, the same maps before the ReLU
  (the analogue of CartoonGAN's pre-ReLU conv4_4). Input goes through ``CourseCNN.prepare``:
  channels matched (grey repeated to RGB for shapes-cnn), resized to 32×32 with antialiased
  bilinear interpolation, ``x − 0.5`` — so detail finer than the 32×32 scale is invisible to it.

:func:`perceptual_net` picks the backend: ``"auto"`` uses VGG19 when its weights file is on disk
and otherwise the course network, with a ``UserWarning``; ``net.backend`` and ``net.describe()``
say which one it is, so a notebook can print it. :func:`perceptual_loss` computes the loss.

:class:`VGG19Features` is the same VGG19 as a :class:`~lib.features.base.FeatureExtractor`
(taps: spatial means of relu1_1 … relu5_1, ``fc7`` and the 1000 ImageNet ``logits``), for the
metrics and the "which feature network" experiments; it needs the complete weights file.

Nothing is downloaded; a missing file raises ``FileNotFoundError`` saying where to put it.
"""

from __future__ import annotations

import copy
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from lib._checks import as_tensor, check_choice, check_images
from lib._io import (
    HASH_IN_NAME,
    check_name_hash,
    hub_checkpoints_dir,
    load_state_dict,
    state_dict_problems,
)
from lib.device import resolve_device
from lib.features.base import FeatureExtractor
from lib.features.classifiers import COURSE_CLASSIFIERS, CourseCNN, load_course_classifier

__all__ = [
    "PerceptualNet",
    "VGG19Perceptual",
    "CoursePerceptual",
    "VGG19Features",
    "perceptual_net",
    "perceptual_loss",
    "find_vgg19_weights",
    "load_vgg19_weights",
    "vgg19_weights_dir",
    "VGG19_WEIGHTS_NAME",
    "VGG19_WEIGHTS_URL",
    "VGG19_LAYERS",
    "VID2VID_LAYER_WEIGHTS",
    "COURSE_LAYERS",
    "COURSE_LAYER_WEIGHTS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
]

VGG19_WEIGHTS_NAME = "vgg19-dcbb9e9d.pth"
# Where the file can be fetched by hand; lib itself never downloads anything.
VGG19_WEIGHTS_URL = "https://download.pytorch.org/models/" + VGG19_WEIGHTS_NAME
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _vgg19_layer_names() -> dict[str, int]:
    # torchvision's vgg19 "features": per block, (conv, ReLU) × n, then a 2×2 max-pool.
    names, index = {}, 0
    for block, convs in enumerate((2, 2, 4, 4, 4), start=1):
        for k in range(1, convs + 1):
            names[f"conv{block}_{k}"] = index
            names[f"relu{block}_{k}"] = index + 1
            index += 2
        names[f"pool{block}"] = index
        index += 1
    return names


#: Standard VGG layer name → index in torchvision's ``vgg19().features`` (the output of that
#: module), e.g. ``relu1_1`` → 1, ``conv4_4`` → 25, ``relu5_1`` → 29, ``pool5`` → 36.
VGG19_LAYERS: dict[str, int] = _vgg19_layer_names()
_VGG19_CHANNELS = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}

#: vid2vid / pix2pixHD VGG-loss weights (REFERENCE §B): deeper layers count more.
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
# Weights: finding, checking, loading


def vgg19_weights_dir() -> Path:
    """The folder searched for the VGG19 weights: ``torch.hub.get_dir()/checkpoints``
    (``$TORCH_HOME/hub/checkpoints``), where torchvision caches ``vgg19-dcbb9e9d.pth``."""
    return hub_checkpoints_dir()


def _how_to_get_weights() -> str:
    folder = vgg19_weights_dir()
    return (
        f"Put torchvision's VGG19 ImageNet weights\n    {VGG19_WEIGHTS_NAME}\ninto the folder\n"
        f"    {folder}\n(set $TORCH_HOME to use another cache folder), or pass path=... . On a "
        f"machine with internet the file can be fetched from\n    {VGG19_WEIGHTS_URL}\n"
        f"e.g. `curl -L -o {folder}/{VGG19_WEIGHTS_NAME} {VGG19_WEIGHTS_URL}`; calling "
        "torchvision.models.vgg19(weights='IMAGENET1K_V1') once also caches it there. lib never "
        "downloads it. Without it, perceptual_net(backend='auto') uses a course network."
    )


def find_vgg19_weights(path: str | os.PathLike | None = None) -> Path:
    """The VGG19 weights file to load.

    ``path`` if given (it must exist). Otherwise, in :func:`vgg19_weights_dir`:
    ``vgg19-dcbb9e9d.pth`` (torchvision's file), or else any other ``vgg19-<sha256 prefix>.pth``
    (same architecture, torch hub naming; the first in sorted order). Raises
    ``FileNotFoundError`` naming the file and the folder, and saying how to get it.
    """
    if path is not None:
        candidate = Path(path).expanduser()
        if not candidate.is_file():
            raise FileNotFoundError(
                f"path: no VGG19 weights file at {candidate}.\n{_how_to_get_weights()}"
            )
        return candidate
    folder = vgg19_weights_dir()
    if (folder / VGG19_WEIGHTS_NAME).is_file():
        return folder / VGG19_WEIGHTS_NAME
    others = sorted(
        p
        for p in folder.glob("vgg19-*.pth")
        if p.is_file() and HASH_IN_NAME.fullmatch(p.name[len("vgg19") :])
    )
    if others:
        return others[0]
    raise FileNotFoundError(
        f"The VGG19 weights are not on this machine (looked for {VGG19_WEIGHTS_NAME} in "
        f"{folder}).\n{_how_to_get_weights()}"
    )


def _expected_vgg19_shapes() -> dict[str, torch.Size]:
    with torch.device("meta"):  # shapes only: no memory, no init time
        skeleton = torchvision.models.vgg19(weights=None)
    return {key: value.shape for key, value in skeleton.state_dict().items()}


def load_vgg19_weights(
    path: str | os.PathLike, *, classifier: bool = False
) -> tuple[dict[str, torch.Tensor], str]:
    """Read and check a VGG19 weights file; returns ``(state_dict, sha256)``.

    - A file name carrying a hash (torch hub convention ``vgg19-<hex>.pth``) must match the
      file's sha256 prefix, else ``ValueError`` (corrupt, partial or different file).
    - Read with ``torch.load(weights_only=True)``: a file with other pickled objects is refused
      (``ValueError``), never executed.
    - Keys and shapes must be torchvision's ``vgg19`` (a ``module.`` prefix is removed). The
      ``classifier.*`` tensors may be absent (a features-only file) unless ``classifier=True``.
      Floating-point tensors are returned as float32.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"path: no file at {path}.\n{_how_to_get_weights()}")
    digest = check_name_hash(path)
    loaded = load_state_dict(path)
    state_dict = {
        (k[len("module.") :] if k.startswith("module.") else k): (
            v.float() if v.is_floating_point() else v
        )
        for k, v in loaded.items()
    }
    expected = _expected_vgg19_shapes()
    required = [k for k in expected if classifier or k.startswith("features.")]
    problems = state_dict_problems(state_dict, expected, required)
    if problems:
        raise ValueError(
            f"{path}: not torchvision's VGG19 weights ({VGG19_WEIGHTS_NAME} layout; vgg19_bn and "
            "other VGG depths are different networks): " + "; ".join(problems)
        )
    return state_dict, digest


def _load_vgg19_modules(
    path: str | os.PathLike | None, last_index: int, classifier: bool
) -> tuple[nn.Sequential, nn.Sequential | None, str]:
    """torchvision's VGG19 ``features[:last_index + 1]`` (and its classifier) with loaded weights.

    ReLUs are made out-of-place, so that a pre-ReLU map handed out (conv4_4) is not overwritten
    by the next module, and autograd sees every map as it was returned.
    """
    file = find_vgg19_weights(path)
    state_dict, digest = load_vgg19_weights(file, classifier=classifier)
    with torch.device("meta"):  # no time or memory spent on an init that is overwritten
        skeleton = torchvision.models.vgg19(weights=None)
    features = skeleton.features[: last_index + 1]
    features.load_state_dict(
        {
            k[len("features.") :]: v
            for k, v in state_dict.items()
            if k.startswith("features.") and int(k.split(".")[1]) <= last_index
        },
        assign=True,
    )
    head = None
    if classifier:
        head = skeleton.classifier
        head.load_state_dict(
            {
                k[len("classifier.") :]: v
                for k, v in state_dict.items()
                if k.startswith("classifier.")
            },
            assign=True,
        )
    for module in [*features, *(head if head is not None else [])]:
        if isinstance(module, nn.ReLU):
            module.inplace = False
    return features, head, f"{file} (sha256 {digest[:16]}…)"


def _imagenet_normalise(x: torch.Tensor) -> torch.Tensor:
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    mean = torch.tensor(IMAGENET_MEAN, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - mean) / std


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

    def validate(self, images, name: str = "images") -> torch.Tensor:
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
            f"  input:         N×C×H×W float in [0, 1], C = 1 or 3 ({self.channels_note}); "
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

    def preprocess(self, images) -> torch.Tensor:
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
            pre = stage[1](stage[0](h))
            h = F.relu(pre)
            out[f"stage{k}_pre"], out[f"stage{k}"] = pre, h
            if k == last:
                break
            if k < len(stages):
                h = F.max_pool2d(h, 2)
        return out


def perceptual_net(
    layers: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    backend: str = "auto",
    path: str | os.PathLike | None = None,
    device: str | torch.device | None = "auto",
    *,
    course_network: str | CourseCNN = "shapes-cnn",
) -> PerceptualNet:
    """A frozen perceptual network on ``device``, in eval mode.

    Args:
        layers: layer names for the chosen backend (default: relu1_1 … relu5_1 for VGG19,
            stage1 … stage4 for the course network), or a mapping ``{backend: names}`` so one
            call works whichever backend ``"auto"`` picks, e.g.
            ``{"vgg19": ["conv4_4"], "course": ["stage3_pre"]}`` (a backend missing from the
            mapping gets its default layers). Unknown names raise ``ValueError`` listing the
            available ones.
        backend: ``"vgg19"``, ``"course"`` or ``"auto"``: VGG19 when its weights file is found
            (``path``, or ``vgg19-dcbb9e9d.pth`` in ``torch.hub.get_dir()/checkpoints``),
            otherwise the course network, with a ``UserWarning`` saying so. Only a missing file
            falls back: a corrupt or wrong file raises ``ValueError`` in every mode, and
            ``backend="vgg19"`` without the file raises ``FileNotFoundError`` naming the file
            and the folder.
        path: the VGG19 weights file (``"vgg19"``/``"auto"`` only).
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ...
        course_network: the course backend's network: ``"shapes-cnn"``, ``"digits-cnn"`` or a
            :class:`~lib.features.classifiers.CourseCNN`.

    The result says what it is: ``net.backend`` and ``print(net.describe())``.
    """
    check_choice(backend, "backend", ("auto", "vgg19", "course"))
    if backend == "course" and path is not None:
        raise ValueError(
            "path: a VGG19 weights file was given with backend='course'; drop path= or use "
            "backend='vgg19'"
        )
    target = resolve_device(device)
    if isinstance(layers, Mapping):
        unknown = [key for key in layers if key not in ("vgg19", "course")]
        if unknown:
            raise ValueError(
                f"layers: a mapping must be keyed by backend ('vgg19', 'course'), got "
                f"{', '.join(map(repr, unknown))}"
            )
    chosen = backend
    if backend == "auto":
        try:
            find_vgg19_weights(path)
            chosen = "vgg19"
        except FileNotFoundError:
            if path is not None:
                raise
            chosen = "course"
    names = layers.get(chosen) if isinstance(layers, Mapping) else layers
    if chosen == "vgg19":
        net: PerceptualNet = VGG19Perceptual(names, path=path)
    elif backend == "course":
        net = CoursePerceptual(names, network=course_network)
    else:
        try:
            net = CoursePerceptual(names, network=course_network)
        except FileNotFoundError as exc:
            raise FileNotFoundError(
                f"perceptual_net(backend='auto'): neither the VGG19 weights ({VGG19_WEIGHTS_NAME} "
                f"in {vgg19_weights_dir()}) nor the course network are available.\n{exc}"
            ) from exc
        warnings.warn(
            f"perceptual_net: the VGG19 weights ({VGG19_WEIGHTS_NAME}) are not in "
            f"{vgg19_weights_dir()}, so the perceptual features come from the course "
            f"network {net.network.name!r} instead (layers {', '.join(net.layers)}). Put the "
            "file there to use VGG19, or pass backend='course' to choose this on purpose.",
            UserWarning,
            stacklevel=2,
        )
    return net.to(target).eval()


def perceptual_loss(
    net: PerceptualNet,
    x: torch.Tensor,
    y: torch.Tensor,
    layer_weights: Mapping[str, float] | Sequence[float] | None = None,
    distance: str = "l1",
) -> torch.Tensor:
    """Σ_l w_l · mean_{n,c,h,w} |φ_l(x) − φ_l(y)| (``"l1"``) or of (φ_l(x) − φ_l(y))² (``"l2"``).

    The VGG loss of vid2vid / Everybody Dance Now (the defaults, multiply by λ = 10) and,
    with ``perceptual_net(["conv4_4"])``, CartoonGAN's content loss (multiply by ω = 10).

    Args:
        net: a :class:`PerceptualNet` (from :func:`perceptual_net`).
        x, y: float images in [0, 1] of the same shape N×C×H×W (C = 1 or 3); gradients flow to
            both (detach the target yourself if it should get none). Images in [−1, 1] (a tanh
            generator) must be mapped with ``(x + 1) / 2`` first.
        layer_weights: ``{layer: w}`` over a subset of ``net.layers``, or one weight per layer of
            ``net.layers`` in order; default :attr:`PerceptualNet.default_layer_weights`
            (vid2vid's 1/32 … 1 for relu1_1 … relu5_1) and 1 for a layer not listed there.
            Weights must be finite and ≥ 0.
        distance: ``"l1"`` (the papers') or ``"l2"``.

    Returns a 0-d tensor on the network's device; x and y go through the network as one batch.
    """
    if not isinstance(net, PerceptualNet):
        raise TypeError(
            f"net: expected a PerceptualNet (from perceptual_net()), got {type(net).__name__}"
        )
    check_choice(distance, "distance", ("l1", "l2"))
    x, y = as_tensor(x, "x"), as_tensor(y, "y")
    if x.shape != y.shape:
        raise ValueError(
            f"x and y: expected the same shape, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    x, y = net.validate(x, "x"), net.validate(y, "y")
    weights = _layer_weights(net, layer_weights)
    layers = [layer for layer, w in weights.items() if w != 0]
    device, dtype = net.device, net.dtype
    if not layers:
        return torch.zeros((), device=device, dtype=dtype)
    features = net._features(torch.cat([x.to(device, dtype), y.to(device, dtype)]), layers)
    n = x.shape[0]
    total = torch.zeros((), device=device, dtype=dtype)
    for layer in layers:
        diff = features[layer][:n] - features[layer][n:]
        term = diff.abs().mean() if distance == "l1" else diff.square().mean()
        total = total + weights[layer] * term
    return total


def _layer_weights(net: PerceptualNet, layer_weights) -> dict[str, float]:
    if layer_weights is None:
        return {layer: float(net.default_layer_weights.get(layer, 1.0)) for layer in net.layers}
    if isinstance(layer_weights, Mapping):
        layers = net._subset(tuple(layer_weights), "layer_weights")
        values = [layer_weights[layer] for layer in layers]
    else:
        try:
            values = list(layer_weights)
        except TypeError:
            raise TypeError(
                "layer_weights: expected a mapping {layer: weight} or a sequence of weights, "
                f"got {type(layer_weights).__name__}"
            ) from None
        if len(values) != len(net.layers):
            raise ValueError(
                f"layer_weights: got {len(values)} weight(s) for the {len(net.layers)} layer(s) "
                f"{', '.join(net.layers)}; give one per layer or a mapping {{layer: weight}}"
            )
        layers = net.layers
    out = {}
    for layer, value in zip(layers, values, strict=True):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(
                f"layer_weights: the weight of {layer!r} must be a number, got {value!r}"
            ) from None
        if not math.isfinite(value) or value < 0:
            raise ValueError(
                f"layer_weights: the weight of {layer!r} must be finite and ≥ 0, got {value}"
            )
        out[layer] = value
    return out


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
        self.body, self.classifier, self._weights_info = _load_vgg19_modules(
            path, len(VGG19_LAYERS) - 1, classifier=True
        )
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
        h = x.to(self.classifier[0].weight.dtype)
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
