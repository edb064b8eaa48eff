"""CartoonGAN (Chen, Lai & Liu, CVPR 2018): photo → cartoon from unpaired sets.

Generator ``G`` (§3.1, Fig. 2 of Chen et al., CVPR 2018), images in [0, 1] outside, [−1, 1] inside::

    7×7 conv (reflect pad) w → IN → ReLU                                 flat block
    2 × [3×3 conv stride 2 → 3×3 conv → IN → ReLU]   w → 2w → 4w, H → H/4  down blocks
    B × residual block at 4w (reflect-padded conv-IN-ReLU-conv-IN + skip)
    2 × [3×3 transposed conv stride 1/2 → 3×3 conv → IN → ReLU]  4w → 2w → w  up blocks
    7×7 conv → 3, tanh

The paper has w = 64 and B = 8 (the course trains w = 16, B = 4 at 64² on a CPU). ``norm``
chooses the normalisation: the paper's instance norm, batch norm, or none (the course's recipe:
instance norm removes each image's mean colour and contrast after the first convolution, and the
procedural scenes, unlike real photos, do not let G infer them from content).

Discriminator ``D`` (§3.1): a small 3×3 conv net whose output is a *patch score map* at 1/4
resolution, one real/fake score per overlapping patch, so it needs far fewer parameters than a
network that scores the whole image::

    3×3 conv w → LReLU(0.2)
    2 × [3×3 conv stride 2 (k → k) → LReLU → 3×3 conv (k → 2k) → IN → LReLU]   w → 4w
    3×3 conv 4w → 4w → IN → LReLU → 3×3 conv → 1                 (paper: w = 32)

Losses (§3.2), LSGAN as in the authors' code:

    L_D   = E_c[(D(c) − 1)²] + E_e[D(e)²] + E_p[D(G(p))²]
            (c: cartoons, e: edge-smoothed cartoons, p: photos)
    L_G   = E_p[(D(G(p)) − 1)²] + ω · L_con,     ω = 10
    L_con = ‖φ(G(p)) − φ(p)‖₁  (mean over the feature map; φ = VGG19 conv4_4 before its ReLU, or
            offline the course network's ``stage1_pre`` + ``stage3_pre``, see :func:`content_net`)

ω = 10 balances the paper's VGG19 features; the size of L_con depends on the feature network, so
the course's training recipe uses ω = 1 with its own network, plus a colour term
:func:`colour_loss` that the colour-blind course network needs
(see :mod:`lib.train.recipes.cartoongan`).

Training (§3.3): an *initialisation phase* with L_con alone (G learns to reconstruct the photo),
then adversarial training. For video, :func:`temporal_loss` adds a flicker penalty
‖m ⊙ (G(f_t) − warp(G(f_{t−1}), F_t))‖₁ with the known backward flow F_t and the mask m of
pixels visible in both frames; :func:`lib.metrics.video.warping_error` with
``distance="absolute"`` measures flicker the same way.

Trained generators (the full model with 3 seeds, its temporal fine-tunes, and the ablations) are
committed as float16 state dicts in ``data/cartoongan`` with a manifest (:data:`CARTOONGAN_DIR`,
:data:`CARTOONGAN_ABLATIONS`); :func:`load_cartoongan` checks their sha256 and loads them with
safetensors (nothing is unpickled).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lib._checks import ArrayLike, as_tensor, check_choice, check_images, check_positive_int
from lib.features.classifiers import INPUT_SIZE
from lib.features.perceptual import PerceptualNet, perceptual_loss, perceptual_net
from lib.models.pix2pixhd import NORMS, ResidualBlock, norm_layer
from lib.paths import DATA_DIR
from lib.video import warp
from lib.weights import load_committed, manifest_seeds, seed_key

__all__ = [
    "CARTOONGAN_ABLATIONS",
    "CARTOONGAN_DIR",
    "CONTENT_LAYERS",
    "OMEGA",
    "UPSAMPLING",
    "RETRAIN",
    "VARIANTS",
    "CartoonDiscriminator",
    "CartoonGenerator",
    "FullImageDiscriminator",
    "cartoonize",
    "colour_loss",
    "committed_seeds",
    "content_loss",
    "content_net",
    "discriminator_loss",
    "generator_adversarial_loss",
    "load_cartoongan",
    "network_view",
    "parameter_count",
    "temporal_loss",
]

CARTOONGAN_DIR = DATA_DIR / "cartoongan"
#: The committed generators: the full model's run (``full``, ``init_only``, ``temporal``,
#: ``temporal_control``; 3 seeds) in CARTOONGAN_DIR; the ablations, trained on a shorter schedule
#: with the ``full`` model of that schedule beside them, in CARTOONGAN_ABLATIONS["ablations"];
#: the same short run with the paper's content weight ω = 10 in CARTOONGAN_ABLATIONS["omega-10"]
#: (ω = 0 is the ``no_content`` ablation). The command of each is in its manifest
#: (``info["command"]``).
CARTOONGAN_ABLATIONS = {
    "ablations": CARTOONGAN_DIR / "ablations",
    "omega-10": CARTOONGAN_DIR / "ablations" / "omega-10",
}
OMEGA = 10.0  # the paper's content weight ω
#: φ of the content loss: VGG19 conv4_4 before its ReLU (the paper), or, offline, the course
#: network's pre-ReLU maps of stages 1 and 3 (stage 3 is the conv4_4 analogue, 1/4 of the input
#: resolution; stage 1 adds the low-level structure that a network trained on flat shapes keeps
#: poorly at stage 3 alone — with stage 3 only, the initialisation phase does not reconstruct).
CONTENT_LAYERS = {
    "vgg19": ["conv4_4"],
    "course": ["stage1_pre", "stage3_pre"],
    "layout": ["stage3"],
}
#: CartoonGenerator's ways of doubling the resolution.
UPSAMPLING = ("transposed", "resize")
RETRAIN = (
    "python -m lib.train cartoongan --variant {variant} --preset course --seed {seed} "
    "--out data/cartoongan"
)

#: The committed generators: name → (the training run that makes it, what it shows).
VARIANTS: dict[str, str] = {
    "full": "init phase, then L_adv (3 terms) + ω·L1 content (ω = 1) + 3·L_col (4×4 blocks)",
    "init_only": "after the initialisation phase only (content and pixel loss: reconstruction)",
    "no_smooth": "no edge-smoothed negatives in L_D (two-term adversarial loss)",
    "no_content": "no content loss in the adversarial phase (ω = 0)",
    "l2_content": "L2 instead of L1 content loss (both phases)",
    "no_init": "no initialisation phase (adversarial training from random weights)",
    "temporal": "the full model fine-tuned on street clips with the temporal loss",
    "temporal_control": "the full model fine-tuned on the same clips without the temporal loss",
}
#: The training run that writes each variant (``python -m lib.train cartoongan --variant``).
VARIANT_RUN = {
    "full": "full",
    "init_only": "full",
    "temporal": "full",
    "temporal_control": "full",
    "no_smooth": "no_smooth",
    "no_content": "no_content",
    "l2_content": "l2_content",
    "no_init": "no_init",
}


def _check_width(value, name: str) -> int:
    return check_positive_int(value, name)


def parameter_count(module: nn.Module) -> int:
    """The number of trainable parameters of ``module``."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _check_batch(x, name: str, module: str) -> torch.Tensor:
    x = as_tensor(x, name)
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"{name}: {module} expects N×3×H×W images, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected float images in [0, 1], got dtype {x.dtype}")
    if x.shape[-2] % 4 or x.shape[-1] % 4:
        raise ValueError(
            f"{name}: {module} halves the image twice, so H and W must be multiples of 4, got "
            f"{x.shape[-2]}×{x.shape[-1]}"
        )
    return x


