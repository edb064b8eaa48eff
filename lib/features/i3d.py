"""I3D (Carreira & Zisserman 2017), the clip network behind FVD and vid2vid's "video FID".

An Inflated Inception-v1: the 2-D Inception blocks with every filter inflated to 3-D (7×7×7
stem, 3×3×3 branches), trained on Kinetics-400 action recognition. This module builds the
network with the parameter names of the widely used PyTorch port (``pytorch-i3d``:
``Conv3d_1a_7x7.conv3d.weight``, ``Mixed_3b.b1b.bn.running_mean``, ``logits.conv3d.bias`` …),
so its ``rgb_imagenet.pt`` (Kinetics-400 RGB, ImageNet-inflated initialisation) loads as it is.

The same rules as the FID Inception port (:mod:`lib.features.inception`):

* the weights are read **only from a local file**, never downloaded: ``path=...``, or a file named
  ``rgb_imagenet.pt`` / ``i3d_rgb_kinetics400.pt`` in ``torch.hub.get_dir()/checkpoints``;
* the file is read with ``torch.load(weights_only=True)`` (no pickled code runs), a hash prefix in
  its name (``name-<hex>.pt``) is checked against its sha256, and every key and shape is checked
  before loading, with a message saying what is wrong;
* ``weights="random"`` builds the same network with seeded random weights — for tests of the
  plumbing only; its numbers mean nothing.

Input: clips N×T×C×H×W in [0, 1] → frames resized to 224×224 (antialiased bilinear), scaled to
[−1, 1] (the port's convention). Taps: ``pool`` (1024-d, Mixed_5c averaged over time and space:
the default, as in most FVD re-implementations in PyTorch) and ``logits`` (400 Kinetics classes,
the tap of the original FVD code, which used the TF-Hub model). FVD itself was defined on 16-frame
clips; values depend on the exact network, resize and clip length, so compare numbers only
within one setup. The course cannot verify these weights offline: the architecture and key
layout are tested with random weights.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from lib.features.base import ClipFeatureExtractor
from lib.weights import (
    check_name_hash,
    find_local_weights,
    hub_checkpoints_dir,
    load_state_dict,
    state_dict_problems,
)

__all__ = ["I3D_WEIGHT_NAMES", "InceptionI3D", "find_i3d_weights"]

I3D_WEIGHT_NAMES = ("rgb_imagenet.pt", "i3d_rgb_kinetics400.pt")
# Mixed block: (input channels, [b0, b1a, b1b, b2a, b2b, b3b])
_MIXED = {
    "Mixed_3b": (192, (64, 96, 128, 16, 32, 32)),
    "Mixed_3c": (256, (128, 128, 192, 32, 96, 64)),
    "Mixed_4b": (480, (192, 96, 208, 16, 48, 64)),
    "Mixed_4c": (512, (160, 112, 224, 24, 64, 64)),
    "Mixed_4d": (512, (128, 128, 256, 24, 64, 64)),
    "Mixed_4e": (512, (112, 144, 288, 32, 64, 64)),
    "Mixed_4f": (528, (256, 160, 320, 32, 128, 128)),
    "Mixed_5b": (832, (256, 160, 320, 32, 128, 128)),
    "Mixed_5c": (832, (384, 192, 384, 48, 128, 128)),
}


def _same_pad(x: torch.Tensor, kernel: Sequence[int], stride: Sequence[int], value=0.0):
    """TensorFlow's "SAME" padding for a 3-D window (extra cell at the end when odd)."""
    pads = []
    for size, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(stride), strict=True):
        total = max(k - s, 0) if size % s == 0 else max(k - size % s, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads, value=value)


class _Unit3D(nn.Module):
    """Conv3d (no bias unless no BatchNorm) + BatchNorm3d(eps 1e-3) + ReLU, "SAME" padding."""

    def __init__(self, c_in, c_out, kernel=(1, 1, 1), stride=(1, 1, 1), *, bn=True, relu=True):
        super().__init__()
        self.kernel, self.stride, self.relu = tuple(kernel), tuple(stride), relu
        self.conv3d = nn.Conv3d(c_in, c_out, self.kernel, self.stride, bias=not bn)
        self.bn = nn.BatchNorm3d(c_out, eps=1e-3, momentum=0.01) if bn else None

    def forward(self, x):
        x = self.conv3d(_same_pad(x, self.kernel, self.stride))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x


def _max_pool(x, kernel, stride):
    # pytorch-i3d pads max pools with zeros (after ReLU, so it equals -inf padding).
    return F.max_pool3d(_same_pad(x, kernel, stride), kernel, stride)


