"""Everybody Dance Now's pose pre-processing: temporal median smoothing and global pose
normalisation, checked on exact puppet keypoints."""

from __future__ import annotations

import pytest
import torch

from lib.datasets.puppet import ANKLES, JOINTS, dance_clip, noisy_keypoints
from lib.models.dance_pose import (
    FloorStatistics,
    PoseNormalisation,
    fit_pose_normalisation,
    floor_statistics,
    normalise_poses,
    smooth_keypoints,
)


@pytest.fixture(scope="module")
def clips():
    """The tall source dances dance 1, the short target dance 2; ``truth`` is the short subject
    dancing dance 1 (what a motion transfer should produce)."""
    source = dance_clip("tall", 400, size=128, seed=1)
    target = dance_clip("short", 400, size=128, seed=2)
    truth = dance_clip("short", 400, size=128, seed=1)
    return source.poses.double(), target.poses.double(), truth.poses.double()


def _error(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).norm(dim=-1)


# ------------------------------------------------------------------------------------ smoothing
def test_median_of_a_hand_worked_example():
    x = torch.tensor([0.0, 0.0, 100.0, 0.0, 0.0, 5.0, 5.0])
    kp = torch.stack([x, -x], dim=-1)[:, None]  # T×1×2
    out = smooth_keypoints(kp, window=3)
    expected = torch.tensor([0.0, 0.0, 0.0, 0.0, 0.0, 5.0, 5.0])
    torch.testing.assert_close(out[:, 0, 0], expected)
    torch.testing.assert_close(out[:, 0, 1], -expected)
    assert torch.equal(smooth_keypoints(kp, window=1), kp)


def test_smoothing_keeps_clean_poses_and_removes_jitter(clips):
    clean = clips[0]
    assert float(_error(smooth_keypoints(clean), clean).mean()) < 0.1  # pixels
    noisy, _ = noisy_keypoints(clean, jitter=1.5, dropout=0.0, outliers=0.0, seed=0)
    before = float(_error(noisy, clean).mean())
    after = float(_error(smooth_keypoints(noisy), clean).mean())
    assert after < 0.6 * before  # 1.9 px → 0.95 px measured


def test_smoothing_removes_outliers(clips):
    clean = clips[0]
    noisy, _ = noisy_keypoints(clean, jitter=0.0, dropout=0.0, outliers=0.03, seed=1)
    assert float(_error(noisy, clean).max()) > 19
    error = _error(smooth_keypoints(noisy), clean)
    assert float(error.mean()) < 0.15
    assert float(torch.quantile(error.flatten(), 0.999)) < 3.0


def test_smoothing_fills_missing_joints_from_neighbours(clips):
    clean = clips[0][:60]
    kp = clean.clone()
    confidence = torch.ones(kp.shape[:2])
    kp[20:22, JOINTS["left_wrist"]] = float("nan")  # a two-frame gap
    confidence[30, JOINTS["nose"]] = 0.0  # OpenPose style: zero confidence ...
    kp[30, JOINTS["nose"]] = 0.0  # ... at (0, 0)
    kp[40:50, JOINTS["right_knee"]] = float("nan")  # longer than the window
    out = smooth_keypoints(kp, confidence, window=7)
    assert bool(torch.isfinite(out[20:22, JOINTS["left_wrist"]]).all())
    assert (
        float(_error(out[20:22, JOINTS["left_wrist"]], clean[20:22, JOINTS["left_wrist"]]).max())
        < 2.0
    )
    assert float(_error(out[30, JOINTS["nose"]], clean[30, JOINTS["nose"]])) < 1.0
    knee = out[:, JOINTS["right_knee"]]
    assert bool(torch.isnan(knee[43:47]).all())  # no neighbour within 3 frames: stays missing
    assert bool(torch.isfinite(knee[40:43]).all() & torch.isfinite(knee[47:50]).all())
    # The result is the same whether missing joints are NaN or zero-confidence.
    zeroed = kp.nan_to_num(0.0)
    conf2 = confidence.clone()
    conf2[torch.isnan(kp).any(-1)] = 0.0
    assert torch.equal(smooth_keypoints(zeroed, conf2).nan_to_num(-1), out.nan_to_num(-1))


