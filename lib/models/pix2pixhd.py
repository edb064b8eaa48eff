"""The pix2pixHD building blocks that vid2vid, Everybody Dance Now and CartoonGAN share.

Wang et al. 2018 (pix2pixHD) set the pattern the three Part II papers build on:

- :class:`GlobalGenerator` ("G1"): a 7×7 reflect-padded convolution, ``downsamples`` stride-2
  convolutions (channels doubling), ``blocks`` :class:`ResidualBlock` s at the bottleneck,
  transposed convolutions back up, a 7×7 convolution and ``tanh``. ``encode`` and ``decode`` are
  exposed separately, because vid2vid sums two encoders (labels, previous frames) before one
  decoder, and Everybody Dance Now feeds the previous frame as extra input channels.
- :class:`PatchDiscriminator` ("NLayerDiscriminator"): 4×4 convolutions with stride 2, LeakyReLU
  0.2, a 1-channel score per overlapping patch; it returns **every** intermediate map, because the
  feature-matching loss compares them.
- :class:`MultiscaleDiscriminator`: the same discriminator (separate weights) on the input and on
  copies average-pooled by 2, 4, … — coarse scales judge global layout, fine ones texture.
- Losses: :func:`lsgan_loss` (least squares, Mao et al. 2017):
  ``L_D = E(D(x) − 1)² + E D(G(s))²`` and ``L_G = E(D(G(s)) − 1)²``; and
  :func:`feature_matching_loss`:
  ``L_FM = Σ_k Σ_i (4 / (n_layers + 1)) (1 / n_scales) · mean |D_k^{(i)}(x) − D_k^{(i)}(G(s))|``
  over the intermediate layers ``i`` of each scale ``k`` (the real side detached) — weight 10 in
  all three papers.

Normalisation is ``"instance"`` (the papers), ``"batch"`` or ``"none"``. Images are in [−1, 1]
at the generator's output (tanh); callers map to [0, 1] for metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias, cast

import torch
import torch.nn.functional as F
from torch import nn

from lib._checks import check_choice, check_positive_int

NORMS = ("instance", "batch", "none")
#: A discriminator's output: one score map, the maps of one scale, or a list of those per scale.
DiscriminatorOutputs: TypeAlias = (
    "torch.Tensor | Sequence[torch.Tensor] | Sequence[Sequence[torch.Tensor]]"
)


def norm_layer(norm: str, channels: int) -> nn.Module:
    """InstanceNorm (no affine, as in pix2pixHD), BatchNorm or identity for ``channels``."""
    check_choice(norm, "norm", NORMS)
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=False)
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    return nn.Identity()


class ResidualBlock(nn.Module):
    """``x + norm(conv3×3(ReLU(norm(conv3×3(x)))))`` with reflect padding (He et al. 2016 as
    used by Johnson et al. 2016 and pix2pixHD)."""

    def __init__(self, channels: int, norm: str = "instance") -> None:
        super().__init__()
        channels = check_positive_int(channels, "channels")
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            norm_layer(norm, channels),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            norm_layer(norm, channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _check_input(x, channels: int, multiple: int, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
        raise TypeError(f"{name}: expected a float N×C×H×W tensor, got {getattr(x, 'shape', x)}")
    if x.shape[1] != channels:
        raise ValueError(f"{name}: expected {channels} channels, got {x.shape[1]}")
    h, w = x.shape[-2:]
    if h % multiple or w % multiple:
        raise ValueError(
            f"{name}: height and width must be multiples of {multiple} (2**downsamples), "
            f"got {h}×{w}"
        )
    return x


class GlobalGenerator(nn.Module):
    """pix2pixHD's global generator: ``in_channels`` × H × W → ``out_channels`` × H × W in
    [−1, 1].

    ``width`` channels after the first convolution, doubled by each of ``downsamples`` stride-2
    convolutions (capped at 16·width), ``blocks`` residual blocks, mirrored transposed
    convolutions. H and W must be multiples of ``2**downsamples``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int = 3,
        width: int = 64,
        downsamples: int = 3,
        blocks: int = 9,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        self.width = check_positive_int(width, "width")
        self.downsamples = check_positive_int(downsamples, "downsamples", minimum=0)
        self.blocks = check_positive_int(blocks, "blocks", minimum=0)
        self.norm = check_choice(norm, "norm", NORMS)
        widths = [min(width * 2**i, width * 16) for i in range(downsamples + 1)]
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, widths[0], 7),
            norm_layer(norm, widths[0]),
            nn.ReLU(inplace=True),
        ]
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [
                nn.Conv2d(c_in, c_out, 3, stride=2, padding=1),
                norm_layer(norm, c_out),
                nn.ReLU(inplace=True),
            ]
        layers += [ResidualBlock(widths[-1], norm) for _ in range(blocks)]
        self.encoder = nn.Sequential(*layers)
        up: list[nn.Module] = []
        for c_in, c_out in zip(widths[::-1][:-1], widths[::-1][1:], strict=True):
            up += [
                nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1),
                norm_layer(norm, c_out),
                nn.ReLU(inplace=True),
            ]
        up += [nn.ReflectionPad2d(3), nn.Conv2d(widths[0], out_channels, 7), nn.Tanh()]
        self.decoder = nn.Sequential(*up)
        self.bottleneck_channels = widths[-1]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The bottleneck features (``bottleneck_channels`` × H/2^d × W/2^d)."""
        _check_input(x, self.in_channels, 2**self.downsamples, "x")
        return self.encoder(x)

    def decode(self, features: torch.Tensor) -> torch.Tensor:
        """Bottleneck features → image in [−1, 1]."""
        _check_input(features, self.bottleneck_channels, 1, "features")
        return self.decoder(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, out_channels={self.out_channels}, "
            f"width={self.width}, downsamples={self.downsamples}, blocks={self.blocks}, "
            f"norm={self.norm!r}"
        )


class PatchDiscriminator(nn.Module):
    """pix2pixHD's N-layer PatchGAN: ``forward(x)`` returns the list of intermediate maps, the
    last one the N×1×h×w patch scores (no sigmoid: the LSGAN loss is applied to raw scores).

    ``layers`` stride-2 4×4 convolutions (channels doubling from ``width``, capped at 8·width),
    one stride-1 4×4 convolution, and the stride-1 4×4 score convolution; with ``layers = 3`` a
    score sees a 70×70 patch.
    """

    def __init__(
        self, in_channels: int, width: int = 64, layers: int = 3, norm: str = "instance"
    ) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        layers = check_positive_int(layers, "layers")
        check_choice(norm, "norm", NORMS)
        stages: list[nn.Module] = [
            nn.Sequential(nn.Conv2d(in_channels, width, 4, 2, 2), nn.LeakyReLU(0.2, True))
        ]
        c = width
        for i in range(1, layers + 1):
            c_out = min(width * 2**i, width * 8)
            stride = 2 if i < layers else 1
            stages.append(
                nn.Sequential(
                    nn.Conv2d(c, c_out, 4, stride, 2),
                    norm_layer(norm, c_out),
                    nn.LeakyReLU(0.2, True),
                )
            )
            c = c_out
        stages.append(nn.Conv2d(c, 1, 4, 1, 2))
        self.stages = nn.ModuleList(stages)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        _check_input(x, self.in_channels, 1, "x")
        outputs = []
        for stage in self.stages:
            x = stage(x)
            outputs.append(x)
        return outputs


class MultiscaleDiscriminator(nn.Module):
    """``scales`` :class:`PatchDiscriminator` s; scale k sees the input average-pooled k times
    (3×3, stride 2, as pix2pixHD). ``forward`` returns one list of maps per scale, finest first.
    """

    def __init__(
        self,
        in_channels: int,
        scales: int = 2,
        width: int = 64,
        layers: int = 3,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        self.scales = check_positive_int(scales, "scales")
        self.discriminators = nn.ModuleList(
            PatchDiscriminator(in_channels, width, layers, norm) for _ in range(scales)
        )

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        outputs = []
        for k, disc in enumerate(self.discriminators):
            if k:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            outputs.append(disc(x))
        return outputs


def _per_scale(outputs: DiscriminatorOutputs) -> list[list[torch.Tensor]]:
    """Normalise a tensor, a list of maps or a list of lists of maps to a list of lists."""
    if isinstance(outputs, torch.Tensor):
        return [[outputs]]
    if (
        isinstance(outputs, Sequence)
        and outputs
        and all(isinstance(o, torch.Tensor) for o in outputs)
    ):
        return [list(cast(Sequence[torch.Tensor], outputs))]
    if (
        isinstance(outputs, Sequence)
        and outputs
        and all(isinstance(o, Sequence) and o and isinstance(o[-1], torch.Tensor) for o in outputs)
    ):
        return [list(cast(Sequence[torch.Tensor], o)) for o in outputs]
    raise TypeError(
        "outputs: expected a discriminator's output (a tensor, a list of maps or a list of "
        f"such lists), got {type(outputs).__name__}"
    )


def lsgan_loss(outputs: DiscriminatorOutputs, real: bool) -> torch.Tensor:
    """Least-squares GAN loss: the mean over scales of ``mean((score − target)²)`` with target 1
    for ``real=True`` and 0 otherwise (the score is the last map of each scale)."""
    if not isinstance(real, bool):
        raise TypeError(f"real: expected True or False, got {real!r}")
    per_scale = _per_scale(outputs)
    target = 1.0 if real else 0.0
    total = sum((o[-1] - target).pow(2).mean() for o in per_scale)
    # sum() starts from the int 0, which the stubs cannot fold into a tensor.
    return cast(torch.Tensor, total) / len(per_scale)


def feature_matching_loss(
    fake_outputs: DiscriminatorOutputs, real_outputs: DiscriminatorOutputs
) -> torch.Tensor:
    """pix2pixHD's discriminator feature matching:
    ``Σ_k Σ_i (4 / (n_layers + 1)) (1 / n_scales) · mean |real_k^i − fake_k^i|`` over every map
    but the score map, the real side detached (n_layers + 1 = the number of intermediate maps).
    """
    fake, real = _per_scale(fake_outputs), _per_scale(real_outputs)
    if len(fake) != len(real) or any(len(f) != len(r) for f, r in zip(fake, real, strict=False)):
        raise ValueError("fake_outputs and real_outputs: the discriminator outputs differ in shape")
    total = fake[0][-1].new_zeros(())
    for f_scale, r_scale in zip(fake, real, strict=True):
        weight = 4.0 / max(len(f_scale) - 1, 1) / len(fake)
        for f, r in zip(f_scale[:-1], r_scale[:-1], strict=True):
            total = total + weight * (f - r.detach()).abs().mean()
    return total
