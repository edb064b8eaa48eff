"""vid2vid: module shapes and gradients, exact warping, losses, coarse-to-fine, flow sources,
training (loss goes down, resume, torchrun/DDP), committed weights and the notebook's claims."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lib.datasets.street import STREET_CLASSES, street
from lib.metrics.video import warping_error
from lib.models import vid2vid as V
from lib.video import pixel_grid, warp

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def clips():
    return street(3, frames=6, size=32, seed=3)


def _small(**kw) -> V.Vid2VidGenerator:
    torch.manual_seed(0)
    return V.Vid2VidGenerator(width=8, blocks=1, **kw)


# --------------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("use_warp", [True, False])
def test_generator_step_shapes_ranges_and_gradients(clips, use_warp):
    g = _small(warp=use_warp)
    labels = clips.labels[:2, :3]
    previous = clips.frames[:2, :2].clone().requires_grad_(True)
    out = g(labels, previous)
    assert set(out) == {"image", "h", "flow", "mask", "warped"}
    assert out["image"].shape == out["h"].shape == out["warped"].shape == (2, 3, 32, 32)
    assert out["flow"].shape == (2, 2, 32, 32) and out["mask"].shape == (2, 1, 32, 32)
    for key in ("image", "h", "mask"):
        assert 0 <= float(out[key].detach().min()) and float(out[key].detach().max()) <= 1
    out["image"].mean().backward()
    assert previous.grad is not None and float(previous.grad.abs().sum()) > 0
    for name, p in g.named_parameters():
        assert p.grad is not None, name
    if use_warp:  # composite = m·h + (1 − m)·warp(x̃_{t−1}, w)
        m = out["mask"]
        expected = m * out["h"] + (1 - m) * warp(previous[:, -1], out["flow"])
        assert torch.allclose(out["image"], expected, atol=1e-6)
    else:
        assert torch.equal(out["image"], out["h"]) and not hasattr(g, "head_w")


def test_first_frame_is_pure_hallucination(clips):
    g = _small()
    out = g(clips.labels[:1, :3], None)
    assert torch.equal(out["mask"], torch.ones_like(out["mask"]))
    assert torch.equal(out["image"], out["h"])


def test_generate_clip_rolls_out_with_gradients_through_time(clips):
    class Recorder:  # looks like a DDP wrapper: the network is in .module
        def __init__(self, net):
            self.module, self.frames = net, []

        def __call__(self, *args):
            out = self.module(*args)
            self.frames.append(out["image"])
            return out

    rec = Recorder(_small())
    fake = V.generate_clip(rec, clips.labels[:2])
    assert fake["image"].shape == (2, 6, 3, 32, 32) and fake["mask"].shape == (2, 6, 1, 32, 32)
    assert torch.equal(fake["mask"][:, 0], torch.ones_like(fake["mask"][:, 0]))
    assert torch.equal(fake["image"][:, -1], rec.frames[-1])
    # the last frame depends on the first generated one through the previous-frame inputs
    grad = torch.autograd.grad(rec.frames[-1].sum(), rec.frames[0], retain_graph=True)[0]
    assert float(grad.abs().sum()) > 0


def test_discriminators_shapes_and_gradients(clips):
    d_i = V.ImageDiscriminator(width=8)
    images = clips.frames[:2, 0].clone().requires_grad_(True)
    out = d_i(clips.labels[:2, 0], images)
    assert len(out) == 2 and all(o[-1].shape[1] == 1 for o in out)
    sum(o[-1].mean() for o in out).backward()
    assert float(images.grad.abs().sum()) > 0
    assert all(p.grad is not None for p in d_i.parameters())

    d_v = V.VideoDiscriminator(3, temporal_scales=2, width=8)
    assert d_v.skips() == [1, 2]
    for skip, expected in ((1, 4), (2, 2)):
        win, fl = V.video_windows(clips.frames[:1], clips.flow[:1], 3, skip)
        assert win.shape == (expected, 3, 3, 32, 32) and fl.shape == (expected, 2, 2, 32, 32)
        win.requires_grad_(True)
        d_v(win, fl, scale=skip // 2)[-1].mean().backward()
        assert float(win.grad.abs().sum()) > 0
    assert V.video_windows(clips.frames[:1, :4], clips.flow[:1, :4], 3, 2) is None


# ------------------------------------------------------------------------------ warping
def test_warp_moves_by_exactly_the_flow():
    """Bilinear sampling of linear ramps is exact, so the warped ramps read off the sampling
    position: the displacement must equal the (sub-pixel, spatially varying) flow."""
    h, w = 40, 48
    grid = pixel_grid(h, w)
    ramps = torch.stack([grid[0] / w, grid[1] / h, torch.rand(h, w)])[None]
    gen = torch.Generator().manual_seed(0)
    flow = (torch.rand(1, 2, 1, 1, generator=gen) * 6 - 3) + 0.5 * torch.sin(grid / 7)[None]
    moved = warp(ramps, flow)
    pos = torch.stack([moved[0, 0] * w, moved[0, 1] * h])
    inner = (slice(5, -5), slice(5, -5))
    error = (pos - grid - flow[0])[(slice(None), *inner)].abs().max()
    assert float(error) < 0.05
    # a 3-px shift of a texture is a 3-px roll (the align_corners convention)
    tex = torch.rand(1, 3, h, w, generator=gen)
    shifted = warp(tex, torch.tensor([3.0, 0.0]).view(1, 2, 1, 1).expand(1, 2, h, w))
    assert torch.allclose(shifted[..., :-3], tex[..., 3:], atol=1e-5)


def test_composed_flow_warps_two_frames_back(clips):
    win, fl = V.video_windows(clips.frames[:1], clips.flow[:1], 3, 2)
    # window 0 is frames 0, 2, 4; fl[0, 1] is the flow of frame 4 back to frame 2
    back = warp(win[:1, 1], fl[:1, 1])
    vis = ~(clips.occlusion[0, 4] | clips.occlusion[0, 3])
    err = (back[0] - win[0, 2]).abs().mean(0)[vis]
    assert float(err.mean()) < 0.02


# ---------------------------------------------------------------------------- flow sources
def test_flow_colours():
    f = torch.tensor([[1.0, 0], [0, 1], [-1, 0], [0, 0]]).view(4, 2, 1, 1)
    rgb = V.flow_colours(f).squeeze()
    assert torch.allclose(rgb[0], torch.tensor([1.0, 0, 0]))  # right: red
    assert torch.allclose(rgb[2], torch.tensor([0.0, 1, 1]))  # left: cyan
    assert torch.allclose(rgb[3], torch.ones(3))  # still: white


def test_reference_flow_sources(clips):
    exact, conf = V.reference_flow(clips, "exact")
    assert torch.equal(exact, clips.flow) and float(conf[:, 0].sum()) == 0
    dis, dconf = V.reference_flow(clips, "dis")
    assert dis.shape == exact.shape and dconf.shape == conf.shape
    vis = ~clips.occlusion[:, 1:]
    epe = (dis[:, 1:] - exact[:, 1:]).norm(dim=2)[vis]
    assert float(epe.mean()) < 1.0  # DIS is an estimate: close, not exact
    none, nconf = V.reference_flow(clips, "none")
    assert float(none.abs().sum()) == 0 and float(nconf.sum()) == 0


# ---------------------------------------------------------------------------------- losses
@pytest.mark.parametrize("flow_source", ["exact", "dis", "none"])
def test_losses_have_the_papers_terms(clips, flow_source):
    g, d_i = _small(), V.ImageDiscriminator(width=8)
    d_v = V.VideoDiscriminator(width=8)
    flow, conf = V.reference_flow(clips, flow_source)
    fake = V.generate_clip(g, clips.labels[:2])
    terms = V.generator_losses(
        fake, clips.frames[:2], clips.labels[:2], flow[:2], conf[:2],
        image_d=d_i, video_d=d_v, flow_source=flow_source,
    )  # fmt: skip
    expected = {"gan_image", "fm_image", "gan_video", "fm_video", "flow", "total"}
    expected |= {"mask"} if flow_source != "none" else set()
    assert set(terms) == expected
    parts = sum(v for k, v in terms.items() if k != "total")
    assert torch.allclose(terms["total"], parts)
    d_terms = V.discriminator_losses(
        fake, clips.frames[:2], clips.labels[:2], flow[:2], image_d=d_i, video_d=d_v
    )
    assert set(d_terms) == {"d_image", "d_video", "total"}
    assert V.LOSS_WEIGHTS == {
        "gan": 1.0, "feature_matching": 10.0, "perceptual": 10.0, "flow": 10.0
    }  # fmt: skip


def test_a_few_steps_lower_the_loss_on_a_tiny_clip(clips):
    torch.manual_seed(0)
    g, d_i = _small(), V.ImageDiscriminator(width=8)
    d_i.requires_grad_(False)  # a fixed critic makes the objective deterministic
    flow, conf = V.reference_flow(clips, "exact")
    opt = torch.optim.Adam(g.parameters(), lr=2e-3, betas=(0.5, 0.999))
    batch = (clips.frames[:1, :4], clips.labels[:1, :4], flow[:1, :4], conf[:1, :4])
    losses = []
    for _ in range(12):
        fake = V.generate_clip(g, batch[1])
        total = V.generator_losses(fake, *batch[:1], batch[1], *batch[2:], image_d=d_i)["total"]
        opt.zero_grad()
        total.backward()
        opt.step()
        losses.append(float(total.detach()))
    assert losses[-1] < 0.8 * losses[0]


# -------------------------------------------------------------------------- coarse-to-fine
def test_coarse_to_fine_adds_a_finer_generator(clips):
    coarse = V.Vid2VidGenerator(width=8, blocks=1)
    fine = V.Vid2VidGenerator(coarse=coarse, blocks=1).freeze_coarse()
    assert fine.levels == 2 and fine.width == 4 and fine.multiple == 8
    assert fine.config["coarse"] == coarse.config
    before = {k: v.clone() for k, v in coarse.state_dict().items()}
    opt = torch.optim.Adam([p for p in fine.parameters() if p.requires_grad], lr=1e-2)
    fake = V.generate_clip(fine, clips.labels[:1, :3])
    fake["image"].mean().backward()
    opt.step()
    assert all(torch.equal(before[k], v) for k, v in coarse.state_dict().items())
    assert all(p.grad is None for p in coarse.parameters())
    rebuilt = V.Vid2VidGenerator.from_config(fine.config)
    rebuilt.load_state_dict(fine.state_dict())
    with torch.no_grad():
        a = V.generate_clip(fine, clips.labels[:1, :3])["image"]
        b = V.generate_clip(rebuilt, clips.labels[:1, :3])["image"]
    assert torch.equal(a, b)


# ----------------------------------------------------------------------------- bad inputs
def test_bad_inputs_get_clear_errors(clips):
    g = _small()
    bad = clips.labels[:1].clone()
    bad[0, 0, 0, 0] = 6
    with pytest.raises(ValueError, match=r"class ids must be in 0\.\.5"):
        V.generate_clip(g, bad)
    with pytest.raises(ValueError, match=r"class ids must be in 0\.\.5"):
        V.one_hot_labels(bad)
    with pytest.raises(TypeError, match="integer class ids"):
        V.generate_clip(g, clips.labels[:1].float())
    with pytest.raises(ValueError, match=r"at least L \+ 1 = 3 frames"):
        V.generate_clip(g, clips.labels[:1, :2])
    with pytest.raises(ValueError, match="N×3×H×W"):
        g(clips.labels[:1, :2])
    with pytest.raises(ValueError, match="previous"):
        g(clips.labels[:1, :3], clips.frames[:1, :2, :, :16, :16])
    with pytest.raises(ValueError, match="multiples of 4"):
        g(clips.labels[:1, :3, :30, :30])
    d_i = V.ImageDiscriminator(width=8)
    with pytest.raises(ValueError, match="same N, H and W"):
        d_i(clips.labels[:1, 0, :16, :16], clips.frames[:1, 0])
    with pytest.raises(ValueError, match="does not match the labels"):
        fake = V.generate_clip(g, clips.labels[:1])
        flow, conf = V.reference_flow(clips[0], "exact")
        V.generator_losses(fake, clips.frames[:1, :, :, :16], clips.labels[:1], flow, conf,
                           image_d=d_i)  # fmt: skip
    with pytest.raises(ValueError, match="source"):
        V.reference_flow(clips, "flownet2")


# --------------------------------------------------------------------------------- training
def test_training_script_runs_saves_and_resumes(tmp_path):
    from lib.train.loop import load_state
    from lib.train.recipes import vid2vid as T

    cfg = T.parse_args(
        ["--size", "32", "--levels", "1", "--steps", "2", "--batch", "1", "--clips", "2",
         "--clip-frames", "5", "--width", "8", "--d-width", "8", "--perceptual", "none",
         "--out", str(tmp_path / "out"), "--state-dir", str(tmp_path / "state"),
         "--no-progress", "--device", "cpu"]
    )  # fmt: skip
    g, report = T.train(cfg)
    assert report["history"]["single"] and len(report["history"]["single"]) == 2
    loaded = V.load_vid2vid("full", folder=tmp_path / "out")
    with torch.no_grad():
        labels = street(1, frames=3, size=32, seed=5).labels
        a = V.generate_clip(g, labels)["image"]
        b = V.generate_clip(loaded, labels)["image"]
    assert (a - b).abs().max() < 0.03  # float16 storage
    entry = loaded.info
    assert entry["command"].startswith("python -m lib.train vid2vid") and entry["sha256"]
    state = tmp_path / "state" / "full-exact-single.state.pt"
    step, extra = load_state(state, modules={"generator": V.Vid2VidGenerator(width=8, blocks=2)})
    assert step == 2 and extra["stage"] == "single"
    _, resumed = T.train(dataclasses.replace(cfg, steps=3, resume=True))
    assert len(resumed["history"]["single"]) == 1  # only the missing step ran
    # a corrupted weight file is refused with the retrain command
    (tmp_path / "out" / entry["file"]).write_bytes(b"garbage")
    with pytest.raises(ValueError, match="python -m lib.train vid2vid"):
        V.load_vid2vid("full", folder=tmp_path / "out")


def test_training_config_validation(capsys):
    from lib.train.recipes import vid2vid as T

    with pytest.raises(SystemExit) as stop:
        T.parse_args(["--frames", "4"])
    assert stop.value.code == 2 and "at least 5 frames" in capsys.readouterr().err
    assert T.parse_args(["--frames", "4", "--variant", "no_video_d"]).frames == 4
    with pytest.raises(ValueError, match="variant"):
        T.TrainConfig(variant="big").validate()
    gpu = T.parse_args(["--preset", "gpu"])
    assert gpu.size == 256 and gpu.width == 64


@pytest.mark.slow
def test_two_processes_under_torchrun_keep_identical_replicas(tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("torchrun is not installed next to this Python")
    out = tmp_path / "ddp.json"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [str(torchrun), "--standalone", "--nproc_per_node", "2",
         str(ROOT / "tests" / "_torchrun_vid2vid_worker.py"), str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["world_size"] == 2 and result["steps"] == 2
    assert result["max_replica_difference"] == 0.0
    assert result["params_changed"]
    assert result["batches_differ"]


# ------------------------------------------------------------------- committed weights, claims
@pytest.fixture(scope="module")
def committed():
    if not (V.VID2VID_DIR / "manifest.json").is_file():
        pytest.skip("no committed vid2vid weights")
    return {v: V.load_vid2vid(v) for v in V.VARIANTS}


def test_committed_generators_load(committed):
    for variant, g in committed.items():
        assert g.levels == 2 and g.use_warp == (variant != "no_warp")
        assert g.info["size"] == 64 and g.info["variant"] == variant
    with pytest.raises(ValueError, match="variant"):
        V.load_vid2vid("huge")


@pytest.fixture(scope="module")
def rollouts(committed):
    test = street(4, frames=8, size=64, seed=1234)
    with torch.no_grad():
        out = {v: V.generate_clip(g, test.labels) for v, g in committed.items()}
    return test, out


def test_full_model_is_more_consistent_than_without_warping(rollouts):
    """Notebook 10's ablation at test scale: warping error with the exact flow (notebook:
    0.0014 full, 0.0041 without warping, 0.0007 real video)."""
    test, out = rollouts
    errors = {v: warping_error(o["image"], test.flow, test.occlusion) for v, o in out.items()}
    real = warping_error(test.frames, test.flow, test.occlusion)
    assert real < errors["full"] < errors["no_warp"]
    assert errors["no_warp"] > 2 * errors["full"]


def test_committed_generator_learned_the_flow_and_the_composite(rollouts):
    test, out = rollouts
    full = out["full"]
    visible = ~test.occlusion[:, 1:]
    epe = (full["flow"][:, 1:] - test.flow[:, 1:]).norm(dim=2)[visible].mean()
    still = test.flow[:, 1:].norm(dim=2)[visible].mean()
    assert epe < still  # closer to the exact flow than "no motion" (notebook: 0.96 vs 1.00 px)
    m = full["mask"][:, 1:]
    composite = (1 - m) * warp(full["image"][:, :-1], full["flow"][:, 1:]) + m * full["h"][:, 1:]
    assert torch.allclose(composite, full["image"][:, 1:], atol=1e-5)
    assert float(m.mean()) < 0.5  # most of each frame is copied from the previous one
    assert torch.equal(out["no_warp"]["image"], out["no_warp"]["h"])


def test_editing_the_labels_changes_the_output_where_they_changed(committed):
    # Notebook 10, section 7 (committed run: mean |change| 0.102 where cars became road, 0.019
    # elsewhere, 12 clips × 12 frames).
    test = street(3, frames=6, size=64, seed=11)
    car, road = STREET_CLASSES.index("car"), STREET_CLASSES.index("road")
    edited_labels = torch.where(test.labels == car, road, test.labels)
    with torch.no_grad():
        before = V.generate_clip(committed["full"], test.labels, keep=("image",))["image"]
        after = V.generate_clip(committed["full"], edited_labels, keep=("image",))["image"]
    changed = (test.labels == car).unsqueeze(2)
    delta = (after - before).abs().mean(2, keepdim=True)
    assert bool(changed.any())
    assert float(delta[changed].mean()) > 3 * float(delta[~changed].mean())
