"""The course classifiers: small CNNs trained on ``digits`` and on ``shapes``, and a randomly
initialised network of the same shape as a "no training" baseline.

They play the role the Inception network plays for ImageNet-scale images: a metric looks at a
set of images through one of them. Each is a four-stage CNN (3×3 conv, BatchNorm, ReLU, 2×2
max-pool between stages; widths 24-48-96-96), a global average pool giving the 96-d
**features** (the analogue of Inception's pool3) and a linear 10-way head giving the
**logits**.

Input convention: float images in [0, 1], N×C×H×W with C = 1 or 3. A network trained on grey
digits converts RGB input to grey (ITU-R 601 luma); a network trained on RGB shapes repeats grey
input to three channels — so any course image set can be looked at through any network, which is
exactly the "evaluating with a network from another domain" experiment of the course. Images
that are not 32×32 are resized with antialiased bilinear interpolation. Normalisation: x − 0.5.

Weights live in ``data/classifiers/NAME.safetensors`` next to ``manifest.json`` (sha256, accuracy
and training settings); loading checks the checksum and reads them with :mod:`lib.weights`
(safetensors: nothing is unpickled). ``python -m lib.train classifiers`` retrains them
deterministically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from lib._checks import LUMA
from lib.features.base import FeatureExtractor
from lib.paths import DATA_DIR
from lib.weights import MANIFEST, read_weights, weights_file
from lib.weights import read_manifest as _read_manifest

CLASSIFIERS_DIR = DATA_DIR / "classifiers"
WIDTHS = (24, 48, 96, 96)
INPUT_SIZE = 32
# name -> (data set it was trained on, input channels it was trained with)
COURSE_CLASSIFIERS = {"digits-cnn": ("digits", 1), "shapes-cnn": ("shapes", 3)}


class CourseCNN(FeatureExtractor):
    """A small CNN with a 96-d feature tap and a 10-way classifier head."""

    taps = ("stage3", "features", "logits")
    default_tap = "features"
    logits_tap = "logits"
    input_channels = (1, 3)
    min_size = 8
    input_range = "float images in [0, 1]"
    resize = "antialiased bilinear to 32×32 when the input is another size"
    normalisation = "x − 0.5 after matching channels (RGB → luma for grey nets, grey → RGB)"
    default_batch_size = 512

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 10,
        *,
        name: str = "course-cnn",
        widths: Sequence[int] = WIDTHS,
    ) -> None:
        """``widths``: channels of the four stages; the course classifiers use :data:`WIDTHS`,
        narrower ones (e.g. ``(8, 16, 32, 32)``) train several times faster."""
        super().__init__()
        if in_channels not in (1, 3):
            raise ValueError(f"in_channels: expected 1 or 3, got {in_channels!r}")
        widths = tuple(widths)
        if len(widths) != len(WIDTHS) or not all(
            isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in widths
        ):
            raise ValueError(f"widths: expected 4 positive channel counts, got {widths!r}")
        self.name = name
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.widths = widths
        self.num_features = widths[-1]
        stages, previous = [], in_channels
        for width in widths:
            stages.append(
                nn.Sequential(
                    nn.Conv2d(previous, width, 3, padding=1, bias=False),
                    nn.BatchNorm2d(width),
                    nn.ReLU(inplace=True),
                )
            )
            previous = width
        self.stages = nn.ModuleList(stages)
        self.head = nn.Linear(previous, num_classes)
        self._weights = "untrained"

    def weights_description(self) -> str:
        return self._weights

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Match channels, size and normalisation (the documented input convention)."""
        x = x.float()
        if x.shape[1] != self.in_channels:
            if self.in_channels == 1:
                luma = torch.tensor(LUMA, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
                x = (x * luma).sum(1, keepdim=True)
            else:
                x = x.expand(-1, 3, -1, -1)
        if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
            x = F.interpolate(
                x,
                size=(INPUT_SIZE, INPUT_SIZE),
                mode="bilinear",
                antialias=True,
                align_corners=False,
            )
        return x - 0.5

    def _run(self, x: torch.Tensor, taps: Sequence[str]) -> dict[str, torch.Tensor]:
        h = self.prepare(x)
        out = {}
        for k, stage in enumerate(self.stages):
            h = stage(h)
            if k == len(self.stages) - 2:
                out["stage3"] = h.mean((2, 3))
            if k < len(self.stages) - 1:
                h = F.max_pool2d(h, 2)
        features = h.mean((2, 3))
        out["features"] = features
        if "logits" in taps:
            out["logits"] = self.head(features)
        return out

    def train_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits with gradients, for training (no input validation: the caller's own batches)."""
        return self._run(x, ("logits",))["logits"]


# ------------------------------------------------------------------------------------ loading
def _retrain(name: str | None = None) -> str:
    only = f" --only {name}" if name else ""
    return f"retrain with `python -m lib.train classifiers{only}`"


def read_manifest(folder: str | os.PathLike = CLASSIFIERS_DIR) -> dict:
    """The course classifiers' ``manifest.json`` (name → sha256, accuracy, training settings)."""
    return _read_manifest(folder, how_to_fix=_retrain())


def load_course_classifier(name: str, *, folder: str | os.PathLike | None = None) -> CourseCNN:
    """A trained course classifier (``"digits-cnn"`` or ``"shapes-cnn"``), checksum verified."""
    if name not in COURSE_CLASSIFIERS:
        raise ValueError(
            f"name: unknown course classifier {name!r}; choose from {sorted(COURSE_CLASSIFIERS)}"
        )
    folder = CLASSIFIERS_DIR if folder is None else Path(folder)
    entry = read_manifest(folder).get(name)
    path = folder / weights_file(name)
    how = f"restore it from the repository or {_retrain(name)}"
    if entry is None:
        raise FileNotFoundError(f"{folder / MANIFEST} has no entry {name!r}; {_retrain(name)}")
    state = read_weights(path, sha256=entry["sha256"], how_to_fix=how)
    net = CourseCNN(COURSE_CLASSIFIERS[name][1], name=name)
    net.load_state_dict(state)
    net._weights = (
        f"{path.name}, sha256 {entry['sha256'][:12]}…, trained on {entry['dataset']} "
        f"(held-out accuracy {entry['test_accuracy']:.4f})"
    )
    return net.eval()


@torch.no_grad()
def random_cnn(in_channels: int = 3, *, seed: int = 0, calibration_images: int = 512) -> CourseCNN:
    """The course CNN with random weights: the "no training" baseline.

    Convolutions get Kaiming-normal weights from a generator seeded with ``seed``. With untrained
    BatchNorm statistics (mean 0, variance 1) the activations would shrink or grow layer by layer,
    so the statistics are calibrated once on ``calibration_images`` uniform-noise images drawn
    from the same seed: the features then have unit-order scale on any input in [0, 1]. No label
    and no real image is involved.
    """
    gen = torch.Generator().manual_seed(int(seed))
    net = CourseCNN(in_channels, name=f"random-cnn-{in_channels}ch")
    for module in net.modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            fan_in = module.weight[0].numel()
            module.weight.copy_(
                torch.randn(module.weight.shape, generator=gen) * (2 / fan_in) ** 0.5
            )
            if module.bias is not None:
                module.bias.zero_()
    noise = torch.rand(calibration_images, in_channels, INPUT_SIZE, INPUT_SIZE, generator=gen)
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # cumulative average over the calibration pass
    net.train()
    net._run(noise, ("features",))
    net.eval()
    net._weights = f"random (Kaiming normal, seed {seed}), BatchNorm calibrated on noise"
    return net
