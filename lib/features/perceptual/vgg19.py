"""torchvision's VGG19 with ImageNet weights read from a local file: layer names, finding and
checking the weights, building the layers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import cast

import torch
import torchvision
from torch import nn

from lib.weights import (
    check_name_hash,
    find_local_weights,
    hub_checkpoints_dir,
    load_state_dict,
    state_dict_problems,
)

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
    return find_local_weights(
        "VGG19",
        (VGG19_WEIGHTS_NAME,),
        _how_to_get_weights(),
        path,
        hashed_stem="vgg19",
        folder=vgg19_weights_dir(),
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
    # torchvision types the attribute as a plain Module; it is a Sequential.
    features = cast(nn.Sequential, skeleton.features)[: last_index + 1]
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
