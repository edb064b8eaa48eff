"""Everybody Dance Now: the generator with temporal smoothing, the pair discriminator, the face
residual GAN, the evaluation measures, training and the committed models (notebook 11)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest
import torch

from lib.datasets.puppet import JOINTS, dance_clip, noisy_keypoints, render_puppet
from lib.models.dance import (
    DanceConfig,
    DanceGenerator,
    DanceModel,
    FaceResidual,
    KeypointRegressor,
    body_boxes,
    crop_ssim,
    crop_windows,
    face_boxes_of,
    face_corners,
    face_discriminator,
    frame_jitter,
    load_dance_model,
    load_keypoint_regressor,
    pair_discriminator,
    paste_windows,
    pose_distance,
    stick_figures,
    transfer,
)
from lib.train.recipes.dance import Recipe, main, train_transfer

SMALL = DanceConfig(size=32, width=8, blocks=1, d_width=8, face_crop=8, face_width=8)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def clip():
    return dance_clip("short", 24, size=32, seed=3)


# ------------------------------------------------------------------------------- the networks
def test_generator_shapes_and_range(clip):
    g = DanceGenerator(SMALL)
    x0 = g(clip.stick_figures[:2])
    x1 = g(clip.stick_figures[2:4], x0)
    assert x0.shape == x1.shape == (2, 3, 32, 32)
    assert float(x0.detach().min()) >= 0 and float(x0.detach().max()) <= 1
    assert g.net.in_channels == 6
    assert DanceGenerator(replace(SMALL, temporal=False)).net.in_channels == 3


def test_temporal_gradients_flow_through_both_frames(clip):
    """x̂_{t+1} = G(s_{t+1}, x̂_t): a loss on the second frame alone reaches the first call."""
    torch.manual_seed(0)
    g = DanceGenerator(SMALL)
    x0 = g(clip.stick_figures[:2])
    x0.retain_grad()
    x1 = g(clip.stick_figures[1:3], x0)
    (x1 - clip.frames[1:3]).abs().mean().backward()
    assert x0.grad is not None and float(x0.grad.abs().sum()) > 0


def test_pair_discriminator_sees_two_poses_and_two_frames():
    assert pair_discriminator(SMALL).discriminators[0].in_channels == 12
    assert pair_discriminator(replace(SMALL, temporal=False)).discriminators[0].in_channels == 6
    out = face_discriminator(SMALL)(torch.rand(2, 6, 8, 8))
    assert out[-1].shape[:2] == (2, 1)


def test_untrained_face_gan_leaves_the_frame_unchanged(clip):
    model = DanceModel(SMALL)
    frames = clip.frames[:4]
    out = model.apply_face(frames, clip.stick_figures[:4], clip.poses[:4])
    torch.testing.assert_close(out, frames)
    r = FaceResidual(SMALL)(torch.rand(3, 3, 8, 8), torch.rand(3, 3, 8, 8))
    assert r.shape == (3, 3, 8, 8) and float(r.detach().abs().max()) == 0


def test_crop_and_paste_round_trip(clip):
    corners, valid = face_corners(clip.poses, 32, 8)
    crops = crop_windows(clip.frames, corners, 8)
    assert crops.shape == (24, 3, 8, 8) and bool(valid.all())
    torch.testing.assert_close(paste_windows(clip.frames, crops, corners), clip.frames)
    zeroed = paste_windows(clip.frames, torch.zeros_like(crops), corners)
    x, y = corners[0].tolist()
    assert float(zeroed[0, :, y : y + 8, x : x + 8].abs().max()) == 0


def test_face_windows_cover_the_face_and_stay_inside():
    c = dance_clip("short", 60, size=64, seed=1)
    corners, valid = face_corners(c.poses, 64, 16)
    boxes = face_boxes_of(corners, 16)
    assert bool(valid.all()) and int(corners.min()) >= 0 and int(boxes.max()) <= 63
    # the face box of the renderer (head and hair) lies inside the window, up to a pixel
    fb = c.face_boxes
    assert bool((fb[:, 0] >= boxes[:, 0] - 1.5).all() & (fb[:, 2] <= boxes[:, 2] + 1.5).all())
    assert bool((fb[:, 1] >= boxes[:, 1] - 1.5).all() & (fb[:, 3] <= boxes[:, 3] + 1.5).all())


def test_missing_nose_uses_the_neck_and_missing_both_has_no_window(clip):
    kp = clip.poses[:3].clone()
    kp[1, JOINTS["nose"]] = float("nan")
    kp[2, [JOINTS["nose"], JOINTS["neck"]]] = float("nan")
    corners, valid = face_corners(kp, 32, 8)
    assert valid.tolist() == [True, True, False]
    neck = clip.poses[1, JOINTS["neck"]]
    assert abs(float(corners[1, 1]) - (float(neck[1]) - 4 - 3.5)) <= 0.5
    model = DanceModel(SMALL)
    out = model.apply_face(clip.frames[:3], clip.stick_figures[:3], kp)
    torch.testing.assert_close(out[2], clip.frames[2])


def test_generate_sequence_with_and_without_face(clip):
    model = DanceModel(SMALL)
    a = model.generate(clip.stick_figures[:5], clip.poses[:5])
    b = model.generate(clip.stick_figures[:5], face=False)
    assert a.shape == (5, 3, 32, 32)
    torch.testing.assert_close(a, b)  # the face residual starts at zero
    per_frame = DanceModel(replace(SMALL, temporal=False))
    assert per_frame.generate(clip.stick_figures[:5], face=False).shape == (5, 3, 32, 32)


# --------------------------------------------------------------------------------- bad inputs
def test_bad_inputs_get_clear_errors(clip):
    model = DanceModel(SMALL)
    with pytest.raises(ValueError, match="32×32"):
        model.generate(torch.rand(2, 3, 64, 64), face=False)
    with pytest.raises(ValueError, match="keypoints"):
        model.generate(clip.stick_figures[:2])
    with pytest.raises(ValueError, match="frames of poses"):
        model.generate(clip.stick_figures[:2], clip.poses[:3])
    with pytest.raises(ValueError, match="N×3×H×W"):
        model.generator(torch.rand(3, 32, 32))
    with pytest.raises(ValueError, match="NaN"):
        model.generator(torch.full((1, 3, 32, 32), float("nan")))
    with pytest.raises(ValueError, match="temporal"):
        DanceGenerator(replace(SMALL, temporal=False))(clip.stick_figures[:1], clip.frames[:1])
    with pytest.raises(ValueError, match="multiple"):
        DanceConfig(size=30)
    with pytest.raises(ValueError, match="face_crop"):
        DanceConfig(size=32, face_crop=10)
    with pytest.raises(TypeError, match="DanceModel"):
        transfer("model", clip.poses, clip.poses)
    with pytest.raises(ValueError, match="T×J×2"):
        face_corners(torch.rand(5, 2), 32, 8)


# ------------------------------------------------------------------------------- evaluation
def test_pose_distance_by_hand_and_with_missing_joints():
    a = torch.zeros(2, 3, 2)
    b = torch.zeros(2, 3, 2)
    b[0, 0] = torch.tensor([3.0, 4.0])  # 5 px off
    assert float(pose_distance(a, b)) == pytest.approx(5 / 6)
    a[0, 1] = float("nan")  # a missing joint is left out
    assert float(pose_distance(a, b)) == pytest.approx(5 / 5)
    assert pose_distance(a, b, reduction="none").tolist() == pytest.approx([2.5, 0.0, 0.0])
    with pytest.raises(ValueError, match="the same"):
        pose_distance(a, b[:1])


def test_frame_jitter():
    still = torch.full((4, 3, 8, 8), 0.5)
    assert float(frame_jitter(still)) == 0
    moving = torch.linspace(0, 1, 4).view(4, 1, 1, 1).expand(4, 3, 8, 8).contiguous()
    assert float(frame_jitter(moving)) == pytest.approx(1 / 3)
    assert float(frame_jitter(moving, moving)) == 0
    flicker = moving.clone()
    flicker[2] += 0.1
    assert float(frame_jitter(flicker, moving)) == pytest.approx(0.2 / 3)
    with pytest.raises(ValueError, match="two frames"):
        frame_jitter(still[:1])


def test_crop_ssim_and_body_boxes(clip):
    boxes = body_boxes(clip.parts)
    assert boxes.shape == (24, 4)
    assert bool((boxes[:, 2] > boxes[:, 0]).all() & (boxes[:, 3] > boxes[:, 1]).all())
    same = crop_ssim(clip.frames, clip.frames, boxes)
    torch.testing.assert_close(same, torch.ones(24))
    noisy = (clip.frames + 0.1 * torch.randn(clip.frames.shape)).clamp(0, 1)
    assert float(crop_ssim(noisy, clip.frames, boxes).mean()) < 0.9


def test_keypoint_regressor_shapes():
    net = KeypointRegressor(32, width=8)
    out = net(torch.rand(2, 3, 32, 32))
    assert out.shape == (2, 15, 2)
    assert float(out.detach().min()) >= 0 and float(out.detach().max()) <= 31
    with pytest.raises(ValueError, match="32×32"):
        net(torch.rand(1, 3, 64, 64))


# ------------------------------------------------------------------- the pipeline, missing joints
def test_transfer_handles_missing_joints(clip):
    """NaN joints are filled by the median where a neighbour has them; the rest drop limbs."""
    model = DanceModel(SMALL)
    source = dance_clip("tall", 24, size=32, seed=5)
    noisy, conf = noisy_keypoints(source.poses, dropout=0.2, seed=1)
    out = transfer(model, noisy, clip.poses, source_confidence=conf)
    assert out.frames.shape == (24, 3, 32, 32)
    assert not bool(torch.isnan(out.frames).any())
    assert int(torch.isnan(out.smoothed).any(-1).sum()) < int((conf == 0).sum())
    # a joint missing in every frame stays NaN and its limbs are not drawn
    gone = source.poses.clone()
    gone[:, JOINTS["left_wrist"]] = float("nan")
    res = transfer(model, gone, clip.poses, face=False)
    assert bool(torch.isnan(res.poses[:, JOINTS["left_wrist"]]).all())
    full = stick_figures(res.poses.nan_to_num(0), 32)
    assert not torch.equal(full, res.sticks)


# ------------------------------------------------------------------------------------ training
def test_a_few_training_steps_lower_the_loss(tmp_path):
    recipe = Recipe(steps=12, face_steps=2, size=32, frames=40, width=8, blocks=1, batch=2)
    model, record = train_transfer(recipe, progress=False)
    l1 = [h["l1"] for h in record["history"] if "l1" in h]
    assert sum(l1[-4:]) / 4 < sum(l1[:4]) / 4
    assert any("face_l1" in h for h in record["history"])


def test_resume_continues_where_the_run_stopped(tmp_path):
    base = Recipe(steps=4, face_steps=0, size=32, frames=20, width=8, blocks=1, batch=2)
    state = tmp_path / "run.state"
    straight, _ = train_transfer(base, progress=False)
    train_transfer(replace(base, steps=2), state_path=state, checkpoint_every=1, progress=False)
    resumed, rec = train_transfer(base, state_path=state, resume=True, progress=False)
    assert rec["start_step"] == 2
    for (k, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, msg=k)


def test_command_line_writes_weights_and_manifest(tmp_path):
    args = ["--steps", "2", "--face-steps", "1", "--size", "32", "--frames", "12", "--width", "8"]
    args += ["--blocks", "1", "--out", str(tmp_path), "--state", str(tmp_path / "s.state")]
    assert main(args) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["full"]["recipe"]["steps"] == 2
    model = load_dance_model("full", folder=tmp_path)
    assert model.config.size == 32


# ---------------------------------------------------------------------------- committed models
@pytest.fixture(scope="module")
def committed():
    return load_dance_model("full"), load_dance_model("no_temporal"), load_keypoint_regressor()


def test_committed_files_are_small_and_checked(tmp_path):
    from lib.models.dance import DANCE_DIR

    total = sum(p.stat().st_size for p in DANCE_DIR.iterdir())
    assert total < 8e6
    for p in DANCE_DIR.iterdir():
        shutil.copy(p, tmp_path / p.name)
    data = bytearray((tmp_path / "full.safetensors").read_bytes())
    data[-10] ^= 0xFF
    (tmp_path / "full.safetensors").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="python -m lib.train dance --variant full"):
        load_dance_model("full", folder=tmp_path)
    with pytest.raises(ValueError, match="variant"):
        load_dance_model("no_face")


def test_committed_regressor_reads_puppet_keypoints(committed):
    *_, regressor = committed
    c = dance_clip("short", 60, size=64, seed=77)
    assert float(pose_distance(regressor.predict(c.frames), c.poses)) < 1.5


def test_committed_model_reconstructs_a_held_out_dance(committed):
    """The notebook's evaluation on a short held-out clip: the generated target resembles the
    real one and the regressor recovers the requested pose from it."""
    full, _, regressor = committed
    c = dance_clip("short", 40, size=64, seed=21)
    out = full.generate(c.stick_figures, c.poses)
    assert float(crop_ssim(out, c.frames, body_boxes(c.parts)).mean()) > 0.5
    assert float(pose_distance(regressor.predict(out), c.poses)) < 3.0


def test_committed_transfer_follows_the_source(committed):
    full, _, regressor = committed
    target = dance_clip("short", 300, size=64, seed=11)
    source = dance_clip("tall", 40, size=64, seed=21)
    res = transfer(full, source.poses, target.poses)
    truth, parts, _ = render_puppet("short", res.poses, 64)
    assert float(pose_distance(regressor.predict(res.frames), res.poses)) < 3.0
    assert float(crop_ssim(res.frames, truth, body_boxes(parts)).mean()) > 0.5


def test_committed_face_gan_raises_face_crop_ssim(committed):
    """Notebook 11, section 7: the face residual raises face-crop SSIM (0.688 → 0.735 on the
    notebook's 150 held-out frames)."""
    full, _, _ = committed
    c = dance_clip("short", 40, size=64, seed=21)
    corners, _ = face_corners(c.poses, 64, full.config.face_crop)
    boxes = face_boxes_of(corners, full.config.face_crop)
    without = full.generate(c.stick_figures, c.poses, face=False)
    with_face = full.generate(c.stick_figures, c.poses, face=True)
    a = float(crop_ssim(without, c.frames, boxes).mean())
    b = float(crop_ssim(with_face, c.frames, boxes).mean())
    assert b > a + 0.01
