"""The interface every feature network of the course implements.

A metric such as FID or IS never looks at pixels directly: it looks at images through a network
(the "feature extractor") and compares the vectors that come out. :class:`FeatureExtractor` fixes
how that looks from the outside, so that a metric can take any network from
:mod:`lib.features` — the FID Inception port, the course classifiers, a random baseline — and
so that each network says plainly which inputs it expects and what it does to them.

Input convention (CONTRIBUTING.md): float images in [0, 1], N×C×H×W, RGB; uint8 images (0..255) only
where an extractor sets ``accepts_uint8``. Every extractor validates its input and raises a
clear ``ValueError``/``TypeError`` instead of returning garbage.

Adding a network means subclassing :class:`FeatureExtractor`, filling in the class attributes
and implementing :meth:`FeatureExtractor._run`::

    class TinyNet(FeatureExtractor):
        name = "tiny"
        num_features = 16
        num_classes = 10
        taps = ("features", "logits")
        default_tap = "features"
        logits_tap = "logits"
        input_channels = (1,)
        input_range = "float [0, 1]"
        resize = "none (expects 8×8 images)"
        normalisation = "none"

        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU())
            self.head = nn.Linear(16, 10)

        def _run(self, x, taps):
            f = self.body(x)
            out = {"features": f}
            if "logits" in taps:
                out["logits"] = self.head(f)
            return out

and registering a builder with :func:`lib.features.register`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from lib._checks import ArrayLike, check_choice, check_clips, check_images, check_positive_int
from lib.datasets.base import ImageSet

__all__ = ["ClipFeatureExtractor", "FeatureExtractor"]


class FeatureExtractor(nn.Module):
    """An image → feature-vector network with a documented input convention.

    Class attributes a subclass sets:

    - ``name``: the registry name (e.g. ``"inception-fid"``);
    - ``num_features``: D, the length of the vectors :meth:`features` returns;
    - ``num_classes``: the classifier width used by :meth:`logits`, or ``None`` without a head;
    - ``taps``: the names of every output :meth:`extract` can return; ``default_tap`` is the one
      :meth:`features` returns and ``logits_tap`` the one :meth:`logits` returns (or ``None``);
    - ``input_channels``: accepted channel counts; ``accepts_uint8``: whether uint8 images are
      accepted as well as float [0, 1] ones; ``min_size``: the smallest H, W accepted;
    - ``input_range``, ``resize``, ``normalisation``: plain-language statements used by
      :meth:`describe`.

    Subclasses implement :meth:`_run`. :meth:`features`, :meth:`logits` and :meth:`extract` are
    batched, run without gradients on the device the module lives on (inputs are moved there)
    and return tensors on that device. :meth:`forward` (``module(images)``) is the single-batch,
    differentiable path, for use inside a loss or by a peer library such as torchmetrics, which
    only needs a module with a ``num_features`` attribute.
    """

    name: str = "feature-extractor"
    num_features: int = 0
    num_classes: int | None = None
    taps: tuple[str, ...] = ("features",)
    default_tap: str = "features"
    logits_tap: str | None = None
    input_channels: tuple[int, ...] = (3,)
    accepts_uint8: bool = False
    min_size: int = 1
    input_range: str = "float images in [0, 1]"
    resize: str = "none"
    normalisation: str = "none"
    default_batch_size: int = 64

    # -- what a subclass provides ------------------------------------------------------------

    def _run(self, x: torch.Tensor, taps: Sequence[str]) -> dict[str, torch.Tensor]:
        """Compute the requested taps for one batch.

        ``x`` is an already validated image batch on this module's device, in the dtype the
        caller gave (float [0, 1], or uint8 where ``accepts_uint8`` is set). Returns a dict with
        at least the requested tap names, each an N×D tensor.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement _run(x, taps)")

    def weights_description(self) -> str:
        """Where the weights came from (a file and its checksum, a seed, ...)."""
        return "not stated"

    # -- the public interface ----------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        """The device the module's parameters (or buffers) are on; the CPU if it has none."""
        for tensor in self.parameters():
            return tensor.device
        for tensor in self.buffers():
            return tensor.device
        return torch.device("cpu")

    def validate(self, images: ArrayLike | ImageSet, name: str = "images") -> torch.Tensor:
        """Check an image batch against this extractor's input convention and return it."""
        # a lib.datasets.ImageSet (or anything else holding .images) is fine too
        array = cast(ArrayLike, getattr(images, "images", images))
        checked = check_images(
            array.detach() if isinstance(array, torch.Tensor) else array,
            name,
            channels=self.input_channels,
            allow_uint8=self.accepts_uint8,
            min_size=self.min_size,
        )
        # Keep the caller's tensor (and its autograd graph) when it was one.
        return array if isinstance(array, torch.Tensor) else checked

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """The default tap of one batch, N×``num_features``, differentiable w.r.t. float input."""
        x = self.validate(images).to(self.device)
        return self._run(x, (self.default_tap,))[self.default_tap]

    @torch.no_grad()
    def extract(
        self,
        images: ArrayLike | ImageSet,
        taps: Sequence[str] | str | None = None,
        *,
        batch_size: int | None = None,
    ) -> dict[str, torch.Tensor]:
        """Several taps in one pass over the images: ``{tap: N×D tensor}``.

        ``taps`` defaults to all of :attr:`taps`. Images are processed ``batch_size`` at a time
        (default :attr:`default_batch_size`), so the result does not depend on the batch size
        beyond floating-point round-off.
        """
        if taps is None:
            taps = self.taps
        elif isinstance(taps, str):
            taps = (taps,)
        taps = tuple(taps)
        if not taps:
            raise ValueError(f"taps: ask for at least one of {', '.join(map(repr, self.taps))}")
        for tap in taps:
            check_choice(tap, "tap", self.taps)
        batch_size = check_positive_int(
            self.default_batch_size if batch_size is None else batch_size, "batch_size"
        )
        images = self.validate(images)
        device = self.device
        was_training = self.training
        self.eval()
        try:
            chunks: dict[str, list[torch.Tensor]] = {tap: [] for tap in taps}
            for start in range(0, images.shape[0], batch_size):
                batch = images[start : start + batch_size].to(device, non_blocking=True)
                out = self._run(batch, taps)
                for tap in taps:
                    chunks[tap].append(out[tap])
        finally:
            self.train(was_training)
        return {tap: torch.cat(parts, dim=0) for tap, parts in chunks.items()}

    def features(
        self, images: ArrayLike | ImageSet, *, batch_size: int | None = None, tap: str | None = None
    ) -> torch.Tensor:
        """Feature vectors, N×D (D = ``num_features`` for the default tap), without gradients.

        ``images``: N×C×H×W, float in [0, 1] (uint8 where ``accepts_uint8`` is set), on any
        device — they are moved to this module's device batch by batch. ``tap`` picks another
        output than :attr:`default_tap` (see :attr:`taps`).
        """
        tap = self.default_tap if tap is None else tap
        return self.extract(images, (tap,), batch_size=batch_size)[tap]

    def logits(
        self, images: ArrayLike | ImageSet, *, batch_size: int | None = None
    ) -> torch.Tensor:
        """Classifier outputs before the softmax, N×``num_classes`` (what IS needs).

        Raises ``NotImplementedError`` for a network without a classifier head.
        """
        if self.logits_tap is None:
            raise NotImplementedError(
                f"{self.name!r} has no classifier head, so it gives no logits; use a network "
                "with one (e.g. 'inception-fid') for the Inception Score"
            )
        return self.extract(images, (self.logits_tap,), batch_size=batch_size)[self.logits_tap]

    def describe(self) -> str:
        """A few lines stating what the network expects and does to its input."""
        uint8 = "; uint8 images (0..255) accepted" if self.accepts_uint8 else ""
        channels = " or ".join(map(str, self.input_channels))
        head = f"{self.num_classes} classes" if self.num_classes is not None else "none"
        lines = [
            f"{self.name}: {type(self).__name__}, {self.num_features}-d features "
            f"(tap {self.default_tap!r})",
            f"  input:         N×C×H×W, C = {channels}; {self.input_range}{uint8}",
            f"  resize:        {self.resize}",
            f"  normalisation: {self.normalisation}",
            f"  taps:          {', '.join(self.taps)}",
            f"  classifier:    {head}",
            f"  weights:       {self.weights_description()}",
            f"  device:        {self.device}",
        ]
        return "\n".join(lines)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, num_features={self.num_features}"


