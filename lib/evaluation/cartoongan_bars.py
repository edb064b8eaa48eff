"""The bars of the committed CartoonGAN generators (``python -m lib models cartoongan``).

Measured on photo renders the training never saw (:data:`CARTOONGAN_TEST`: 64 scenes of seed
424242 at 64²), each beside the cartoon rendering of the *same* scene and its layout
(:func:`lib.datasets.cartoon.scene_layouts`), so both style and content have an exact
reference. A bar is the mean ± sd over the committed seeds of the full model:

===============================  ================================================================
``edge_sharpness_gap_closed``,   share of the photo → cartoon gap of each style statistic
``texture_energy_gap_closed``,   (:mod:`lib.metrics.cartoon`) that the output closes,
``colour_count_gap_closed``      (output − photo) ÷ (cartoon − photo) on the test set (≥ 0.5)
``content_closer_than_photo``    the output's distance to the paired cartoon ÷ the photo's, the
                                 larger of two distances: pixel L1 and the content network's
                                 feature distance (< 1: the output is nearer to the scene's
                                 cartoon than the photo was)
``boundary_f_ratio``             boundary F-score of the output against the layout ÷ that of
                                 the cartoon rendering (≥ 0.8: the regions stay where they were)
===============================  ================================================================

Where temporal fine-tunes are committed, two more bars compare them with the frame-by-frame
generator on street clips (:data:`CARTOONGAN_CLIPS`): ``temporal_flicker_drop`` (1 − warping
error of the fine-tuned ÷ of the frame-by-frame generator, absolute distance: ≥ 0.4) and
``temporal_style_drift`` (the largest relative change of the three style statistics of the
frames: ≤ 0.15). ``controls`` holds every measure of every committed variant (mean ± sd over
its seeds) and of the photos and cartoons themselves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import cast

import torch

from lib.datasets.base import ImageSet
from lib.datasets.cartoon import cartoons, photo_renders, scene_layouts
from lib.datasets.street import street
from lib.device import resolve_device
from lib.evaluation.bars import bar_over_seeds, seed_summary
from lib.features.perceptual import PerceptualNet
from lib.metrics.cartoon import boundary_f_score, colour_count, edge_sharpness, texture_energy
from lib.metrics.video import warping_error
from lib.models.cartoongan import (
    VARIANTS,
    CartoonGenerator,
    cartoonize,
    committed_seeds,
    content_loss,
    content_net,
    load_cartoongan,
)
from lib.models.cartoongan_diagnostics import content_style_confusion as style_confusion
from lib.models.cartoongan_diagnostics import output_diagnostics

__all__ = [
    "CARTOONGAN_CLIPS",
    "CARTOONGAN_TEST",
    "STYLE_STATISTICS",
    "bar_ratios",
    "CartoonTestSet",
    "cartoongan_bars",
    "cartoongan_measures",
    "cartoongan_test_set",
    "content_style_confusion",
    "generator_measures",
    "style_statistics",
]

CARTOONGAN_TEST = {"n": 64, "size": 64, "seed": 424_242}
CARTOONGAN_CLIPS = {"clips": 8, "frames": 12, "seed": 2024}
STYLE_STATISTICS = ("edge_sharpness", "texture_energy", "colour_count")


@dataclass(frozen=True)
class CartoonTestSet:
    """Paired held-out scenes: photo renders, the cartoons of the same scenes, their layouts."""

    photos: torch.Tensor
    cartoons: torch.Tensor
    layouts: torch.Tensor


def cartoongan_test_set(device: str | torch.device = "cpu") -> CartoonTestSet:
    """The held-out paired scenes of :data:`CARTOONGAN_TEST`."""
    device = resolve_device(device)
    n, size, seed = CARTOONGAN_TEST["n"], CARTOONGAN_TEST["size"], CARTOONGAN_TEST["seed"]
    toons = cast(ImageSet, cartoons(n, size=size, seed=seed))  # an ImageSet without outlines
    return CartoonTestSet(
        photo_renders(n, size=size, seed=seed).images.to(device),
        toons.images.to(device),
        scene_layouts(n, size=size, seed=seed).to(device),
    )


def style_statistics(images: torch.Tensor) -> dict[str, float]:
    """The three marks of a cartoon (:mod:`lib.metrics.cartoon`), means over the images."""
    return {
        "edge_sharpness": float(edge_sharpness(images).nanmean()),
        "texture_energy": float(texture_energy(images).nanmean()),
        "colour_count": float(colour_count(images).float().mean()),
    }


def _content(images: torch.Tensor, test: CartoonTestSet, net: PerceptualNet) -> dict[str, float]:
    return {
        "l1_to_cartoon": float((images - test.cartoons).abs().mean()),
        "features_to_cartoon": float(content_loss(net, images, test.cartoons, omega=1.0)),
        "boundary_f": float(boundary_f_score(images, test.layouts).nanmean()),
    }


def cartoongan_measures(
    images: torch.Tensor, test: CartoonTestSet, net: PerceptualNet
) -> dict[str, float]:
    """Style statistics and content distances of N translated test photos (or of the photos
    or cartoons themselves) against the test set's paired cartoons and layouts."""
    return style_statistics(images) | _content(images, test, net)