class CartoonGenerator(nn.Module):
    """CartoonGAN's generator: N×3×H×W images in [0, 1] → cartoonised images in [0, 1].

    Args:
        width: channels of the flat block (paper 64); the down blocks double it twice.
        blocks: residual blocks at 4·width channels (paper 8).
        norm: ``"instance"`` (the paper), ``"batch"`` or ``"none"``.
        upsample: ``"transposed"`` (the paper: 3×3 transposed convolutions of stride 2) or
            ``"resize"`` (nearest-neighbour ×2, then a 3×3 convolution; Odena et al. 2016,
            "Deconvolution and checkerboard artifacts"): a transposed convolution of stride 2
            whose kernel does not divide by the stride paints some output pixels with more
            kernel taps than their neighbours — a checkerboard a discriminator can push on.

    H and W must be multiples of 4. :meth:`config` gives the arguments that rebuild it.
    """

    # Set by the loader on a committed network; declared so that they are plain attributes.
    variant: str
    info: dict[str, Any]

    def __init__(
        self,
        width: int = 64,
        blocks: int = 8,
        norm: str = "instance",
        upsample: str = "transposed",
    ) -> None:
        super().__init__()
        self.width = _check_width(width, "width")
        self.blocks = check_positive_int(blocks, "blocks", minimum=0)
        self.norm = check_choice(norm, "norm", NORMS)
        self.upsample = check_choice(upsample, "upsample", UPSAMPLING)
        w = self.width
        self.flat = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(3, w, 7), norm_layer(norm, w), nn.ReLU(True)
        )
        self.down = nn.Sequential(*self._down(w, 2 * w, norm), *self._down(2 * w, 4 * w, norm))
        self.residual = nn.Sequential(*(ResidualBlock(4 * w, norm=norm) for _ in range(blocks)))
        self.up = nn.Sequential(
            *self._up(4 * w, 2 * w, norm, upsample), *self._up(2 * w, w, norm, upsample)
        )
        self.to_image = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(w, 3, 7), nn.Tanh())

    @staticmethod
    def _down(a: int, b: int, norm: str) -> list[nn.Module]:
        return [
            nn.Conv2d(a, b, 3, stride=2, padding=1),
            nn.Conv2d(b, b, 3, padding=1),
            norm_layer(norm, b),
            nn.ReLU(True),
        ]

    @staticmethod
    def _up(a: int, b: int, norm: str, upsample: str) -> list[nn.Module]:
        if upsample == "transposed":
            double: nn.Module = nn.ConvTranspose2d(a, b, 3, stride=2, padding=1, output_padding=1)
        else:
            double = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(a, b, 3, padding=1))
        return [
            double,
            nn.Conv2d(b, b, 3, padding=1),
            norm_layer(norm, b),
            nn.ReLU(True),
        ]

    def config(self) -> dict:
        return {
            "width": self.width,
            "blocks": self.blocks,
            "norm": self.norm,
            "upsample": self.upsample,
        }

    def forward(self, photos: torch.Tensor) -> torch.Tensor:
        x = _check_batch(photos, "photos", "CartoonGenerator")
        h = self.up(self.residual(self.down(self.flat(x * 2 - 1))))
        return (self.to_image(h) + 1) / 2

    def extra_repr(self) -> str:
        return (
            f"width={self.width}, blocks={self.blocks}, norm={self.norm!r}, "
            f"upsample={self.upsample!r}"
        )