class _Mixed(nn.Module):
    def __init__(self, c_in, c):
        super().__init__()
        self.b0 = _Unit3D(c_in, c[0])
        self.b1a = _Unit3D(c_in, c[1])
        self.b1b = _Unit3D(c[1], c[2], (3, 3, 3))
        self.b2a = _Unit3D(c_in, c[3])
        self.b2b = _Unit3D(c[3], c[4], (3, 3, 3))
        self.b3b = _Unit3D(c_in, c[5])

    def forward(self, x):
        pooled = _max_pool(x, (3, 3, 3), (1, 1, 1))
        return torch.cat(
            [self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(pooled)], 1
        )


def find_i3d_weights(path: str | os.PathLike | None = None) -> Path:
    """The I3D weights file: ``path`` if given, else a known name in the hub checkpoints folder.
    Raises ``FileNotFoundError`` saying where to put one (nothing is downloaded)."""
    how = (
        f"Put the pytorch-i3d Kinetics-400 RGB weights ({' or '.join(I3D_WEIGHT_NAMES)}) into\n"
        f"    {hub_checkpoints_dir()}\n(set $TORCH_HOME to use another cache folder) or pass "
        "path=... . lib never downloads weights. For the plumbing only (meaningless numbers), use "
        "weights='random'."
    )
    return find_local_weights("I3D", I3D_WEIGHT_NAMES, how, path)


class InceptionI3D(ClipFeatureExtractor):
    """I3D with pytorch-i3d's parameter names; weights from a local file or ``"random"``."""

    name = "i3d"
    num_features = 1024
    num_classes = 400
    clip_length = 16
    min_frames = 1
    frame_size = 224
    taps = ("pool", "logits")
    default_tap = "pool"
    normalisation = "2x − 1 (to [−1, 1])"
    default_batch_size = 4

    # Declared for the type checker: the loop over _MIXED adds them with add_module.
    Mixed_3b: _Mixed
    Mixed_3c: _Mixed
    Mixed_5b: _Mixed
    Mixed_5c: _Mixed

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        *,
        weights: str = "file",
        seed: int = 0,
        frame_size: int = 224,
    ) -> None:
        super().__init__()
        if weights not in ("file", "random"):
            raise ValueError(f"weights: expected 'file' or 'random', got {weights!r}")
        self.frame_size = int(frame_size)
        self.Conv3d_1a_7x7 = _Unit3D(3, 64, (7, 7, 7), (2, 2, 2))
        self.Conv3d_2b_1x1 = _Unit3D(64, 64)
        self.Conv3d_2c_3x3 = _Unit3D(64, 192, (3, 3, 3))
        for block, (c_in, c) in _MIXED.items():
            self.add_module(block, _Mixed(c_in, c))
        # Registered by name: ``self.logits`` is the method that returns logits of clips.
        self._modules["logits"] = _Unit3D(1024, 400, bn=False, relu=False)
        if weights == "random":
            if path is not None:
                raise ValueError("path: a weights file was given together with weights='random'")
            gen = torch.Generator().manual_seed(int(seed))
            with torch.no_grad():
                for key, p in self.named_parameters():
                    if key.endswith("conv3d.weight"):
                        p.copy_(torch.randn(p.shape, generator=gen) * (2 / p[0].numel()) ** 0.5)
            self._weights = f"random (seed {seed}); for tests only, the numbers mean nothing"
        else:
            file = find_i3d_weights(path)
            digest = check_name_hash(file)
            state = load_state_dict(file)
            expected = {k: v.shape for k, v in self.state_dict().items()}
            required = [k for k in expected if not k.endswith("num_batches_tracked")]
            problems = state_dict_problems(
                {k: v for k, v in state.items() if k in expected or "num_batches" not in k},
                expected,
                required,
            )
            if problems:
                raise ValueError(
                    f"{file}: not pytorch-i3d InceptionI3d weights: " + "; ".join(problems)
                )
            self.load_state_dict(state, strict=False)
            self._weights = f"{file.name}, sha256 {digest[:12]}…"
        self.eval()

    def weights_description(self) -> str:
        return self._weights

    def _run(self, x: torch.Tensor, taps: Sequence[str]) -> dict[str, torch.Tensor]:
        h = x * 2 - 1
        h = self.Conv3d_1a_7x7(h)
        h = _max_pool(h, (1, 3, 3), (1, 2, 2))
        h = self.Conv3d_2c_3x3(self.Conv3d_2b_1x1(h))
        h = _max_pool(h, (1, 3, 3), (1, 2, 2))
        h = self.Mixed_3c(self.Mixed_3b(h))
        h = _max_pool(h, (3, 3, 3), (2, 2, 2))
        for block in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
            h = getattr(self, block)(h)
        h = _max_pool(h, (2, 2, 2), (2, 2, 2))
        h = self.Mixed_5c(self.Mixed_5b(h))
        pool = h.mean((2, 3, 4))
        out = {"pool": pool}
        if "logits" in taps:
            # Stored in _modules (typed Module | None) because the name clashes with a method.
            head = cast(_Unit3D, self._modules["logits"])
            out["logits"] = head(pool[:, :, None, None, None]).flatten(1)
        return out