def bar_ratios(measures: dict[str, float], photo: dict, toon: dict) -> dict[str, float]:
    """The ratios the bars take (module docstring) of one set of :func:`cartoongan_measures`,
    given those of the test photos and of their cartoons."""
    gaps = {
        f"{name}_gap_closed": (measures[name] - photo[name]) / (toon[name] - photo[name])
        for name in STYLE_STATISTICS
    }
    content = max(
        measures["l1_to_cartoon"] / photo["l1_to_cartoon"],
        measures["features_to_cartoon"] / photo["features_to_cartoon"],
    )
    return gaps | {
        "content_closer_than_photo": content,
        "boundary_f_ratio": measures["boundary_f"] / toon["boundary_f"],
    }


def content_style_confusion(net: PerceptualNet, test: CartoonTestSet) -> dict[str, float]:
    """:func:`lib.models.cartoongan_diagnostics.content_style_confusion` of ``net`` on the
    paired test set: how far it puts a scene's cartoon from its photo against another scene's
    photo."""
    return style_confusion(net, test.photos, test.cartoons)


def generator_measures(
    generator: CartoonGenerator,
    test: CartoonTestSet,
    net: PerceptualNet,
    *,
    photo: dict[str, float],
    toon: dict[str, float],
) -> dict[str, float]:
    """Every measure of one generator on the test photos: :func:`cartoongan_measures` of its
    outputs, their :func:`bar_ratios` given ``photo`` and ``toon`` (the measures of the test
    photos and of their cartoons), and the health numbers of
    :func:`lib.models.cartoongan_diagnostics.training_diagnostics` (:func:`output_diagnostics`); the
    generator runs once."""
    outputs = cartoonize(generator, test.photos)
    measures = cartoongan_measures(outputs, test, net)
    return (
        measures | bar_ratios(measures, photo, toon) | output_diagnostics(outputs, test.photos, net)
    )


def _flicker(
    generators: dict[str, CartoonGenerator], device: torch.device
) -> dict[str, dict[str, float]]:
    clips = street(
        CARTOONGAN_CLIPS["clips"],
        frames=CARTOONGAN_CLIPS["frames"],
        seed=CARTOONGAN_CLIPS["seed"],
        device=device,
    )
    out = {}
    for name, g in generators.items():
        frames = cartoonize(g, clips.frames)
        out[name] = {
            "warping_error": float(
                warping_error(frames, clips.flow, clips.occlusion, distance="absolute")
            ),
            **style_statistics(frames.flatten(0, 1)),
        }
    return out


def cartoongan_bars(
    *, folder: str | os.PathLike | None = None, device: str | torch.device = "cpu"
) -> dict:
    """The CartoonGAN bars and controls (module docstring) of the committed generators."""
    device = resolve_device(device)
    test = cartoongan_test_set(device)
    net = content_net(backend="course", device=device)
    photo = cartoongan_measures(test.photos, test, net)
    toon = cartoongan_measures(test.cartoons, test, net)
    per_variant: dict[str, list[dict[str, float]]] = {}
    seeds: dict[str, list[int]] = {}
    temporal: dict[str, list[dict[str, float]]] = {"drop": [], "drift": []}
    for variant in VARIANTS:
        try:
            seeds[variant] = committed_seeds(variant, folder=folder)
        except FileNotFoundError:
            if variant == "full":
                raise
            continue
        per_variant[variant] = []
        for seed in seeds[variant]:
            g = load_cartoongan(variant, seed=seed, folder=folder).to(device)
            per_variant[variant].append(generator_measures(g, test, net, photo=photo, toon=toon))
    for seed in seeds.get("temporal", []):
        if seed not in seeds["full"]:
            continue
        pair = {
            v: load_cartoongan(v, seed=seed, folder=folder).to(device) for v in ("full", "temporal")
        }
        flicker = _flicker(pair, device)
        frame, tuned = flicker["full"], flicker["temporal"]
        temporal["drop"].append({"value": 1 - tuned["warping_error"] / frame["warping_error"]})
        temporal["drift"].append(
            {"value": max(abs(tuned[s] - frame[s]) / abs(frame[s]) for s in STYLE_STATISTICS)}
        )
    full = per_variant["full"]
    bars = {
        f"{s}_gap_closed": bar_over_seeds([m[f"{s}_gap_closed"] for m in full], 0.5, ">=")
        for s in STYLE_STATISTICS
    }
    bars["content_closer_than_photo"] = bar_over_seeds(
        [m["content_closer_than_photo"] for m in full], 1.0, "<="
    )
    bars["boundary_f_ratio"] = bar_over_seeds([m["boundary_f_ratio"] for m in full], 0.8, ">=")
    if temporal["drop"]:
        bars["temporal_flicker_drop"] = bar_over_seeds(
            [t["value"] for t in temporal["drop"]], 0.4, ">="
        )
        bars["temporal_style_drift"] = bar_over_seeds(
            [t["value"] for t in temporal["drift"]], 0.15, "<="
        )
    controls: dict[str, dict] = {
        variant: seed_summary(runs) | {"seeds": seeds[variant]}
        for variant, runs in per_variant.items()
    }
    controls["photos"] = {k: {"value": v} for k, v in photo.items()}
    controls["cartoons"] = {k: {"value": v} for k, v in toon.items()}
    return {
        "bars": {name: bar.as_dict() for name, bar in bars.items()},
        "controls": controls,
        "test": dict(CARTOONGAN_TEST),
    }