class CartoonDiscriminator(nn.Module):
    """CartoonGAN's patch discriminator: N×3×H×W images in [0, 1] → N×1×H/4×W/4 scores
    (higher = more like a real cartoon). Through its convolutions each score sees a patch of the
    image (:meth:`receptive_field` pixels on a side), not the whole image; only instance
    normalisation adds per-image feature means and variances.

    Args:
        width: channels of the first conv (paper 32); the two down blocks go to 4·width.
    """

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.width = _check_width(width, "width")
        w = self.width
        lrelu = nn.LeakyReLU(0.2, True)
        self.body = nn.Sequential(
            nn.Conv2d(3, w, 3, padding=1),
            lrelu,
            nn.Conv2d(w, w, 3, stride=2, padding=1),
            lrelu,
            nn.Conv2d(w, 2 * w, 3, padding=1),
            nn.InstanceNorm2d(2 * w),
            lrelu,
            nn.Conv2d(2 * w, 2 * w, 3, stride=2, padding=1),
            lrelu,
            nn.Conv2d(2 * w, 4 * w, 3, padding=1),
            nn.InstanceNorm2d(4 * w),
            lrelu,
            nn.Conv2d(4 * w, 4 * w, 3, padding=1),
            nn.InstanceNorm2d(4 * w),
            lrelu,
        )
        self.score = nn.Conv2d(4 * w, 1, 3, padding=1)

    def config(self) -> dict:
        return {"width": self.width}

    @staticmethod
    def receptive_field() -> int:
        """Side in pixels of the patch that one output score depends on (7 stride-adjusted 3×3
        convolutions: 1 + 2·(1 + 1 + 2 + 2 + 4 + 4 + 4) = 37)."""
        size, jump = 1, 1
        for stride in (1, 2, 1, 2, 1, 1, 1):
            size += 2 * jump
            jump *= stride
        return size

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = _check_batch(images, "images", "CartoonDiscriminator")
        return self.score(self.body(x * 2 - 1))


