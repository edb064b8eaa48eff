"""Whether a CartoonGAN run works, in numbers: the health of a generator's outputs
(:func:`output_diagnostics`, :func:`training_diagnostics`) and whether a content network lets
the style change at all (:func:`content_style_confusion`).

Public reproductions of CartoonGAN often give output ≈ input, checkerboards or collapse; these
numbers catch each. They sit beside :mod:`lib.models.cartoongan` (the networks and losses) so
that the training recipe, the notebook and the bars (:mod:`lib.evaluation.cartoongan_bars`) share
one definition.
"""

from __future__ import annotations

import torch

from lib._checks import ArrayLike, check_images
from lib.features.perceptual import PerceptualNet
from lib.metrics.cartoon import (
    checkerboard_score,
    colour_count,
    edge_sharpness,
    output_diversity,
    texture_energy,
)
from lib.models.cartoongan import CartoonGenerator, cartoonize, content_loss, content_net

__all__ = ["content_style_confusion", "output_diagnostics", "training_diagnostics"]


def content_style_confusion(
    net: PerceptualNet, photos: torch.Tensor, cartoons: torch.Tensor
) -> dict[str, float]:
    """How far a content network puts a scene's cartoon from its photo, against how far it
    puts another scene's photo, on the two renderings of N scenes (mean L1 feature distances,
    the content loss's own distance at ω = 1):

        same_scene  = mean_i d(φ(c_i), φ(p_i))      (one scene, two styles)
        other_scene = mean_i d(φ(p_{i+1}), φ(p_i))  (two scenes, one style)
        ratio       = same_scene / other_scene

    CartoonGAN's content loss ω·d(φ(G(p)), φ(p)) can keep a photo's content while its style
    changes only where φ sees style much less than content (ratio ≪ 1; the paper relies on
    VGG19's conv4_4 for this). At ratio ≈ 1 the scene's own cartoon costs the generator as much
    content loss as a different scene would."""
    if photos.shape != cartoons.shape:
        raise ValueError(
            f"photos {tuple(photos.shape)} and cartoons {tuple(cartoons.shape)}: pass the two "
            "renderings of the same scenes, in the same order"
        )
    if len(photos) < 2:
        raise ValueError("photos: needs at least 2 scenes to compare a scene with another")
    with torch.no_grad():
        same = float(content_loss(net, cartoons, photos, omega=1.0))
        other = float(content_loss(net, photos.roll(1, 0), photos, omega=1.0))
    return {"same_scene": same, "other_scene": other, "ratio": same / other}


@torch.no_grad()
def output_diagnostics(
    outputs: torch.Tensor, photos: torch.Tensor, net: PerceptualNet
) -> dict[str, float]:
    """The health numbers of :func:`training_diagnostics` from outputs already computed
    (``outputs`` = G(``photos``), both (N, 3, H, W) in [0, 1]): ``pixel_change``,
    ``feature_distance``, ``checkerboard`` and ``diversity``."""
    if outputs.shape != photos.shape:
        raise ValueError(
            f"outputs {tuple(outputs.shape)} and photos {tuple(photos.shape)}: "
            "pass G(photos) and the photos themselves"
        )
    return {
        "pixel_change": float((outputs - photos).abs().mean()),
        "feature_distance": float(content_loss(net, outputs, photos, omega=1.0)),
        "checkerboard": float(
            checkerboard_score(outputs).mean() / checkerboard_score(photos).mean()
        ),
        "diversity": float(output_diversity(outputs, photos)),
    }


def training_diagnostics(
    generator: CartoonGenerator, photos: ArrayLike, net: PerceptualNet | None = None
) -> dict[str, float]:
    """Numbers that tell whether CartoonGAN training works (public reproductions often
    give output ≈ input, checkerboards or collapse):

    * ``pixel_change``: mean |G(p) − p| (≈0: the generator copies its input);
    * ``feature_distance``: mean |φ(G(p)) − φ(p)| in the content network (large: content lost);
    * ``checkerboard``: :func:`checkerboard_score` of the outputs over that of the photos
      (≫1: checkerboard artifacts);
    * ``diversity``: :func:`output_diversity` (≪1: collapse);
    * ``edge_sharpness``, ``texture_energy`` and ``colour_count`` of the outputs (means over
      images; :mod:`lib.metrics.cartoon`), to compare with the cartoons and the photos.

    The first four come from :func:`output_diagnostics` (use it when G(p) is already at hand).
    """
    x = check_images(photos, "photos", channels=(3,))
    y = cartoonize(generator, x)
    net = content_net(backend="course", device=x.device) if net is None else net
    return output_diagnostics(y, x, net) | {
        "edge_sharpness": float(edge_sharpness(y).nanmean()),
        "texture_energy": float(texture_energy(y).nanmean()),
        "colour_count": float(colour_count(y).float().mean()),
    }