def test_smoothing_bad_inputs():
    kp = torch.zeros(10, 15, 2)
    with pytest.raises(ValueError, match="odd"):
        smooth_keypoints(kp, window=4)
    with pytest.raises(ValueError, match="window"):
        smooth_keypoints(kp, window=0)
    with pytest.raises(ValueError, match="T×J×2"):
        smooth_keypoints(torch.zeros(15, 2))
    with pytest.raises(ValueError, match="infinite"):
        smooth_keypoints(torch.full((3, 15, 2), float("inf")))
    with pytest.raises(ValueError, match="confidence"):
        smooth_keypoints(kp, torch.ones(10, 14))
    with pytest.raises(ValueError, match="confidence"):
        smooth_keypoints(kp, torch.full((10, 15), float("nan")))
    with pytest.raises(TypeError, match="keypoints"):
        smooth_keypoints([[0.0, 0.0]])


# -------------------------------------------------------------------------------- normalisation
def test_floor_statistics_of_the_puppet(clips):
    source, target, _ = clips
    s, t = floor_statistics(source), floor_statistics(target)
    assert isinstance(s, FloorStatistics) and s.frames == 400
    assert s.close > s.far and t.close > t.far  # the subjects walk towards the camera and back
    assert s.height_close > s.height_far  # closer is bigger
    assert s.height_close > 1.25 * t.height_close  # the tall source against the short target
    rows = source[:, list(ANKLES), 1].amax(dim=1)
    assert s.close == float(rows.max()) and s.far == float(rows.min())


def test_normalisation_maps_ankle_range_and_height_onto_the_target(clips):
    source, target, _ = clips
    out = normalise_poses(source, target)
    t, n = floor_statistics(target), floor_statistics(out)
    assert abs(n.close - t.close) < 1e-6 and abs(n.far - t.far) < 1e-6
    assert abs(n.height_close - t.height_close) < 1.0  # pixels, at 128²
    assert abs(n.height_far - t.height_far) < 1.0
    assert abs(n.centre_x - t.centre_x) < 1.0
    # Frame by frame: the source's closest and farthest frames land on the target's rows.
    rows = out[:, list(ANKLES), 1].amax(dim=1)
    source_rows = source[:, list(ANKLES), 1].amax(dim=1)
    assert abs(float(rows[source_rows.argmax()]) - t.close) < 1e-6
    assert abs(float(rows[source_rows.argmin()]) - t.far) < 1e-6


def test_normalisation_puts_the_feet_where_the_target_would_dance(clips):
    """Both subjects share the camera's depth ratio, so under perspective the normalised feet
    rows are those of the target dancing the same dance, and its height nearly so."""
    source, _, truth = clips
    out = normalise_poses(source, clips[1])
    rows = out[:, list(ANKLES), 1].amax(dim=1)
    truth_rows = truth[:, list(ANKLES), 1].amax(dim=1)
    assert float((rows - truth_rows).abs().max()) < 0.01
    height = rows - out[:, JOINTS["nose"], 1]
    truth_height = truth_rows - truth[:, JOINTS["nose"], 1]
    assert float((height - truth_height).abs().median()) < 1.5
    # Without normalisation the source is far off.
    source_rows = source[:, list(ANKLES), 1].amax(dim=1)
    assert float((source_rows - truth_rows).abs().median()) > 5.0
    source_height = source_rows - source[:, JOINTS["nose"], 1]
    assert float((source_height - truth_height).abs().median()) > 10.0


def test_normalisation_is_the_identity_for_a_subject_mapped_to_itself(clips):
    source = clips[0]
    out = normalise_poses(source, source)
    assert float((out - source).abs().max()) < 1e-9
    norm = fit_pose_normalisation(source, source)
    assert norm.scale_close == 1.0 and norm.scale_far == 1.0


