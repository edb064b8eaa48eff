"""Neural style transfer (Gatys, Ecker & Bethge, CVPR 2016): the baseline CartoonGAN is compared
with (Chen et al. 2018, §4.3).

No network is trained: the *image* is optimised so that its deep features match the content
photo and its feature correlations (Gram matrices) match the style image::

    G_l(x) = F_l F_lᵀ / (C_l H_l W_l),     F_l = φ_l(x) reshaped to C_l × (H_l W_l)

    L(x) = α · mean |φ_c(x) − φ_c(p)|² + β · Σ_l w_l · mean (G_l(x) − G_l(s))²

with p the photo, s the style image, φ_c the content layer and l over the style layers. The
Gram matrix keeps which features occur together and drops *where* they occur, which is why NST
transfers textures and colours well but not the cartoon's structural marks (clear outlines,
flat regions): it has no notion of an edge that must be sharp. It runs one optimisation per
image (slow), whereas CartoonGAN's generator is one forward pass.

Feature network: the same as CartoonGAN's content loss (:func:`style_net`): VGG19 (content
conv4_2, style relu1_1 … relu5_1, as Gatys et al.) when its weights are on disk, else the course
network (content stage3_pre, style stage1 … stage4), which sees larger images as 32×32 tiles
(:func:`lib.models.cartoongan.network_view`).

Tiles and seams: each tile is a separate input to the course network, whose zero padding makes
every tile border look like an image border, and no loss over one fixed grid sees the pixels on
both sides of a tile boundary together. Optimised through that grid alone, a 64² image came apart
along it: 2×2 tile seams, a mean step across rows/columns 31|32 of 1.9–2.8× the step between
other neighbours, against 1.1–1.2× in the photos. :func:`neural_style_transfer` therefore
averages its losses over two tilings, the fixed grid and the grid shifted by half a tile (16 px:
the image reflection-padded by 16 px on every side, so that a 64² image becomes 96², cut into
3×3 tiles): every boundary of one tiling lies inside a tile of the other, whose loss sees a seam
there. This weakens the seams without removing them (1.3–1.6× at 31|32; 1.2–1.3× at the shifted
grid's 15|16 and 47|48, 0.8–0.9× in the photos): each tiling still pulls at its own boundaries,
with half the weight.
Images of one tile, and VGG19 (fully convolutional), need no tiling and are optimised as before.
:func:`style_loss`, a measurement, keeps the fixed grid.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from lib._checks import as_tensor, check_images, check_positive_int
from lib.features.classifiers import INPUT_SIZE
from lib.features.perceptual import PerceptualNet, perceptual_net
from lib.models.cartoongan import network_view

__all__ = [
    "STYLE_LAYERS",
    "gram_matrix",
    "neural_style_transfer",
    "style_loss",
    "style_net",
]

#: Content and style layers per backend: Gatys et al.'s for VGG19, the analogue for the course
#: network (its four stages; content at stage 3 like CartoonGAN's content loss).
STYLE_LAYERS = {
    "vgg19": {
        "content": ["conv4_2"],
        "style": ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"],
    },
    "course": {"content": ["stage3_pre"], "style": ["stage1", "stage2", "stage3", "stage4"]},
}


def style_net(backend: str = "auto", device: str | torch.device | None = "auto") -> PerceptualNet:
    """A perceptual network with both the content and the style layers of :data:`STYLE_LAYERS`
    (VGG19 when its weights are on disk, else the course network; ``backend="course"`` chooses
    the course network without a warning)."""
    layers = {k: v["content"] + v["style"] for k, v in STYLE_LAYERS.items()}
    return perceptual_net(layers, backend=backend, device=device)


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """N×C×H×W feature maps → N×C×C Gram matrices F Fᵀ / (C·H·W) (F: C × HW per image)."""
    f = as_tensor(features, "features")
    if f.ndim != 4 or not f.is_floating_point():
        raise ValueError(
            f"features: expected float N×C×H×W feature maps, got {f.dtype} {tuple(f.shape)}"
        )
    n, c, h, w = f.shape
    flat = f.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def _layers(net: PerceptualNet) -> tuple[list[str], list[str]]:
    spec = STYLE_LAYERS.get(net.backend)
    if spec is None or not set(spec["content"] + spec["style"]) <= set(net.layers):
        raise ValueError(
            "net: needs the content and style layers of STYLE_LAYERS for its backend; build it "
            "with lib.models.style_transfer.style_net()"
        )
    return spec["content"], spec["style"]


def style_loss(net: PerceptualNet, images: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """Σ_l mean (G_l(x) − G_l(s))² over the style layers (equal weights); ``style`` is one image
    (1×C×H×W, compared with every image) or one per image."""
    _, style_layers = _layers(net)
    x = net(network_view(net, images), layers=style_layers)
    with torch.no_grad():
        s = net(network_view(net, style), layers=style_layers)
    total = torch.zeros((), device=net.device)
    for layer in style_layers:
        target = _style_grams(s[layer], style.shape[0])
        total = total + (gram_matrix(x[layer]) - target).square().mean()
    return total


def _style_grams(maps: torch.Tensor, n_style: int) -> torch.Tensor:
    """Gram matrices of the style image(s); one style image seen as several tiles gives the mean
    over its tiles (1×C×C, compared with every tile of every image)."""
    grams = gram_matrix(maps)
    return grams.mean(0, keepdim=True) if n_style == 1 else grams


def _tilings(net: PerceptualNet, images: torch.Tensor) -> list[torch.Tensor]:
    """The views of ``images`` that :func:`neural_style_transfer` averages its losses over: the
    fixed 32×32 grid of :func:`network_view` and, for an image of several tiles, the grid
    shifted by half a tile (reflection padding of 16 px on every side: 64² → 96², 3×3 tiles), so
    that every seam of one tiling lies in the middle of a tile of the other. One view where
    :func:`network_view` does not tile (an image of one tile, VGG19)."""
    grid = network_view(net, images)
    if grid.shape[0] == images.shape[0]:
        return [grid]
    half = INPUT_SIZE // 2
    shifted = F.pad(images, (half, half, half, half), mode="reflect")
    return [grid, network_view(net, shifted)]


def _gram_targets(
    net: PerceptualNet, style: torch.Tensor, layers: list[str], n_tilings: int
) -> list[dict[str, torch.Tensor]]:
    """The style layers' Gram targets per tiling of the photos (:func:`_tilings`). One style
    image: its mean Gram over its fixed-grid tiles (:func:`_style_grams`), the same target for
    every tile of every tiling; one per photo: tile by tile, each style image cut as its photo."""
    if style.shape[0] == 1:
        maps = net(network_view(net, style), layers=layers)
        return [{k: _style_grams(v, 1) for k, v in maps.items()}] * n_tilings
    return [
        {k: gram_matrix(v) for k, v in net(view, layers=layers).items()}
        for view in _tilings(net, style)
    ]


def _tiling_losses(
    net: PerceptualNet,
    view: torch.Tensor,
    target: dict[str, torch.Tensor],
    grams: dict[str, torch.Tensor],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Content and style loss of one tiling: Σ over the content layers of mean (φ(x) − φ(p))²
    and over the style layers of mean (G(x) − G(s))², the means over all tiles."""
    feats = net(view, layers=[*target, *grams])
    c_loss = torch.stack([(feats[k] - t).square().mean() for k, t in target.items()]).sum()
    s_loss = torch.stack([(gram_matrix(feats[k]) - g).square().mean() for k, g in grams.items()])
    return c_loss, s_loss.sum()


