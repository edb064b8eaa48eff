"""The course segmentation network ``street-segmenter``: what the segmentation score of generated
street video looks through.

pix2pixHD (Wang et al. 2018, §4.1) and vid2vid (Wang et al. 2018, §5, "segmentation accuracy")
judge a label-to-image generator by running a semantic segmentation network trained on **real**
images on the **generated** ones and comparing its prediction with the label map the generator
was given: a frame that shows a car where the input said "car" is segmented as one. They use
PSPNet / DeepLabV3 on Cityscapes; the course trains a small stand-in on the toy street
(:func:`lib.datasets.street`), whose six classes are :data:`~lib.datasets.street.STREET_CLASSES`
(sky, building, sidewalk, road, car, person). The score itself — pixel accuracy and per-class
IoU from one confusion matrix — is :func:`lib.metrics.segmentation_score`.

:class:`StreetSegmenter` is a U-Net (Ronneberger et al. 2015): an encoder of four stages (two 3×3
convolutions with BatchNorm and ReLU each; widths 16-32-48-64, 2×2 max-pool between stages), a
decoder that upsamples with 2×2 transposed convolutions and concatenates the encoder's features
of the same scale (the skip connections that keep a 5-pixel-wide person sharp), and a 1×1 head
giving **6 logits per pixel**. About 0.23 M parameters; any H, W that are multiples of 8 (three
poolings). Input: N×3×H×W float RGB in [0, 1], normalised as x − 0.5.

:meth:`StreetSegmenter.predict` takes frames of any size: the net was trained at 64 pixels high,
and the street is drawn in scene units (1 = the frame height), so frames of another height are
resized to 64 pixels high (antialiased bilinear) and the logits resized back before the argmax.

Weights live in ``data/segmentation/street-segmenter.safetensors`` (float16) next to
``manifest.json`` (sha256, held-out pixel accuracy and IoU on clean and blurred frames, training
settings); loading checks the checksum and reads them with :mod:`lib.weights` (safetensors:
nothing is unpickled). ``python -m lib.train street_segmenter`` retrains them
(:mod:`lib.train.recipes.street_segmenter`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from lib._checks import ArrayLike, check_images, check_positive_int
from lib.datasets.street import STREET_CLASSES
from lib.paths import DATA_DIR
from lib.weights import load_committed

__all__ = [
    "SEGMENTATION_DIR",
    "SEGMENTER_SIZE",
    "SEGMENTER_WIDTHS",
    "STREET_SEGMENTER",
    "StreetSegmenter",
    "load_street_segmenter",
]

SEGMENTATION_DIR = DATA_DIR / "segmentation"
STREET_SEGMENTER = "street-segmenter"
SEGMENTER_WIDTHS = (16, 32, 48, 64)
#: The frame height the committed network was trained at (the street renders at any size).
SEGMENTER_SIZE = 64
RETRAIN = "retrain with `python -m lib.train street_segmenter`"


def _stage(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two 3×3 convolutions, each followed by BatchNorm and ReLU (the U-Net's unit)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class StreetSegmenter(nn.Module):
    """A small U-Net: N×3×H×W RGB in [0, 1] → N×C×H×W logits (C = 6 street classes)."""

    def __init__(
        self,
        widths: Sequence[int] = SEGMENTER_WIDTHS,
        *,
        num_classes: int = len(STREET_CLASSES),
        size: int = SEGMENTER_SIZE,
    ) -> None:
        """``widths``: channels of the four encoder stages (the decoder mirrors the first three);
        ``size``: the frame height the network is (to be) trained at, used by :meth:`predict`."""
        super().__init__()
        widths = tuple(widths)
        if len(widths) != len(SEGMENTER_WIDTHS) or not all(
            isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in widths
        ):
            raise ValueError(f"widths: expected 4 positive channel counts, got {widths!r}")
        self.widths = widths
        self.num_classes = check_positive_int(num_classes, "num_classes", minimum=2)
        self.size = check_positive_int(size, "size", minimum=8)
        if self.size % 8:
            raise ValueError(f"size: must be a multiple of 8 (three poolings), got {size}")
        self.class_names = STREET_CLASSES if num_classes == len(STREET_CLASSES) else None
        self.encoder = nn.ModuleList(
            _stage(a, b) for a, b in zip((3, *widths[:-1]), widths, strict=True)
        )
        # Decoder, coarse to fine: upsample width k+1 → k, concatenate the skip, one stage.
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(widths[k + 1], widths[k], 2, stride=2) for k in (2, 1, 0)
        )
        self.decoder = nn.ModuleList(_stage(2 * widths[k], widths[k]) for k in (2, 1, 0))
        self.head = nn.Conv2d(widths[0], self.num_classes, 1)
        self._weights = "untrained"

    @property
    def device(self) -> torch.device:
        """The device the network's parameters are on."""
        return next(self.parameters()).device

    def weights_description(self) -> str:
        """Where the weights came from (the committed file and its checksum, or "untrained")."""
        return self._weights

    def describe(self) -> str:
        """A few lines on the network: classes, size, parameters, weights."""
        params = sum(p.numel() for p in self.parameters())
        classes = ", ".join(self.class_names) if self.class_names else f"{self.num_classes}"
        return "\n".join(
            [
                f"StreetSegmenter (U-Net, widths {'-'.join(map(str, self.widths))})",
                f"  classes:    {classes}",
                f"  input:      N×3×H×W float RGB in [0, 1]; trained at {self.size} px high",
                f"  parameters: {params:,}",
                f"  weights:    {self._weights}",
                f"  device:     {self.device}",
            ]
        )

    def train_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits with gradients, for training (no input validation: the caller's own batches)."""
        h = x - 0.5
        skips = []
        for k, stage in enumerate(self.encoder):
            if k:
                h = F.max_pool2d(h, 2)
            h = stage(h)
            skips.append(h)
        skips.pop()  # the bottleneck is h itself
        for up, stage in zip(self.up, self.decoder, strict=True):
            h = stage(torch.cat([up(h), skips.pop()], 1))
        return self.head(h)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """N×C×H×W logits of one batch (differentiable); H and W must be multiples of 8."""
        x = check_images(images, channels=(3,), min_size=8)
        if x.shape[-2] % 8 or x.shape[-1] % 8:
            raise ValueError(
                f"images: H and W must be multiples of 8 (three poolings), got "
                f"{x.shape[-2]}×{x.shape[-1]}; predict() resizes frames of any size"
            )
        return self.train_logits(x.float().to(self.device))

    @torch.no_grad()
    def predict(self, images: ArrayLike, *, batch_size: int = 64) -> torch.Tensor:
        """Class ids (N×H×W int64, on this network's device) of N×3×H×W frames in [0, 1].

        Batched (``batch_size`` frames at a time), without gradients, in eval mode (the mode is
        restored afterwards). Frames that are not :attr:`size` pixels high, or whose width is not
        a multiple of 8, are resized to ``size`` high and a width of the nearest multiple of 8
        (antialiased bilinear) and their logits resized back (bilinear) before the argmax.
        """
        x = check_images(images, channels=(3,), min_size=8)
        batch_size = check_positive_int(batch_size, "batch_size")
        h, w = x.shape[-2:]
        work = (self.size, max(8, round(w * self.size / h / 8) * 8))
        was_training = self.training
        self.eval()
        try:
            out = []
            for start in range(0, x.shape[0], batch_size):
                batch = x[start : start + batch_size].to(self.device).float()
                if (h, w) != work:
                    batch = F.interpolate(
                        batch, size=work, mode="bilinear", antialias=True, align_corners=False
                    )
                logits = self.train_logits(batch)
                if (h, w) != work:
                    logits = F.interpolate(
                        logits, size=(h, w), mode="bilinear", align_corners=False
                    )
                out.append(logits.argmax(1))
        finally:
            self.train(was_training)
        return torch.cat(out)


def load_street_segmenter(*, folder: str | os.PathLike | None = None) -> StreetSegmenter:
    """The trained course segmentation network, its file's sha256 checked against the manifest
    (``data/segmentation`` unless ``folder`` says otherwise); in eval mode, on the CPU."""
    folder = SEGMENTATION_DIR if folder is None else Path(folder)
    how = f"restore it from the repository or {RETRAIN}"
    entry, state = load_committed(folder, STREET_SEGMENTER, how_to_fix=how)
    net = StreetSegmenter(
        tuple(entry.get("widths", SEGMENTER_WIDTHS)), size=int(entry.get("size", SEGMENTER_SIZE))
    )
    net.load_state_dict(state)
    clean = entry.get("held_out", {}).get("clean", {})
    quality = ""
    if {"pixel_accuracy", "mean_iou"} <= set(clean):
        quality = (
            f" (held-out pixel accuracy {clean['pixel_accuracy']:.3f}, "
            f"mean IoU {clean['mean_iou']:.3f})"
        )
    net._weights = (
        f"{entry['file']} (float16), sha256 {entry['sha256'][:12]}…, trained on real toy street "
        f"frames{quality}"
    )
    return net.eval()