def test_normalisation_matches_the_formula_by_hand():
    # Two-joint "bodies": joint 0 the head, joint 1 the ankle. Source: far at row 50 with height
    # 20, close at row 100 with height 40. Target: far at row 60 height 10, close at 90 height 30.
    def body(row, height, x=0.0):
        return torch.tensor([[x, row - height], [x, row]], dtype=torch.float64)

    source = torch.stack([body(50, 20), body(100, 40), body(75, 30, x=10.0)])
    target = torch.stack([body(60, 10, x=5.0), body(90, 30, x=5.0)])
    norm = fit_pose_normalisation(source, target, ankles=(1,), head=(0,), quantile=1.0)
    assert norm.scale_far == pytest.approx(0.5) and norm.scale_close == pytest.approx(0.75)
    out = norm(source)
    # The middle frame: p = (75 - 50) / 50 = 0.5, s = 0.625, t = 60 + 0.5 * 30 = 75.
    assert float(out[2, 1, 1]) == pytest.approx(75.0)
    assert float(out[2, 0, 1]) == pytest.approx(75.0 - 0.625 * 30)
    # Horizontal: shift by the median feet columns (target 5, source 0), scaled about the feet.
    assert float(out[2, 1, 0]) == pytest.approx(10.0 + 5.0)
    par = norm.parameters(source)
    torch.testing.assert_close(par["position"], torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64))
    no_shift = fit_pose_normalisation(
        source, target, ankles=(1,), head=(0,), quantile=1.0, horizontal=False
    )
    assert float(no_shift(source)[2, 1, 0]) == pytest.approx(10.0)
    assert isinstance(norm, PoseNormalisation)


def test_normalisation_with_missing_joints(clips):
    source, target, _ = clips
    kp = source.clone()
    confidence = torch.ones(kp.shape[:2])
    kp[10, JOINTS["left_wrist"]] = float("nan")
    kp[20, list(ANKLES)] = float("nan")  # no ankle at all in frame 20
    confidence[30, JOINTS["right_ankle"]] = 0.0  # one ankle left in frame 30
    norm = fit_pose_normalisation(source, target)
    out = norm(kp, confidence)
    assert bool(torch.isnan(out[10, JOINTS["left_wrist"]]).all())  # missing stays missing
    assert bool(torch.isfinite(out[10, JOINTS["nose"]]).all())
    assert bool(torch.isnan(out[20, list(ANKLES)]).all())
    assert bool(torch.isfinite(out[20, JOINTS["nose"]]).all())  # placed from frame 19 or 21
    full = norm(source)
    assert float(_error(out[20, JOINTS["nose"]], full[20, JOINTS["nose"]])) < 3.0
    assert bool(torch.isfinite(out[30]).all())
    # Statistics ignore missing joints too.
    stats = floor_statistics(kp, confidence)
    assert stats.close == pytest.approx(floor_statistics(source).close, abs=0.5)


def test_normalisation_bad_inputs(clips):
    source, target, _ = clips
    with pytest.raises(ValueError, match="ankle"):
        floor_statistics(torch.full((5, 15, 2), float("nan")))
    with pytest.raises(ValueError, match="joint index"):
        floor_statistics(source[:, :10])
    with pytest.raises(ValueError, match="band"):
        floor_statistics(source, band=1.5)
    with pytest.raises(ValueError, match="quantile"):
        floor_statistics(source, quantile=-0.1)
    no_head = source.clone()
    no_head[:, JOINTS["nose"]] = float("nan")
    with pytest.raises(ValueError, match="head"):
        floor_statistics(no_head)
    upside_down = source.clone()
    upside_down[..., 1] = -upside_down[..., 1]
    with pytest.raises(ValueError, match="y grows"):
        floor_statistics(upside_down)
    with pytest.raises(ValueError, match="T×J×2"):
        normalise_poses(source[0], target)
    norm = fit_pose_normalisation(source, target)
    with pytest.raises(ValueError, match="visible ankle"):
        norm(torch.full((3, 15, 2), float("nan")))