class ClipFeatureExtractor(nn.Module):
    """A clip → feature-vector network (the video analogue of :class:`FeatureExtractor`).

    Subclasses set ``name``, ``num_features``, ``clip_length`` (frames it was trained on),
    ``frame_size``, ``normalisation`` and ``taps``, and implement ``_run(x, taps)`` on a
    validated N×T×3×H×W batch already resized to ``frame_size``.
    """

    name: str = "clip-network"
    num_features: int = 0
    num_classes: int | None = None
    clip_length: int = 8
    min_frames: int = 1
    frame_size: int = 64
    taps: tuple[str, ...] = ("features",)
    default_tap: str = "features"
    normalisation: str = "none"
    default_batch_size: int = 32

    def _run(self, x: torch.Tensor, taps: Sequence[str]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def weights_description(self) -> str:
        return "not stated"

    @property
    def device(self) -> torch.device:
        for tensor in self.parameters():
            return tensor.device
        return torch.device("cpu")

    def prepare(self, clips: torch.Tensor) -> torch.Tensor:
        """N×T×C×H×W in [0, 1] → N×3×T×S×S (grey repeated to RGB, frames resized to S)."""
        n, t, c, h, w = clips.shape
        x = clips.float()
        if c == 1:
            x = x.expand(-1, -1, 3, -1, -1)
        s = self.frame_size
        if (h, w) != (s, s):
            x = F.interpolate(
                x.reshape(n * t, 3, h, w),
                size=(s, s),
                mode="bilinear",
                antialias=True,
                align_corners=False,
            ).reshape(n, t, 3, s, s)
        return x.permute(0, 2, 1, 3, 4)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """Default tap of one batch, differentiable (for use inside a loss)."""
        check_clips(clips.detach(), min_frames=self.min_frames)
        return self._run(self.prepare(clips.to(self.device)), (self.default_tap,))[self.default_tap]

    @torch.no_grad()
    def features(
        self, clips: ArrayLike, *, batch_size: int | None = None, tap: str | None = None
    ) -> torch.Tensor:
        """One feature vector per clip, N×D, without gradients, batch by batch."""
        tap = self.default_tap if tap is None else check_choice(tap, "tap", self.taps)
        batch_size = check_positive_int(
            self.default_batch_size if batch_size is None else batch_size, "batch_size"
        )
        x = check_clips(clips, min_frames=self.min_frames)
        was_training = self.training
        self.eval()
        try:
            out = [
                self._run(self.prepare(x[i : i + batch_size].to(self.device)), (tap,))[tap]
                for i in range(0, x.shape[0], batch_size)
            ]
        finally:
            self.train(was_training)
        return torch.cat(out)

    def logits(self, clips: ArrayLike, *, batch_size: int | None = None) -> torch.Tensor:
        if "logits" not in self.taps:
            raise NotImplementedError(f"{self.name!r} has no classifier head")
        return self.features(clips, batch_size=batch_size, tap="logits")

    def describe(self) -> str:
        lines = [
            f"{self.name}: {type(self).__name__}, {self.num_features}-d features "
            f"(tap {self.default_tap!r})",
            f"  input:         N×T×C×H×W clips, C = 1 or 3, float in [0, 1]; trained on "
            f"{self.clip_length}-frame clips",
            f"  resize:        frames to {self.frame_size}×{self.frame_size} "
            "(antialiased bilinear)",
            f"  normalisation: {self.normalisation}",
            f"  taps:          {', '.join(self.taps)}",
            f"  weights:       {self.weights_description()}",
            f"  device:        {self.device}",
        ]
        return "\n".join(lines)
