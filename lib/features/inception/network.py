"""The FID Inception network as a :class:`~lib.features.base.FeatureExtractor`."""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from lib._checks import ArrayLike, check_choice
from lib.features.base import FeatureExtractor
from lib.features.inception.graph import (
    _build_layers,
    _ConvBN,
    _full_fp32_on_cuda,
    _Mixed8,
    _Mixed17,
    _Mixed35,
    _Reduce17to8,
    _Reduce35to17,
)
from lib.features.inception.resize import tf1_bilinear_resize
from lib.features.inception.weights import find_weights, load_weights, random_state_dict

INPUT_SIZE = 299
TAP_DIMS = {"64": 64, "192": 192, "768": 768, "2048": 2048, "logits_unbiased": 1008, "logits": 1008}
# How deep into the network each tap sits: the forward pass stops after the deepest one asked for.
_TAP_DEPTH = {"64": 0, "192": 1, "768": 2, "2048": 3, "logits_unbiased": 4, "logits": 4}


class InceptionFID(FeatureExtractor):
    """The TF 2015-12-05 FID Inception network (pool3 features, 1008-way classifier).

    Args:
        path: a weights file (torch-fidelity's ``weights-inception-2015-12-05-6726825d.pth``,
            pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` or a converted one). Default:
            look for either name in ``torch.hub.get_dir()/checkpoints``
            (``$TORCH_HOME/hub/checkpoints``). Never downloaded; a missing file raises
            ``FileNotFoundError`` saying where to put it and how to get it.
        weights: ``"pretrained"`` (the default: the file above) or ``"random"``: seeded random
            weights from :func:`random_state_dict`. Random weights make the numbers
            **meaningless** for evaluation; they exist for tests and for timing.
        seed: the seed of the random weights.
        tap: what :meth:`features` returns (``"2048"`` by default, the pool3 features of
            FID/KID); one of ``"64"``, ``"192"``, ``"768"``, ``"2048"``, ``"logits_unbiased"``,
            ``"logits"``.

    Input: N×C×H×W RGB (or grey, repeated to RGB), uint8 in 0..255 or float in [0, 1], any size
    (resized to 299×299 with TF1's bilinear resize, see the module docstring). :meth:`logits`
    returns ``"logits_unbiased"`` (pool3 · Wᵀ, no bias), which is what the Inception Score of the
    original code and of torch-fidelity uses. On CUDA the network runs with TF32 disabled.
    """

    name = "inception-fid"
    num_classes = 1008
    taps = tuple(TAP_DIMS)
    logits_tap = "logits_unbiased"
    input_channels = (1, 3)
    accepts_uint8 = True
    input_range = "float in [0, 1] (scaled ×255, not rounded); grey images repeated to RGB"
    resize = (
        "to 299×299, TensorFlow 1.x bilinear (align_corners=False, no half-pixel offset, "
        "no antialiasing), as torch-fidelity and the original TF code"
    )
    normalisation = "(x − 128) / 128 on [0, 255] values"
    default_batch_size = 32

    # Declared for the type checker: _build_layers creates them at run time.
    Conv2d_1a_3x3: _ConvBN
    Conv2d_2a_3x3: _ConvBN
    Conv2d_2b_3x3: _ConvBN
    Conv2d_3b_1x1: _ConvBN
    Conv2d_4a_3x3: _ConvBN
    Mixed_5b: _Mixed35
    Mixed_5c: _Mixed35
    Mixed_5d: _Mixed35
    Mixed_6a: _Reduce35to17
    Mixed_6b: _Mixed17
    Mixed_6c: _Mixed17
    Mixed_6d: _Mixed17
    Mixed_6e: _Mixed17
    Mixed_7a: _Reduce17to8
    Mixed_7b: _Mixed8
    Mixed_7c: _Mixed8
    fc: nn.Linear

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        *,
        weights: str = "pretrained",
        seed: int = 0,
        tap: str = "2048",
    ) -> None:
        super().__init__()
        check_choice(weights, "weights", ("pretrained", "random"))
        check_choice(tap, "tap", self.taps)
        if weights == "random":
            if path is not None:
                raise ValueError(
                    "path: a weights file was given together with weights='random'; drop one"
                )
            state_dict = random_state_dict(seed)
            self._weights_info = (
                f"RANDOM (seed {seed}) — features are meaningless for evaluation, tests only"
            )
        else:
            file = find_weights(path)
            state_dict, digest = load_weights(file)
            self._weights_info = f"{file} (sha256 {digest[:16]}…)"
        state_dict = {k: v.float() if v.is_floating_point() else v for k, v in state_dict.items()}
        with torch.device("meta"):  # no time or memory spent on an init that is overwritten
            _build_layers(self)
        self.load_state_dict(state_dict, assign=True)
        self.requires_grad_(False)
        self.eval()
        self.default_tap = tap
        self.num_features = TAP_DIMS[tap]

    def weights_description(self) -> str:
        return self._weights_info

    def preprocess(self, images: ArrayLike) -> torch.Tensor:
        """Images (uint8, or float in [0, 1]) → the network input, N×3×299×299.

        Values on [0, 255] (float input ×255), TF1 bilinear resize to 299×299,
        ``(x − 128) / 128``; computed in the module's dtype on the images' device.
        """
        return self._preprocess(self.validate(images))

    def _preprocess(self, images: torch.Tensor) -> torch.Tensor:
        dtype = self.fc.weight.dtype
        x = images.to(dtype) if images.dtype == torch.uint8 else images.to(dtype) * 255
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = tf1_bilinear_resize(x, (INPUT_SIZE, INPUT_SIZE))
        return (x - 128) / 128

    def _run(self, x: torch.Tensor, taps: Sequence[str]) -> dict[str, torch.Tensor]:
        with _full_fp32_on_cuda(x.device):
            return self._network(self._preprocess(x), taps)

    def _network(self, x: torch.Tensor, taps: Sequence[str]) -> dict[str, torch.Tensor]:
        """The graph from the normalised 299×299 input to the requested taps."""
        last = max(_TAP_DEPTH[t] for t in taps)
        out: dict[str, torch.Tensor] = {}

        def spatial_mean(t: torch.Tensor) -> torch.Tensor:
            return F.adaptive_avg_pool2d(t, (1, 1)).flatten(1)

        if x.device.type == "cpu":
            # oneDNN's convolutions run faster on NHWC; every layer keeps the layout it is given.
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)  # N×64×73×73
        if "64" in taps:
            out["64"] = spatial_mean(x)
        if last == 0:
            return out
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)  # N×192×35×35
        if "192" in taps:
            out["192"] = spatial_mean(x)
        if last == 1:
            return out
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a):
            x = block(x)
        for block in (self.Mixed_6b, self.Mixed_6c, self.Mixed_6d, self.Mixed_6e):
            x = block(x)  # N×768×17×17
        if "768" in taps:
            out["768"] = spatial_mean(x)
        if last == 2:
            return out
        x = self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x)))  # N×2048×8×8
        pool3 = spatial_mean(x)
        out["2048"] = pool3
        if last == 3:
            return out
        unbiased = pool3 @ self.fc.weight.T
        out["logits_unbiased"] = unbiased
        out["logits"] = unbiased + self.fc.bias
        return out
