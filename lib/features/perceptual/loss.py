"""Choosing a perceptual network (:func:`perceptual_net`) and the perceptual loss."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence

import torch

from lib._checks import as_tensor, check_choice, check_positive_int
from lib.device import resolve_device
from lib.features.classifiers import CourseCNN
from lib.features.perceptual.nets import (
    CoursePerceptual,
    LayoutPerceptual,
    PerceptualNet,
    VGG19Perceptual,
)
from lib.features.perceptual.vgg19 import VGG19_WEIGHTS_NAME, find_vgg19_weights, vgg19_weights_dir


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
        backend: ``"vgg19"``, ``"course"``, ``"layout"`` (the course's scene-layout network,
            :class:`~lib.features.perceptual.nets.LayoutPerceptual`; chosen only by name) or
            ``"auto"``: VGG19 when its weights file is found
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
    check_choice(backend, "backend", ("auto", "vgg19", "course", "layout"))
    if backend in ("course", "layout") and path is not None:
        raise ValueError(
            f"path: a VGG19 weights file was given with backend={backend!r}; drop path= or use "
            "backend='vgg19'"
        )
    target = resolve_device(device)
    if isinstance(layers, Mapping):
        unknown = [key for key in layers if key not in ("vgg19", "course", "layout")]
        if unknown:
            raise ValueError(
                f"layers: a mapping must be keyed by backend ('vgg19', 'course', 'layout'), got "
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
    elif chosen == "layout":
        net = LayoutPerceptual(names)
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


def _tiles(images: torch.Tensor, tile: int) -> torch.Tensor:
    """N×C×H×W → (N·H/t·W/t)×C×t×t non-overlapping crops."""
    check_positive_int(tile, "tile")
    if images.ndim != 4 or images.shape[-1] % tile or images.shape[-2] % tile:
        raise ValueError(
            f"tile: the images' height and width must be multiples of tile = {tile}, got shape "
            f"{tuple(images.shape)}"
        )
    n, c, h, w = images.shape
    crops = images.reshape(n, c, h // tile, tile, w // tile, tile).permute(0, 2, 4, 1, 3, 5)
    return crops.reshape(-1, c, tile, tile)


def perceptual_loss(
    net: PerceptualNet,
    x: torch.Tensor,
    y: torch.Tensor,
    layer_weights: Mapping[str, float] | Sequence[float] | None = None,
    distance: str = "l1",
    *,
    tile: int | None = None,
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
        tile: compare the non-overlapping ``tile``×``tile`` crops of x and y as a batch instead
            of the whole images (H and W must be multiples of it). A network that resizes its
            input (the course network works at 32×32) then sees every pixel of a larger image at
            the image's own resolution; with VGG19 it only limits the receptive field.

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
    if tile is not None:
        x, y = _tiles(x, tile), _tiles(y, tile)
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