def neural_style_transfer(
    content: torch.Tensor,
    style: torch.Tensor,
    *,
    net: PerceptualNet | None = None,
    steps: int = 200,
    style_weight: float = 1e4,
    content_weight: float = 1.0,
    lr: float = 0.02,
    return_history: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, list[dict[str, float]]]:
    """Gatys et al.'s style transfer of the N×3×H×W photos ``content`` (in [0, 1]) towards the
    style image ``style`` (1×3×h×w, any size the network accepts, or N of them): Adam on the
    pixels, started from the photo, ``steps`` steps, pixels clamped to [0, 1] after each step.

    L = content_weight · mean (φ_c(x) − φ_c(p))² + style_weight · Σ_l mean (G_l(x) − G_l(s))²
    (:func:`gram_matrix`). Returns the stylised images (and the per-step losses with
    ``return_history``). ``net`` defaults to :func:`style_net` on the photos' device.

    With the course network an image larger than one tile is seen as 32×32 tiles, and both
    terms are the average over two tilings: the fixed grid and the grid shifted by half a tile
    (reflection padding of 16 px on every side; a 64² image gives 2×2 + 3×3 tiles). On the fixed
    grid alone nothing ties the pixels on the two sides of a tile boundary together, and the
    output showed the grid as seams; with the second tiling every boundary lies inside a tile
    whose loss sees it (weaker seams, not none: see the module docstring). The style image's
    Gram target is its mean over its fixed-grid tiles (one style image per photo: tile by tile,
    cut as its photo, so it must give the photo's tiles). Costs 13/4 the network passes of one
    tiling for 64² images. Images of one tile, and VGG19, are seen whole, as before."""
    p = check_images(content, "content", channels=(3,))
    s = check_images(style, "style", channels=(3,))
    if s.shape[0] not in (1, p.shape[0]):
        raise ValueError(
            f"style: expected one style image or one per content image ({p.shape[0]}), got "
            f"{s.shape[0]}"
        )
    check_positive_int(steps, "steps")
    for name, value in (
        ("style_weight", style_weight),
        ("content_weight", content_weight),
        ("lr", lr),
    ):
        if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name}: expected a finite number ≥ 0, got {value!r}")
    if not lr > 0:
        raise ValueError(f"lr: must be positive, got {lr}")
    net = style_net(device=p.device) if net is None else net
    if not isinstance(net, PerceptualNet):
        raise TypeError(f"net: expected a PerceptualNet, got {type(net).__name__}")
    content_layers, style_layers = _layers(net)
    views = _tilings(net, p)
    if s.shape[0] > 1 and [v.shape[0] for v in _tilings(net, s)] != [v.shape[0] for v in views]:
        raise ValueError(
            f"style: one style image per photo is compared with it tile by tile, so it must be cut "
            f"into as many tiles; give it the photos' size {tuple(p.shape[-2:])}, not "
            f"{tuple(s.shape[-2:])}"
        )
    with torch.no_grad():
        targets = [net(view, layers=content_layers) for view in views]
        grams = _gram_targets(net, s, style_layers, len(targets))
    x = p.detach().clone().to(net.device).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    history = []
    for _ in range(steps):
        per_tiling = [
            _tiling_losses(net, view, target, gram)
            for view, target, gram in zip(_tilings(net, x), targets, grams, strict=True)
        ]
        c_loss, s_loss = (torch.stack(terms).mean() for terms in zip(*per_tiling, strict=True))
        loss = content_weight * c_loss + style_weight * s_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)
        history.append({"content": float(c_loss.detach()), "style": float(s_loss.detach())})
    out = x.detach().to(p.device)
    return (out, history) if return_history else out
