"""Video metrics on constructed cases: identical clips → 0; temporally shuffled clips → larger
video distance and warping error with the per-frame FID unchanged (notebook 13's core claim);
a known flow → warping error at the noise floor; DIS recovers a known shift; flicker and pose
distance on cases with a known answer; the clip manipulations keep or change what they say."""

from __future__ import annotations

import math

import pytest
import torch

from lib.bench.clips import CLIP_CORRUPTIONS, KEEPS_FRAMES, corrupt_clips, frame_order
from lib.datasets import street
from lib.device import cpu_threads
from lib.features import random_cnn
from lib.features.video import load_street_c3d
from lib.metrics import fid
from lib.metrics.video import (
    blur_matched,
    class_colour_error,
    clip_features,
    estimate_flow,
    estimated_warping_error,
    flicker_statistics,
    frames_of,
    per_frame_fid,
    per_frame_kid,
    pose_distance,
    sharpness,
    video_frechet_distance,
    video_metrics,
    warping_error,
)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def sets():
    with cpu_threads(1):
        reference = street(96, frames=8, size=64, seed=100)
        test = street(96, frames=8, size=64, seed=200)
    return reference, test


@pytest.fixture(scope="module")
def c3d():
    return load_street_c3d()


@pytest.fixture(scope="module")
def frame_net():
    return random_cnn(3, seed=0)


