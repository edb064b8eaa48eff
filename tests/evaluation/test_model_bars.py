"""The bars of the committed trained models (``python -m lib models``): the bar arithmetic, the
command line, and — on the committed weights — that every bar holds."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from lib import cli
from lib.evaluation import model_bars as mb
from lib.models import vid2vid as V
from lib.weights import read_manifest

ROOT = Path(__file__).resolve().parents[2]


def test_bar_holds_on_the_right_side_of_its_threshold():
    assert mb.Bar(0.4, 0.05, 0.5, "<=").holds
    assert not mb.Bar(0.6, None, 0.5, "<=").holds
    assert mb.Bar(2.5, 0.1, 2.0, ">=").holds and not mb.Bar(1.9, 0.1, 2.0, ">=").holds
    assert mb.Bar(1.0, None, None, "<=").holds is None
    assert mb.Bar(0.4, 0.05, 0.5, "<=").as_dict() == {
        "value": 0.4, "sd": 0.05, "threshold": 0.5, "holds": True
    }  # fmt: skip


def test_mean_and_sample_sd():
    mean, sd = mb.mean_sd([1.0, 2.0, 3.0])
    assert mean == 2.0 and sd is not None and math.isclose(sd, 1.0)
    assert mb.mean_sd([5.0]) == (5.0, None)
    with pytest.raises(ValueError, match="no values"):
        mb.mean_sd([])


def test_failing_bars_names_model_and_bar():
    report = {
        "models": {
            "vid2vid": {
                "bars": {
                    "a": {"value": 1, "sd": None, "threshold": 2, "holds": False},
                    "b": {"value": 3, "sd": None, "threshold": 2, "holds": True},
                    "c": {"value": 3, "sd": None, "threshold": None, "holds": None},
                }
            }
        }
    }
    assert mb.failing_bars(report) == ["vid2vid.a"]


def test_unknown_model_is_a_clear_error(capsys):
    assert cli.main(["models", "stylegan"]) == 2
    assert "vid2vid" in capsys.readouterr().err


@pytest.fixture(scope="module")
def vid2vid_report():
    try:
        V.committed_seeds("full")
    except FileNotFoundError:
        pytest.skip("no committed vid2vid weights")
    return mb.model_bars(["vid2vid"])


@pytest.mark.slow
def test_vid2vid_bars_on_the_committed_weights(vid2vid_report):
    """The committed generators reproduce the bars recorded in their manifest. The flow, the
    mask, the segmentation accuracy, the cars and warping against the copy control hold; the
    people (0.47 ± 0.04 of real, bar 0.5) fall short at this training budget, and the course
    says so (notebook 10)."""
    result = vid2vid_report["models"]["vid2vid"]
    bars = result["bars"]
    recorded = read_manifest(V.VID2VID_DIR)["bars"]
    assert set(bars) == set(recorded["bars"]) == set(mb.VID2VID_BARS)
    for name, bar in bars.items():
        assert bar["value"] == pytest.approx(recorded["bars"][name]["value"], abs=1e-4), name
        assert bar["holds"] == recorded["bars"][name]["holds"], name
    holding = (
        "flow_epe_ratio", "mask_occlusion_ratio", "mask_auc", "segmentation_accuracy_ratio",
        "car_iou_ratio", "warping_error_vs_copy",
    )  # fmt: skip
    for name in holding:
        assert bars[name]["holds"], name
    # the people are short of the bar, but they are drawn where the labels put them
    person = bars["person_iou_ratio"]
    assert not person["holds"] and person["value"] - 2 * person["sd"] > 0.3
    for variant in V.VARIANTS:
        assert len(result["controls"][variant]["seeds"]) >= 3
        assert result["controls"][variant]["warping_error"]["sd"] is not None
    # real clips blurred to the generated clips' sharpness are more consistent than sharp ones
    real = result["controls"]["real"]["warping_error"]["value"]
    assert result["controls"]["real_blur_matched"]["warping_error"]["value"] < real


@pytest.mark.slow
def test_command_line_prints_one_json_object():
    proc = subprocess.run(
        [sys.executable, "-m", "lib", "models", "vid2vid", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if "no committed vid2vid generator" in proc.stderr:
        pytest.skip("no committed vid2vid weights")
    report = json.loads(proc.stdout)
    bars = report["models"]["vid2vid"]["bars"]
    assert set(bars["flow_epe_ratio"]) == {"value", "sd", "threshold", "holds"}
    failing = mb.failing_bars(report)
    assert proc.returncode == (1 if failing else 0)
    assert all(name in proc.stderr for name in failing)


def _apart(a: dict, b: dict, key: str) -> bool:
    # two seed summaries differ in ``key`` by more than the larger seed sd
    return abs(a[key]["value"] - b[key]["value"]) > max(a[key]["sd"], b[key]["sd"])


@pytest.mark.slow
def test_vid2vid_ablation_flow_supervision_against_the_vgg_loss():
    """L_W's reference flow, not the VGG loss, is what teaches the flow and the mask and makes the
    video consistent: without it the flow is no better than zero flow, the mask barely separates
    occluded from visible pixels and the warping error doubles, each by more than the seed sd;
    without the VGG loss the flow and the mask are as good as the full model's, and the frames are
    blurrier (notebook 10)."""
    try:
        for name in ("flow-none", "perceptual-none"):
            V.committed_seeds("full", folder=mb.VID2VID_ABLATIONS_DIR / name)
    except FileNotFoundError:
        pytest.skip("no committed vid2vid ablation weights")
    full = mb.vid2vid_seed_summary("full")
    no_flow = mb.vid2vid_seed_summary("full", folder=mb.VID2VID_ABLATIONS_DIR / "flow-none")
    no_vgg = mb.vid2vid_seed_summary("full", folder=mb.VID2VID_ABLATIONS_DIR / "perceptual-none")
    for summary in (full, no_flow, no_vgg):
        assert summary["seeds"] == [0, 1, 2]
    assert no_flow["flow_epe_ratio"]["value"] > 0.9 > 0.5 > full["flow_epe_ratio"]["value"]
    assert no_flow["mask_auc"]["value"] < 0.85 < 0.95 < full["mask_auc"]["value"]
    assert no_flow["warping_error"]["value"] > 1.5 * full["warping_error"]["value"]
    for key in ("flow_epe_ratio", "mask_auc", "warping_error"):
        assert _apart(full, no_flow, key), key
    for key in ("flow_epe_ratio", "mask_auc", "segmentation_accuracy"):
        assert not _apart(full, no_vgg, key), key
    # without the VGG loss the frames are blurrier, and blur lowers the warping error
    for key in ("sharpness_ratio", "warping_error"):
        assert no_vgg[key]["value"] < full[key]["value"] and _apart(full, no_vgg, key), key


@pytest.mark.slow
def test_vid2vid_colour_drift_comes_partly_from_feedback(one_thread):
    """Over 48-frame clips the full model's colour error grows more when it is fed its own frames
    than when each frame is made from the real previous ones, and feedback adds more growth to it
    than to the copy control or to the model without warping — each by more than the seed sd
    (notebook 10). The one-step error grows too: part of the rise is in the clips themselves."""
    try:
        V.committed_seeds("full")
    except FileNotFoundError:
        pytest.skip("no committed vid2vid weights")
    drift = mb.vid2vid_colour_drift()
    growth = {v: drift[v]["growth"] for v in ("full", "copy", "no_warp")}
    for v, g in growth.items():
        assert len(g["free"]) == len(drift[v]["seeds"]) >= 3
        assert g["one step"].mean() > 0  # the later frames are harder even without feedback
    full = growth["full"]
    sd = max(full["free"].std(ddof=1), full["one step"].std(ddof=1))
    assert full["free"].mean() - full["one step"].mean() > sd
    for other in ("copy", "no_warp"):
        fb = growth[other]["feedback"]
        margin = full["feedback"].mean() - fb.mean()
        assert margin > max(full["feedback"].std(ddof=1), fb.std(ddof=1)), other


def test_colour_drift_rejects_too_few_frames():
    with pytest.raises(ValueError, match="frames"):
        mb.vid2vid_colour_drift(frames=3)


@pytest.mark.slow
def test_vid2vid_coarse_to_fine_against_an_equal_steps_single_level():
    """At 64², two levels trained for 1150 steps in all are no sharper than one level trained for
    as many, and segment and draw people worse, by more than the seed sd; one level with 1150
    steps beats the committed 550 on sharpness, segmentation and people (notebook 10)."""
    folders = {
        name: mb.VID2VID_ABLATIONS_DIR / name for name in ("two-level", "single-equal-steps")
    }
    try:
        for folder in folders.values():
            V.committed_seeds("full", folder=folder)
    except FileNotFoundError:
        pytest.skip("no committed vid2vid ablation weights")
    two = mb.vid2vid_seed_summary("full", folder=folders["two-level"])
    one = mb.vid2vid_seed_summary("full", folder=folders["single-equal-steps"])
    committed = mb.vid2vid_seed_summary("full")
    assert two["seeds"] == one["seeds"] == [0, 1, 2]
    sharp_sd = max(two["sharpness_ratio"]["sd"], one["sharpness_ratio"]["sd"])
    assert two["sharpness_ratio"]["value"] - one["sharpness_ratio"]["value"] < sharp_sd
    for key in ("segmentation_accuracy", "person_iou"):
        assert two[key]["value"] < one[key]["value"] and _apart(two, one, key), key
    for key in ("sharpness_ratio", "segmentation_accuracy", "person_iou"):
        assert one[key]["value"] > committed[key]["value"] and _apart(one, committed, key), key


@pytest.mark.slow
def test_vid2vid_at_1150_steps_passes_every_bar():
    """The full model, the copy control and the model without warping trained for 1150 steps
    (``--warmup 600 --steps 550``, 3 seeds each) pass every bar, the people included (0.58 of
    real against the committed generators' 0.47), and warping still beats copying."""
    folder = mb.VID2VID_ABLATIONS_DIR / "single-equal-steps"
    try:
        for variant in ("full", "copy", "no_warp"):
            assert V.committed_seeds(variant, folder=folder) == [0, 1, 2]
    except FileNotFoundError:
        pytest.skip("no committed vid2vid ablation weights")
    report = mb.vid2vid_bars(folder=folder, variants=("full", "copy", "no_warp"))
    bars = report["bars"]
    assert set(bars) == set(mb.VID2VID_BARS)
    assert all(bar["holds"] for bar in bars.values()), bars
    person = bars["person_iou_ratio"]
    assert person["value"] - person["sd"] > 0.5
    controls = report["controls"]
    assert _apart(controls["full"], controls["copy"], "warping_error")
    assert _apart(controls["full"], controls["no_warp"], "warping_error")