class FullImageDiscriminator(nn.Module):
    """For comparison only: the same conv body with a dense layer over the whole H/4×W/4 map,
    one score per image, as a non-patch discriminator would have. Its parameter count grows
    with the image size (the dense layer has 4·width·H·W/16 weights)."""

    def __init__(self, size: int, width: int = 32) -> None:
        super().__init__()
        size = check_positive_int(size, "size", minimum=4)
        if size % 4:
            raise ValueError(f"size: must be a multiple of 4, got {size}")
        self.patch = CartoonDiscriminator(width)
        self.dense = nn.Linear(4 * width * (size // 4) ** 2, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = _check_batch(images, "images", "FullImageDiscriminator")
        return self.dense(self.patch.body(x * 2 - 1).flatten(1))


# ---------------------------------------------------------------------------------- losses
def _check_scores(scores, name: str) -> torch.Tensor:
    scores = as_tensor(scores, name)
    if not scores.is_floating_point() or scores.numel() == 0:
        raise ValueError(f"{name}: expected a non-empty float tensor of D scores")
    return scores


def discriminator_loss(
    d_cartoon: torch.Tensor,
    d_smooth: torch.Tensor | None,
    d_generated: torch.Tensor,
) -> tuple[torch.Tensor, dict[str, float]]:
    """CartoonGAN's adversarial loss for D, least squares (the authors' code):

        L_D = mean (D(c) − 1)² + mean D(e)² + mean D(G(p))²

    Cartoons c are the positives; edge-smoothed cartoons e and generated images G(p) the
    negatives. ``d_smooth=None`` drops the middle term (the "no edge-smoothed negatives"
    ablation). Pass ``D(G(p).detach())`` so that D's step does not update G. Returns the loss
    and its terms as floats."""
    d_cartoon = _check_scores(d_cartoon, "d_cartoon")
    d_generated = _check_scores(d_generated, "d_generated")
    real = (d_cartoon - 1).square().mean()
    fake = d_generated.square().mean()
    terms = {"d_cartoon": float(real.detach()), "d_generated": float(fake.detach())}
    total = real + fake
    if d_smooth is not None:
        smooth = _check_scores(d_smooth, "d_smooth").square().mean()
        terms["d_smooth"] = float(smooth.detach())
        total = total + smooth
    return total, terms


def generator_adversarial_loss(d_generated: torch.Tensor) -> torch.Tensor:
    """The generator's least-squares adversarial loss, mean (D(G(p)) − 1)²: G wants its images
    scored as real cartoons."""
    return (_check_scores(d_generated, "d_generated") - 1).square().mean()


def content_net(backend: str = "auto", device: str | torch.device | None = "auto") -> PerceptualNet:
    """φ of the content loss: VGG19 conv4_4 (pre-ReLU) when its weights file is on disk, else the
    course network's ``stage1_pre`` and ``stage3_pre`` (see :data:`CONTENT_LAYERS`);
    ``net.describe()`` says which. ``backend="course"`` chooses the course network on purpose
    (no warning); ``backend="layout"`` the course's scene-layout network at ``stage3``
    (:mod:`lib.features.scene_layout`), whose features keep a cartoon-world scene's layout and
    drop most of its style."""
    return perceptual_net(CONTENT_LAYERS, backend=backend, device=device)


def content_loss(
    net: PerceptualNet,
    generated: torch.Tensor,
    photos: torch.Tensor,
    *,
    omega: float = OMEGA,
    distance: str = "l1",
) -> torch.Tensor:
    """ω · ‖φ(G(p)) − φ(p)‖ (mean absolute difference over the feature map for ``"l1"``, the
    paper's choice; mean squared difference for ``"l2"``), φ = the net's layer(s). The photo
    side is detached (it is the target). ω = 10 in the paper."""
    if not isinstance(omega, int | float) or isinstance(omega, bool) or not math.isfinite(omega):
        raise TypeError(f"omega: expected a finite number, got {omega!r}")
    if omega < 0:
        raise ValueError(f"omega: must be ≥ 0, got {omega}")
    check_choice(distance, "distance", ("l1", "l2"))
    x, y = network_view(net, generated), network_view(net, photos.detach())
    return omega * perceptual_loss(net, x, y, distance=distance)


def colour_loss(generated: torch.Tensor, photos: torch.Tensor, *, pool: int = 4) -> torch.Tensor:
    """Mean absolute difference of the ``pool``×``pool`` block means of G(p) and p:

        L_col = mean |B_k(G(p)) − B_k(p)|,   B_k = k×k average pooling (k = ``pool``; 1: pixels)

    Not in the paper. VGG19's conv4_4 features carry colour, so the paper's content loss keeps a
    photo's colours; the course network was trained on shapes whose class does not depend on
    colour, and through it alone a generator may repaint a region (measured: the sun and whole
    objects vanish). L_col keeps the colours of k×k blocks and leaves G free inside a block: to
    flatten texture, to draw outlines. The photo side is detached (it is the target)."""
    check_positive_int(pool, "pool")
    if generated.shape != photos.shape or generated.ndim != 4:
        raise ValueError(
            f"generated, photos: expected two N×C×H×W batches of one shape, got "
            f"{tuple(generated.shape)} and {tuple(photos.shape)}"
        )
    if pool == 1:
        return (generated - photos.detach()).abs().mean()
    blocks = torch.nn.functional.avg_pool2d
    return (blocks(generated, pool) - blocks(photos.detach(), pool)).abs().mean()


def network_view(net: PerceptualNet, images: torch.Tensor) -> torch.Tensor:
    """The course network sees 32×32 images (it resizes anything else): a larger image whose
    sides are multiples of 32 is cut into 32×32 tiles instead, so that the content loss holds at
    full resolution (a 64² image resized to 32² would leave every detail finer than 2 px — and
    a generator's checkerboard — unconstrained). VGG19 is fully convolutional: no change."""
    if not isinstance(net, PerceptualNet):
        raise TypeError(
            f"net: expected a PerceptualNet (from content_net()), got {type(net).__name__}"
        )
    if net.backend != "course" or images.ndim != 4:
        return images
    s = INPUT_SIZE
    n, c, h, w = images.shape
    if h <= s and w <= s or h % s or w % s:
        return images
    tiles = images.reshape(n, c, h // s, s, w // s, s).permute(0, 2, 4, 1, 3, 5)
    return tiles.reshape(-1, c, s, s)


def _check_video(frames, name: str) -> torch.Tensor:
    frames = as_tensor(frames, name)
    if frames.ndim != 5:
        raise ValueError(f"{name}: expected N×T×C×H×W clips, got shape {tuple(frames.shape)}")
    if not frames.is_floating_point():
        raise TypeError(f"{name}: expected float frames, got dtype {frames.dtype}")
    return frames


def _valid_mask(occlusion, shape, name: str = "occlusion") -> torch.Tensor:
    occlusion = as_tensor(occlusion, name)
    if occlusion.dtype != torch.bool:
        raise TypeError(f"{name}: expected a bool mask (True = occluded), got {occlusion.dtype}")
    if tuple(occlusion.shape) != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {tuple(occlusion.shape)}")
    return ~occlusion


def temporal_loss(
    current: torch.Tensor,
    previous: torch.Tensor,
    flow: torch.Tensor,
    occlusion: torch.Tensor,
) -> torch.Tensor:
    """Flicker penalty of a frame pair: mean over visible pixels and channels of
    |y_t − warp(y_{t−1}, F_t)| where F_t is frame t's backward flow (N×2×H×W, pixels) and
    ``occlusion`` (N×H×W bool) marks the pixels not visible in frame t−1, which are left out.
    Gradients flow into both outputs (as in Everybody Dance Now's frame pairs)."""
    current, previous = as_tensor(current, "current"), as_tensor(previous, "previous")
    if current.shape != previous.shape or current.ndim != 4:
        raise ValueError(
            f"current, previous: expected two N×C×H×W batches of one shape, got "
            f"{tuple(current.shape)} and {tuple(previous.shape)}"
        )
    n, _, h, w = current.shape
    valid = _valid_mask(occlusion, (n, h, w)).to(current.dtype)[:, None]
    diff = (current - warp(previous, flow)).abs() * valid
    return diff.sum() / (valid.sum() * current.shape[1]).clamp(min=1)


@torch.no_grad()
# ----------------------------------------------------------------------------- diagnostics
@torch.no_grad()
def cartoonize(
    generator: CartoonGenerator, photos: ArrayLike, *, batch_size: int = 64
) -> torch.Tensor:
    """``generator`` applied to N×3×H×W photos in [0, 1] (or N×T×3×H×W clips, frame by frame) in
    eval mode without gradients, in batches; returns images in [0, 1] on the photos' device."""
    if not isinstance(generator, CartoonGenerator):
        raise TypeError(f"generator: expected a CartoonGenerator, got {type(generator).__name__}")
    check_positive_int(batch_size, "batch_size")
    x = as_tensor(photos, "photos")
    lead = x.shape[:-3]
    if x.ndim == 5:
        x = x.reshape(-1, *x.shape[-3:])
    check_images(x, "photos", channels=(3,))
    device = next(generator.parameters()).device
    was_training = generator.training
    generator.eval()
    try:
        out = torch.cat(
            [
                generator(x[i : i + batch_size].to(device)).to(x.device)
                for i in range(0, x.shape[0], batch_size)
            ]
        )
    finally:
        generator.train(was_training)
    return out.reshape(*lead, *out.shape[-3:])


# ------------------------------------------------------------------------------ checkpoints
def _retrain(variant: str, seed: int = 0) -> str:
    command = RETRAIN.format(variant=VARIANT_RUN.get(variant, variant), seed=seed)
    return f"retrain with `{command}`"


def committed_seeds(variant: str = "full", *, folder: str | os.PathLike | None = None) -> list[int]:
    """The seeds with a committed generator of ``variant`` (:data:`VARIANTS`), sorted."""
    check_choice(variant, "variant", tuple(VARIANTS))
    folder = CARTOONGAN_DIR if folder is None else Path(folder)
    seeds = manifest_seeds(folder, variant)
    if not seeds:
        raise FileNotFoundError(
            f"no committed CartoonGAN generator '{variant}' in {folder}; {_retrain(variant)}"
        )
    return seeds


def load_cartoongan(
    variant: str = "full", *, seed: int = 0, folder: str | os.PathLike | None = None
) -> CartoonGenerator:
    """A committed CartoonGAN generator (:data:`VARIANTS`) trained with ``seed``
    (:func:`committed_seeds`), in eval mode on the CPU in float32.

    The file's sha256 is checked against the manifest and it is loaded with
    safetensors (nothing is unpickled); a missing, corrupt or replaced file raises an error that
    says how to regenerate it. ``generator.variant`` and ``.info`` (the manifest entry: recipe,
    losses along training, measurements, wall time) say what was loaded.
    """
    check_choice(variant, "variant", tuple(VARIANTS))
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected an integer ≥ 0, got {seed!r}")
    folder = CARTOONGAN_DIR if folder is None else Path(folder)
    entry, state = load_committed(
        folder, seed_key(variant, seed), how_to_fix=_retrain(variant, seed)
    )
    net = CartoonGenerator(**entry["generator"])
    net.load_state_dict(state)
    net.variant = variant
    net.info = dict(entry)
    return net.eval()
