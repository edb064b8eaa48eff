"""The bars of the committed trained models, measured on held-out data (``python -m lib models``).

A trained model of the course is only worth teaching from if it does what its paper says; each
committed model has *bars* — measured numbers with a threshold — that say so or not, computed
here from the committed weights on data the training never saw (other seeds of the data
generator). Where a model was trained with several seeds, a bar is the mean over the seeds and
its ``sd`` their standard deviation; a bar *holds* when its mean is on the right side of the
threshold.

vid2vid (:func:`vid2vid_bars`; the generators of :func:`lib.models.vid2vid.load_vid2vid`), on
12 test clips of 12 frames of the street (seed 1234, the training pan speed), generated from the
label clips alone and all 12 at once (the generators normalise with batch statistics):

==============================  =================================================================
``flow_epe_ratio``              mean end-point error of the learned flow against the exact flow
                                on visible pixels, ÷ that of zero flow (≤ 0.5)
``mask_occlusion_ratio``        mean mask on occluded (newly visible) pixels ÷ on visible ones
                                (≥ 2)
``mask_auc``                    ROC AUC of the mask as a detector of occluded pixels (≥ 0.8)
``segmentation_accuracy_ratio`` the course segmentation network's pixel accuracy on generated
                                frames ÷ on the real frames (≥ 0.8; pix2pixHD's and vid2vid's
                                segmentation score)
``car_iou_ratio``,              its IoU for cars and for people, generated ÷ real (≥ 0.5): they
``person_iou_ratio``            must appear where the labels put them
``warping_error_vs_copy``       warping error of the full model ÷ that of the zero-flow copy
                                control (< 1: warping is more consistent than copying in place)
==============================  =================================================================

``controls`` lists, for every variant (full, zero-flow copy, no warping, no video
discriminator), every measure of :func:`vid2vid_measures` as mean ± sd over the seeds
(:func:`seed_summary`), and for the real clips (sharp, and blurred to the generated clips'
sharpness) the warping error, the segmentation accuracy and the car and person IoU. Two
variants' measures differ beyond seed noise when they are :func:`apart`.

Two more measurements of the committed vid2vid generators back notebook 10's claims:
:func:`vid2vid_seed_summary` (every measure, mean ± sd over the seeds of one variant — or of an
ablation in ``VID2VID_ABLATIONS_DIR``: no flow supervision, no VGG loss) and
:func:`vid2vid_colour_drift` (colour drift over long clips, free-running against one step at a
time from real frames: the part of the drift that feedback causes).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from lib._checks import check_choice
from lib.datasets.street import STREET_CLASSES, StreetClips, street
from lib.device import resolve_device
from lib.evaluation.bars import Bar, apart, bar_over_seeds, mean_sd, seed_summary, summarise
from lib.evaluation.cartoongan_bars import cartoongan_bars
from lib.features.segmentation import StreetSegmenter, load_street_segmenter
from lib.metrics.segmentation import segmentation_score
from lib.metrics.video import (
    blur_matched,
    class_colour_error,
    per_frame_fid,
    sharpness,
    warping_error,
)
from lib.models.vid2vid import (
    VARIANTS,
    VID2VID_DIR,
    committed_seeds,
    generate_clip,
    load_vid2vid,
)

_CAR, _PERSON = STREET_CLASSES.index("car"), STREET_CLASSES.index("person")
VID2VID_TEST = {"clips": 12, "frames": 12, "seed": 1234, "camera_speed": 2.0}
VID2VID_BARS = (
    "flow_epe_ratio",
    "mask_occlusion_ratio",
    "mask_auc",
    "segmentation_accuracy_ratio",
    "car_iou_ratio",
    "person_iou_ratio",
    "warping_error_vs_copy",
)


# ---------------------------------------------------------------------------------- vid2vid
def vid2vid_test_clips(device: str | torch.device = "cpu") -> StreetClips:
    """The held-out street clips the vid2vid bars are measured on."""
    return street(
        VID2VID_TEST["clips"],
        frames=VID2VID_TEST["frames"],
        size=64,
        seed=VID2VID_TEST["seed"],
        camera_speed=VID2VID_TEST["camera_speed"],
        device=device,
    )


def vid2vid_measures(
    generator: torch.nn.Module, test: StreetClips, segmenter: StreetSegmenter
) -> tuple[dict[str, float], torch.Tensor]:
    """One generator's numbers on the test clips (generated from their label clips alone):
    flow and zero-flow end-point errors on visible pixels, mean mask on occluded and visible
    pixels and its ROC AUC for occlusion, the bars' flow and mask ratios, warping error (exact
    flow), segmentation accuracy and car / person IoU, the per-frame Fréchet distance
    (``shapes-cnn`` features, at 32²) and the sharpness ratio (:func:`~lib.metrics.video.sharpness`
    of the generated ÷ the real clips, at full resolution: what a finer generator should raise);
    and the generated clips."""
    with torch.no_grad():
        out = generate_clip(generator, test.labels, keep=("image", "flow", "mask"))
    occluded = test.occlusion[:, 1:]
    exact = test.flow[:, 1:]
    images = out["image"].clamp(0, 1)
    seg = segmentation_score(images, test.labels, segmenter)
    measures = {
        "warping_error": float(warping_error(images, test.flow, test.occlusion)),
        "segmentation_accuracy": seg["pixel_accuracy"],
        "car_iou": float(seg["iou"][_CAR]),
        "person_iou": float(seg["iou"][_PERSON]),
        "per_frame_fid": per_frame_fid(test.frames, images),
        "sharpness_ratio": sharpness(images) / sharpness(test.frames),
    }
    if getattr(generator, "use_warp", False):
        mask = out["mask"][:, 1:, 0]
        learned = (out["flow"][:, 1:] - exact).norm(dim=2)[~occluded]
        measures |= {
            "flow_epe": float(learned.mean()),
            "zero_flow_epe": float(exact.norm(dim=2)[~occluded].mean()),
            "mask_occluded": float(mask[occluded].mean()),
            "mask_visible": float(mask[~occluded].mean()),
            "mask_auc": float(
                roc_auc_score(occluded.flatten().cpu().numpy(), mask.flatten().cpu().numpy())
            ),
        }
        measures["flow_epe_ratio"] = measures["flow_epe"] / measures["zero_flow_epe"]
        measures["mask_occlusion_ratio"] = measures["mask_occluded"] / measures["mask_visible"]
    return measures, images


def vid2vid_bars(
    *,
    folder: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
    variants: Sequence[str] = VARIANTS,
) -> dict:
    """The vid2vid bars and controls (module docstring) of the committed generators."""
    for v in variants:
        check_choice(v, "variants", VARIANTS)
    if "full" not in variants:
        raise ValueError("variants: the bars need the full model")
    device = resolve_device(device)
    test = vid2vid_test_clips(device)
    segmenter = load_street_segmenter().to(device)
    real_seg = segmentation_score(test.frames, test.labels, segmenter)
    real = {
        "segmentation_accuracy": real_seg["pixel_accuracy"],
        "car_iou": float(real_seg["iou"][_CAR]),
        "person_iou": float(real_seg["iou"][_PERSON]),
    }
    per_variant: dict[str, list[dict[str, float]]] = {}
    seeds: dict[str, list[int]] = {}
    full_clips = []
    for variant in variants:
        seeds[variant] = committed_seeds(variant, folder=folder)
        per_variant[variant] = []
        for seed in seeds[variant]:
            generator = load_vid2vid(variant, seed=seed, folder=folder).to(device)
            measures, clips = vid2vid_measures(generator, test, segmenter)
            per_variant[variant].append(measures)
            if variant == "full":
                full_clips.append(clips)
    full = per_variant["full"]

    def ratios(key: str, ref: Callable[[dict], float]) -> list[float]:
        return [m[key] / ref(m) for m in full]

    bars = {
        "flow_epe_ratio": bar_over_seeds([m["flow_epe_ratio"] for m in full], 0.5, "<="),
        "mask_occlusion_ratio": bar_over_seeds(
            [m["mask_occlusion_ratio"] for m in full], 2.0, ">="
        ),
        "mask_auc": bar_over_seeds([m["mask_auc"] for m in full], 0.8, ">="),
        "segmentation_accuracy_ratio": bar_over_seeds(
            ratios("segmentation_accuracy", lambda m: real["segmentation_accuracy"]), 0.8, ">="
        ),
        "car_iou_ratio": bar_over_seeds(ratios("car_iou", lambda m: real["car_iou"]), 0.5, ">="),
        "person_iou_ratio": bar_over_seeds(
            ratios("person_iou", lambda m: real["person_iou"]), 0.5, ">="
        ),
    }
    if "copy" in per_variant and len(per_variant["copy"]) == len(full):
        pairs = zip(full, per_variant["copy"], strict=True)
        bars["warping_error_vs_copy"] = bar_over_seeds(
            [f["warping_error"] / c["warping_error"] for f, c in pairs], 1.0, "<="
        )
    controls: dict[str, dict] = {
        variant: seed_summary(runs) | {"seeds": seeds[variant]}
        for variant, runs in per_variant.items()
    }
    blurred, sigma = blur_matched(test.frames, torch.cat(full_clips))
    controls["real"] = {
        "warping_error": {"value": float(warping_error(test.frames, test.flow, test.occlusion))},
        "segmentation_accuracy": {"value": real["segmentation_accuracy"]},
        "car_iou": {"value": real["car_iou"]},
        "person_iou": {"value": real["person_iou"]},
    }
    controls["real_blur_matched"] = {
        "warping_error": {"value": float(warping_error(blurred, test.flow, test.occlusion))},
        "sigma": sigma,
    }
    return {
        "bars": {name: bar.as_dict() for name, bar in bars.items()},
        "controls": controls,
        "test": dict(VID2VID_TEST),
    }


#: Ablations of the full model, committed beside the variants: folder name under
#: ``data/vid2vid/ablations`` → the training options that differ from the default command
#: (3 seeds each: ``python -m lib.train vid2vid OPTIONS --seed S --out FOLDER``). L_W against the
#: VGG loss: without the reference flow, without the VGG loss; coarse-to-fine against one level
#: with as many steps: two levels (the coarse one at 32², 300 + 300 steps, then the fine one,
#: 300 + 250: 1150 in all, as the default's 600 + 550); and half the default schedule
#: (300 + 250 steps), which draws people short of their bar.
VID2VID_ABLATIONS = {
    "flow-none": "--flow none",
    "perceptual-none": "--perceptual none",
    "two-level": "--levels 2 --warmup 300 --steps 250",
    "half-schedule": "--warmup 300 --steps 250",
}
VID2VID_ABLATIONS_DIR = VID2VID_DIR / "ablations"


def vid2vid_seed_summary(
    variant: str = "full",
    *,
    folder: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
) -> dict:
    """Every measure of :func:`vid2vid_measures` on the bars' test clips, as ``{"value", "sd"}``
    over the committed seeds of ``variant`` in ``folder`` (default the committed variants; e.g.
    ``VID2VID_ABLATIONS_DIR / "flow-none"`` for an ablation); ``"seeds"`` lists them."""
    check_choice(variant, "variant", VARIANTS)
    device = resolve_device(device)
    test = vid2vid_test_clips(device)
    segmenter = load_street_segmenter().to(device)
    seeds = committed_seeds(variant, folder=folder)
    runs = []
    for seed in seeds:
        generator = load_vid2vid(variant, seed=seed, folder=folder).to(device)
        runs.append(vid2vid_measures(generator, test, segmenter)[0])
    return {"seeds": seeds} | seed_summary(runs)


#: The long clips of the colour-drift measurement (:func:`vid2vid_colour_drift`).
VID2VID_DRIFT = {"clips": 8, "frames": 48, "seed": 1237, "camera_speed": 2.0}


def vid2vid_colour_drift(
    variants: Sequence[str] = ("full", "copy", "no_warp"),
    *,
    clips: int = VID2VID_DRIFT["clips"],
    frames: int = VID2VID_DRIFT["frames"],
    seed: int = VID2VID_DRIFT["seed"],
    device: str | torch.device = "cpu",
) -> dict:
    """Colour drift of the committed generators over long clips, and the part of it that
    feedback causes (vid2vid's "colour and texture consistency is not guaranteed").

    For every committed seed of each variant, the per-frame class colour error
    (:func:`lib.metrics.video.class_colour_error`) of two roll-outs over the same label clips:
    *free* (each frame made from the previous generated frames, as the generator is used) and
    *one step* (each frame made from the real previous frames: no feedback). The *growth* of a
    curve is its mean over the last quarter of the frames minus its mean over the first quarter;
    ``feedback`` = growth(free) − growth(one step) is the growth that feeding the generator its own
    frames adds — what remains in the one-step growth comes from the clips themselves.

    Returns ``{"real": the StreetClips, VARIANT: {"seeds": [...], "free": S×T array, "one step":
    S×T array, "growth": {"free", "one step", "feedback": S arrays}, "sample": the free roll-out
    of the first seed (N×T×3×H×W, CPU)}}`` (numpy arrays, one row per seed).
    """
    for variant in variants:
        check_choice(variant, "variant", VARIANTS)
    if frames < 4:
        raise ValueError(f"frames: need at least 4 frames for two quarters, got {frames}")
    device = resolve_device(device)
    real = street(
        clips, frames=frames, size=64, seed=seed, camera_speed=VID2VID_DRIFT["camera_speed"],
        device=device,
    )  # fmt: skip
    quarter = frames // 4
    report: dict = {"real": real}
    for variant in variants:
        seeds = committed_seeds(variant)
        curves: dict[str, list[np.ndarray]] = {"free": [], "one step": []}
        sample = None
        for s in seeds:
            generator = load_vid2vid(variant, seed=s).to(device)
            with torch.no_grad():
                free = generate_clip(generator, real.labels, keep=("image",))["image"]
                one_step = generate_clip(
                    generator, real.labels, real_history=real.frames, keep=("image",)
                )["image"]
            sample = free.cpu() if sample is None else sample
            for mode, fake in (("free", free), ("one step", one_step)):
                error = class_colour_error(fake.clamp(0, 1), real.frames, real.labels)
                curves[mode].append(error.cpu().numpy())
        entry: dict = {"seeds": seeds, **{mode: np.stack(c) for mode, c in curves.items()}}
        growth = {
            mode: entry[mode][:, -quarter:].mean(1) - entry[mode][:, :quarter].mean(1)
            for mode in curves
        }
        growth["feedback"] = growth["free"] - growth["one step"]
        report[variant] = {**entry, "growth": growth, "sample": sample}
    return report


# ------------------------------------------------------------------------------------ all
MODELS: Mapping[str, Callable[..., dict]] = {"vid2vid": vid2vid_bars, "cartoongan": cartoongan_bars}


def model_bars(names: Sequence[str] | None = None, *, device: str | torch.device = "cpu") -> dict:
    """``{"models": {name: {"bars": {bar: {"value", "sd", "threshold", "holds"}}, ...}}}`` for
    the committed models ``names`` (default all of :data:`MODELS`)."""
    names = list(MODELS) if names is None else list(names)
    if not names:
        raise ValueError(f"names: expected some of {', '.join(MODELS)}")
    for name in names:
        check_choice(name, "model", tuple(MODELS))
    return {"models": {name: MODELS[name](device=device) for name in names}}


def failing_bars(report: Mapping) -> list[str]:
    """``model.bar`` for every bar of a :func:`model_bars` report that does not hold."""
    return [
        f"{model}.{bar}"
        for model, result in report["models"].items()
        for bar, value in result["bars"].items()
        if value["holds"] is False
    ]


__all__ = [
    "Bar",
    "MODELS",
    "VID2VID_ABLATIONS",
    "VID2VID_ABLATIONS_DIR",
    "VID2VID_BARS",
    "VID2VID_DRIFT",
    "VID2VID_TEST",
    "apart",
    "failing_bars",
    "mean_sd",
    "model_bars",
    "seed_summary",
    "summarise",
    "vid2vid_bars",
    "vid2vid_colour_drift",
    "vid2vid_measures",
    "vid2vid_seed_summary",
    "vid2vid_test_clips",
]