def textured(n=2, t=4, size=48, seed=0):
    """Smooth random texture clips (blurred noise): DIS has something to track."""
    gen = torch.Generator().manual_seed(seed)
    base = torch.rand(n, 3, size // 4, size // 4, generator=gen)
    image = torch.nn.functional.interpolate(base, size=(size, size), mode="bicubic").clamp(0, 1)
    return image[:, None].expand(n, t, 3, size, size).contiguous()


# -- identical clips ----------------------------------------------------------------------------
def test_identical_sets_give_zero(sets, c3d, frame_net):
    _, test = sets
    x = test.frames
    assert abs(per_frame_fid(x, x, frame_net)) < 1e-6
    assert abs(video_frechet_distance(x, x, c3d)) < 1e-6
    kid_mean, _ = per_frame_kid(x[:40], x[:40], frame_net, subsets=5, subset_size=100)
    assert abs(kid_mean) < 0.05
    still = textured()
    assert warping_error(still, torch.zeros(2, 4, 2, 48, 48)) < 1e-12
    stats = flicker_statistics(still)
    assert stats.frame_difference == stats.brightness_jitter == stats.pixel_jitter == 0.0


# -- the notebook's core claim ------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["shuffle", "jitter"])
def test_perfect_frames_in_the_wrong_order_fool_per_frame_fid_but_not_video_metrics(
    sets, c3d, frame_net, kind
):
    reference, test = sets
    broken = corrupt_clips(test.frames, kind, seed=1)
    # Exactly the same frames: per-frame FID does not move (float round-off only).
    floor = per_frame_fid(reference.frames, test.frames, frame_net)
    assert per_frame_fid(reference.frames, broken, frame_net) == pytest.approx(floor, rel=1e-6)
    # The video distance rises well above the real-vs-real value (notebook: ≈ 6× for jitter,
    # ≈ 30× for shuffle at 128 clips).
    real_fd = video_frechet_distance(reference.frames, test.frames, c3d)
    broken_fd = video_frechet_distance(reference.frames, broken, c3d)
    assert broken_fd > (8 if kind == "shuffle" else 2.5) * real_fd
    # Warping error against the source's flow: far above the noise floor.
    real_we = warping_error(test.frames, test.flow, test.occlusion)
    broken_we = warping_error(broken, test.flow, test.occlusion)
    assert broken_we > 3 * real_we
    if kind == "shuffle":  # the estimated flow sees it too, less strongly
        assert estimated_warping_error(broken[:16]) > 1.4 * estimated_warping_error(
            test.frames[:16]
        )


# -- warping error ------------------------------------------------------------------------------
def test_known_flow_gives_warping_error_at_the_noise_floor(sets):
    _, test = sets
    x, flow, occ = test.frames[:32], test.flow[:32], test.occlusion[:32]
    floor = warping_error(x, flow, occ)
    assert floor < 1.5e-3  # bilinear resampling of the textures only
    assert warping_error(x, torch.zeros_like(flow), occ) > 3 * floor  # ignoring the motion
    # Independent per-frame noise of std σ adds about 2σ² (clamping at 0 and 1 takes a little).
    sigma = 0.03
    noisy = corrupt_clips(x, "noise", strength=sigma, seed=0)
    assert warping_error(noisy, flow, occ) - floor == pytest.approx(2 * sigma**2, rel=0.25)
    per_clip = warping_error(x, flow, occ, reduction="none")
    assert per_clip.shape == (32,) and float(per_clip.max()) < 5e-3


def test_warping_error_of_a_shifted_texture_is_exact():
    clips = textured(t=3)
    shifted = torch.stack(
        [torch.roll(clips[:, 0], shifts=2 * k, dims=-1) for k in range(3)], 1
    )  # content moves 2 px right per frame → backward flow −2 px in x
    flow = torch.zeros(2, 3, 2, 48, 48)
    flow[:, :, 0] = -2.0
    occ = torch.zeros(2, 3, 48, 48, dtype=torch.bool)
    occ[..., :2] = True  # wrapped-in columns
    assert warping_error(shifted, flow, occ) < 1e-10
    assert warping_error(shifted, flow.neg(), occ) > 1e-3


def test_warping_error_checks_its_inputs():
    clips = textured()
    with pytest.raises(ValueError, match="backward flow"):
        warping_error(clips, torch.zeros(2, 4, 2, 8, 8))
    with pytest.raises(ValueError, match="occlusion"):
        warping_error(clips, torch.zeros(2, 4, 2, 48, 48), torch.zeros(2, 4, 8, 8))
    with pytest.raises(ValueError, match="no visible pixel"):
        warping_error(clips, torch.zeros(2, 4, 2, 48, 48), torch.ones(2, 4, 48, 48))
    with pytest.raises(ValueError, match="at least 2 frames"):
        warping_error(clips[:, :1], torch.zeros(2, 1, 2, 48, 48))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        warping_error(clips * 3, torch.zeros(2, 4, 2, 48, 48))


# -- estimated flow -----------------------------------------------------------------------------
def test_dis_recovers_a_known_shift_and_marks_entering_pixels():
    clips = textured(n=1, t=2, size=64)
    moved = torch.stack([clips[:, 0], torch.roll(clips[:, 0], shifts=3, dims=-1)], 1)
    flow, occ = estimate_flow(moved)
    assert flow.shape == (1, 2, 2, 64, 64) and occ.shape == (1, 2, 64, 64)
    assert bool(occ[:, 0].all()) and float(flow[:, 0].abs().max()) == 0
    inner = flow[0, 1, :, 8:-8, 8:-8]
    assert float((inner[0] + 3).abs().median()) < 0.3 and float(inner[1].abs().median()) < 0.3
    assert float(occ[0, 1, 8:-8, 8:-8].float().mean()) < 0.1


def test_dis_on_street_clips_is_close_to_the_exact_flow(sets):
    _, test = sets
    clip = test[:4]
    flow, _ = estimate_flow(clip.frames)
    visible = ~clip.occlusion[:, 1:]
    error = (flow[:, 1:] - clip.flow[:, 1:]).norm(dim=2)[visible]
    assert float(error.median()) < 0.5  # notebook: ≈ 0.2 px


# -- features and the all-in-one --------------------------------------------------------------
def test_clip_features_and_video_metrics(sets, c3d, frame_net):
    reference, test = sets
    feats = clip_features(test.frames[:10], c3d)
    assert feats.shape == (10, 64)
    assert frames_of(test.frames[:10]).shape == (80, 3, 64, 64)
    ready = {
        "frame_features": frame_net.features(frames_of(reference.frames)),
        "clip_features": c3d.features(reference.frames),
    }
    out = video_metrics(
        ready,
        test.frames[:72],
        flow=test.flow[:72],
        occlusion=test.occlusion[:72],
        frame_net=frame_net,
        clip_net=c3d,
        estimated=False,
    )
    assert set(out) == {
        "per_frame_fid",
        "video_fd",
        "warp_error",
        "frame_difference",
        "brightness_jitter",
        "pixel_jitter",
    }
    assert out["video_fd"] == pytest.approx(
        fid(ready["clip_features"], c3d.features(test.frames[:72]))
    )
    with pytest.raises(TypeError, match="clip network"):
        video_frechet_distance(test.frames, test.frames, frame_net)


# -- flicker ------------------------------------------------------------------------------------
def test_flicker_statistics_on_known_cases():
    still = textured(n=16, t=16)
    trend = (still + torch.linspace(0, 0.1, 16).view(1, 16, 1, 1, 1)).clamp(0, 1)
    assert flicker_statistics(trend).brightness_jitter < 1e-3  # a linear trend is no flicker
    sigma = 0.05
    flick = corrupt_clips(still * 0.8 + 0.1, "brightness", strength=sigma, seed=0)
    assert flicker_statistics(flick).brightness_jitter == pytest.approx(sigma, rel=0.15)
    noisy = corrupt_clips(still * 0.8 + 0.1, "noise", strength=sigma, seed=0)
    stats = flicker_statistics(noisy)
    assert stats.pixel_jitter == pytest.approx(sigma, rel=0.1)
    assert stats.brightness_jitter < 0.2 * sigma  # pixel noise averages out over the frame
    with pytest.raises(ValueError, match="at least 3 frames"):
        flicker_statistics(still[:, :2])


# -- pose distance ------------------------------------------------------------------------------
def test_pose_distance_known_values_and_missing_joints():
    ref = torch.zeros(4, 15, 2)
    det = ref.clone()
    det[..., 0] += 3.0
    det[..., 1] += 4.0
    assert pose_distance(det, ref) == pytest.approx(5.0)
    det[0, 0] = float("nan")  # a missed joint is left out, not counted as 0
    det[1, 1] = torch.tensor([100.0, 0.0])
    conf = torch.ones(4, 15)
    conf[1, 1] = 0  # ... and so is one with zero confidence
    assert pose_distance(det, ref, conf) == pytest.approx(5.0)
    per_joint = pose_distance(det, ref, conf, reduction="none")
    assert per_joint.shape == (15,) and torch.allclose(per_joint, torch.full((15,), 5.0))
    with pytest.raises(ValueError, match="same"):
        pose_distance(det, ref[:, :14])
    with pytest.raises(ValueError, match="confidence"):
        pose_distance(det, ref, conf[:, :3])
    with pytest.raises(ValueError, match="no keypoint"):
        pose_distance(det, ref, torch.zeros(4, 15))


# -- the manipulations --------------------------------------------------------------------------
def test_time_manipulations_keep_the_frames_and_change_the_order():
    x = textured(n=3, t=8) * torch.linspace(0.2, 1, 8).view(1, 8, 1, 1, 1)
    for kind in KEEPS_FRAMES:
        y = corrupt_clips(x, kind, seed=4)
        for k in range(3):  # the same frames, as a multiset
            a = sorted(float(f.sum()) for f in x[k])
            b = sorted(float(f.sum()) for f in y[k])
            assert a == pytest.approx(b)
        assert not torch.equal(x, y)
    order = frame_order(50, 8, "jitter", strength=1.5, seed=0)
    assert (order.sort(1).values == torch.arange(8)).all()  # a permutation per clip
    assert int((order - torch.arange(8)).abs().max()) <= 3  # frames move a few places only
    assert frame_order(1, 6, "repeat", strength=3).tolist() == [[0, 0, 0, 3, 3, 3]]
    assert frame_order(1, 4, "reverse").tolist() == [[3, 2, 1, 0]]
    assert torch.equal(corrupt_clips(x, "shuffle", seed=2), corrupt_clips(x, "shuffle", seed=2))
    for kind in CLIP_CORRUPTIONS:
        y = corrupt_clips(x, kind, seed=0)
        assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
    with pytest.raises(ValueError, match="kind"):
        corrupt_clips(x, "blur")
    with pytest.raises(ValueError, match="whole number"):
        corrupt_clips(x, "repeat", strength=1.5)
    with pytest.raises(ValueError, match="standard deviation"):
        corrupt_clips(x, "noise", strength=-1)
    assert math.isclose(float(corrupt_clips(x, "noise", strength=0).sub(x).abs().max()), 0)


def test_a_random_clip_network_does_not_see_the_order(sets):
    # Notebook 13, section 3: the trained network's sensitivity comes from its training.
    from lib.features.video import random_c3d

    reference, test = sets
    net = random_c3d(seed=0, calibration_clips=16)
    floor = video_frechet_distance(reference.frames, test.frames, net)
    shuffled = corrupt_clips(test.frames, "shuffle", seed=1)
    assert video_frechet_distance(reference.frames, shuffled, net) < 2 * floor


def test_estimated_flow_forgives_reversal_and_rewards_repetition(sets):
    # Notebook 13, section 5: a flow fitted to the frames explains a reversed clip and a
    # repeated frame has zero error.
    _, test = sets
    x = test.frames[:16]
    real = estimated_warping_error(x)
    assert estimated_warping_error(corrupt_clips(x, "reverse")) < 1.2 * real
    assert estimated_warping_error(corrupt_clips(x, "repeat", strength=2)) < real


def test_median_smoothing_lowers_the_pose_distance_of_a_noisy_detector():
    # Notebook 13, section 7.
    from lib.datasets import dance_clip, noisy_keypoints
    from lib.models.dance_pose import smooth_keypoints

    clip = dance_clip("tall", frames=60, size=128, seed=0)
    detected, conf = noisy_keypoints(
        clip.poses, clip.confidence, jitter=1.5, dropout=0.05, outliers=0.01, seed=0
    )
    raw = pose_distance(detected, clip.poses, conf)
    smoothed = pose_distance(smooth_keypoints(detected, conf, window=7), clip.poses)
    assert smoothed < 0.8 * raw and raw > 1.0


def test_sharpness_and_the_blur_matched_baseline():
    clips = street(2, frames=4, size=32, seed=2).frames
    flat = torch.full_like(clips, 0.5)
    assert sharpness(flat) == 0.0
    # ½·mean((∂x)² + (∂y)²) of a unit step along x on one column boundary
    step = torch.zeros(1, 1, 1, 4, 4)
    step[..., 2:] = 1
    assert math.isclose(sharpness(step), 0.5 * (4 / 12 + 0.0), rel_tol=1e-6)
    sigmas = [0.0, 0.5, 1.0, 1.5, 2.0]
    values = [sharpness(blur_matched(clips, clips, sigmas=[s])[0]) for s in sigmas]
    assert values == sorted(values, reverse=True)  # more blur, less high-frequency energy
    target = blur_matched(clips, clips, sigmas=[1.0])[0]
    blurred, sigma = blur_matched(clips, target)
    assert math.isclose(sigma, 1.0, abs_tol=1e-6) and torch.allclose(blurred, target)
    assert blur_matched(clips, clips)[1] == 0.0  # already as sharp as itself
    with pytest.raises(ValueError, match="sigmas"):
        blur_matched(clips, clips, sigmas=[-1.0])


def test_class_colour_error_is_the_mean_class_colour_difference():
    """A constant offset d on one class region moves that class's mean colour by d and no other:
    the per-frame error is d ÷ (classes present); classes under ``min_pixels`` are left out."""
    labels = torch.zeros(2, 3, 8, 8, dtype=torch.long)
    labels[:, :, :4] = 1  # two classes of 64 pixels each per frame (over both clips)
    labels[0, :, 0, 0] = 2  # a third class of 3 pixels per frame
    real = torch.rand(2, 3, 3, 8, 8) * 0.5
    fake = real.clone()
    fake[:, 1] += 0.3 * (labels[:, 1] == 1).unsqueeze(1)  # class 1 of frame 1, every channel
    error = class_colour_error(fake, real, labels, min_pixels=4)
    assert error.shape == (3,) and error.dtype == torch.float64
    assert torch.allclose(error, torch.tensor([0.0, 0.15, 0.0], dtype=torch.float64), atol=1e-6)
    # the small class counts once it is allowed in (and adds no error)
    assert float(class_colour_error(fake, real, labels, min_pixels=1)[1]) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="labels"):
        class_colour_error(fake, real, labels[:, :2])
    with pytest.raises(ValueError, match="labels"):
        class_colour_error(fake, real, labels.float())
    with pytest.raises(ValueError, match="min_pixels"):
        class_colour_error(fake, real, labels, min_pixels=0)
