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
@pytest.mark.parametrize("flow_source", ["exact", "dis", "none", "zero"])
def test_losses_have_the_papers_terms(clips, flow_source):
    g, d_i = _small(zero_flow=flow_source == "zero"), V.ImageDiscriminator(width=8)
    d_v = V.VideoDiscriminator(width=8)
    flow, conf = V.reference_flow(clips, flow_source)
    fake = V.generate_clip(g, clips.labels[:2])
    terms = V.generator_losses(
        fake, clips.frames[:2], clips.labels[:2], flow[:2], conf[:2],
        image_d=d_i, video_d=d_v, flow_source=flow_source,
    )  # fmt: skip
    expected = {"gan_image", "fm_image", "gan_video", "fm_video", "l1", "total"}
    expected |= {"mask"} if flow_source != "none" else set()
    expected |= {"flow"} if flow_source != "zero" else set()  # the copy control has no flow
    assert set(terms) == expected
    parts = sum(v for k, v in terms.items() if k != "total")
    assert torch.allclose(terms["total"], parts)
    d_terms = V.discriminator_losses(
        fake, clips.frames[:2], clips.labels[:2], flow[:2], image_d=d_i, video_d=d_v
    )
    assert set(d_terms) == {"d_image", "d_video", "total"}
    assert V.LOSS_WEIGHTS == {
        "gan": 1.0, "feature_matching": 10.0, "perceptual": 10.0, "flow": 10.0, "l1": 10.0
    }  # fmt: skip


def test_flow_and_mask_terms_by_hand():
    """flow = 10·(mean |warp(x_{t−1}, w̃) − x_t| + mean_conf |w̃ − w| / 2); mask = 10·(mean m̃
    where the flow is trusted + mean (1 − m̃) where it is not), each side weighing half."""
    gen = torch.Generator().manual_seed(1)
    prev, cur = torch.rand(2, 3, 8, 8, generator=gen), torch.rand(2, 3, 8, 8, generator=gen)
    flow, ref = torch.randn(2, 2, 8, 8, generator=gen), torch.randn(2, 2, 8, 8, generator=gen)
    mask = torch.rand(2, 1, 8, 8, generator=gen)
    conf = (torch.rand(2, 1, 8, 8, generator=gen) < 0.9).float()
    terms = V.flow_losses(flow, mask, prev, cur, ref, conf)
    warp_term = (warp(prev, flow) - cur).abs().mean()
    epe = ((flow - ref).abs() * conf).sum() / conf.sum() / 2
    assert torch.allclose(terms["flow"], 10 * (warp_term + epe))
    vis, occ = conf.bool(), ~conf.bool()
    assert torch.allclose(terms["mask"], 10 * (mask[vis].mean() + (1 - mask[occ]).mean()))
    # a perfect mask costs nothing, whatever the share of occluded pixels
    assert float(V.flow_losses(flow, 1 - conf, prev, cur, ref, conf)["mask"]) == 0
    copy = V.flow_losses(torch.zeros_like(flow), mask, prev, cur, ref, conf, flow_source="zero")
    assert set(copy) == {"mask"}


def test_hallucinated_image_gets_the_image_terms_too(clips):
    """As in the authors' code, h̃ is judged like a frame of its own (GAN, feature matching, VGG
    loss) where the mask blends it with a warped frame; without warping h̃ is the output."""
    from lib.features.perceptual import perceptual_net

    g, d_i = _small(), V.ImageDiscriminator(width=8)
    pnet = perceptual_net(backend="course")
    flow, conf = V.reference_flow(clips[:2], "exact")
    fake = V.generate_clip(g, clips.labels[:2])
    args = (clips.frames[:2], clips.labels[:2], flow, conf)
    real_h = {**fake, "h": clips.frames[:2].clone()}
    for use_warp in (True, False):
        kw = {"image_d": d_i, "perceptual": pnet, "use_warp": use_warp}
        a = V.generator_losses(fake, *args, **kw)
        b = V.generator_losses(real_h, *args, **kw)
        for key in ("fm_image", "perceptual"):
            moved = not torch.allclose(a[key], b[key])
            assert moved == use_warp, (key, use_warp)
    # a perfect h̃ costs no feature-matching or perceptual term beyond the output's
    exact = {**fake, "image": clips.frames[:2], "h": clips.frames[:2]}
    terms = V.generator_losses(exact, *args, image_d=d_i, perceptual=pnet)
    assert float(terms["fm_image"].detach()) == 0 and float(terms["perceptual"].detach()) == 0


def test_given_frames_start_the_roll_out(clips):
    g = _small()
    given = clips.frames[:2, :2]
    fake = V.generate_clip(g, clips.labels[:2], given=given)
    assert torch.equal(fake["image"][:, :2], given) and torch.equal(fake["h"][:, :2], given)
    assert not fake["flow"][:, :2].any() and not fake["mask"][:, :2].any()
    with torch.no_grad():  # frame 2 is made from the given frames 0 and 1
        step = g(clips.labels[:2, :3], given, True)
    assert torch.allclose(fake["image"][:, 2], step["image"], atol=1e-6)
    # the image losses leave the given frames out; D_I never sees them as fakes
    d_i = V.ImageDiscriminator(width=8)
    flow, conf = V.reference_flow(clips[:2], "exact")
    args = (fake, clips.frames[:2], clips.labels[:2], flow)
    terms = V.generator_losses(*args, conf, image_d=d_i, start=2)
    same = {**fake, "image": fake["image"].clone(), "h": fake["h"].clone()}
    same["image"][:, :2] = 0  # changing the given frames changes no image term
    same["h"][:, :2] = 0
    again = V.generator_losses(same, *args[1:], conf, image_d=d_i, start=2)
    for key in ("gan_image", "fm_image", "l1"):
        assert torch.allclose(terms[key], again[key]), key
    assert set(V.discriminator_losses(*args, image_d=d_i, start=2)) == {"d_image", "total"}
    with pytest.raises(ValueError, match="given"):
        V.generate_clip(g, clips.labels[:2], given=clips.frames[:1, :2])
    with pytest.raises(ValueError, match="start"):
        V.generator_losses(*args, conf, image_d=d_i, start=6)


def test_real_history_makes_one_step_predictions(clips):
    """With the real previous frames as history, frame t is F(x_{t−L}^{t−1}, s_{t−L}^t): the
    generated frames never feed back, so changing one generated frame changes no later one."""
    g = _small()
    labels, real = clips.labels[:2], clips.frames[:2]
    with torch.no_grad():
        forced = V.generate_clip(g, labels, real_history=real)
        free = V.generate_clip(g, labels)
        step = g(labels[:, 1:4], real[:, 1:3], True)  # frame 3 from real frames 1 and 2
    assert torch.allclose(forced["image"][:, 3], step["image"], atol=1e-6)
    assert torch.allclose(forced["image"][:, 0], free["image"][:, 0])  # no history yet at t = 0
    assert not torch.allclose(forced["image"][:, 3], free["image"][:, 3])
    with pytest.raises(ValueError, match="real_history"):
        V.generate_clip(g, labels, real_history=real[:, :2])


def test_zero_flow_copy_control(clips):
    g = _small(zero_flow=True)
    assert not hasattr(g, "head_w") and hasattr(g, "head_m")
    out = g(clips.labels[:2, :3], clips.frames[:2, :2])
    assert float(out["flow"].abs().sum()) == 0
    assert torch.equal(out["warped"], clips.frames[:2, 1])  # the previous frame, in place
    assert g.config["zero_flow"] and V.Vid2VidGenerator.from_config(g.config).zero_flow
    with pytest.raises(ValueError, match="mask"):
        V.Vid2VidGenerator(warp=False, zero_flow=True)
    zero, conf = V.reference_flow(clips, "zero")
    assert float(zero.abs().sum()) == 0 and float(conf[:, 0].sum()) == 0
    # trusted where the previous frame copied in place matches (the authors' rule)
    err = (clips.frames[:, 1:] - clips.frames[:, :-1]).abs().mean(2, keepdim=True)
    assert torch.equal(conf[:, 1:].bool(), err < V.CONFIDENCE_THRESHOLD)


def test_flow_and_image_branches_are_separate(clips):
    g = _small()
    out = g(clips.labels[:1, :3], clips.frames[:1, :2])
    out["flow"].sum().backward()
    assert all(p.grad is None for p in g.trunk.parameters())
    assert all(p.grad is None for p in g.head_h.parameters())
    assert any(p.grad is not None for p in g.flow_trunk.parameters())


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
        ["--size", "32", "--levels", "1", "--steps", "2", "--warmup", "1",
         "--batch", "1", "--clips", "2",
         "--clip-frames", "5", "--width", "8", "--d-width", "8", "--perceptual", "none",
         "--out", str(tmp_path / "out"), "--state-dir", str(tmp_path / "state"),
         "--no-progress", "--device", "cpu"]
    )  # fmt: skip
    g, report = T.train(cfg)
    history = report["history"]["single"]
    assert len(history) == 3  # 1 warm-up step + 2 adversarial steps
    assert set(history[0]) == {"warmup_l1", "warmup_flow", "warmup_mask"}
    loaded = V.load_vid2vid("full", folder=tmp_path / "out")
    with torch.no_grad():
        labels = street(1, frames=3, size=32, seed=5).labels
        a = V.generate_clip(g, labels)["image"]
        b = V.generate_clip(loaded, labels)["image"]
    assert (a - b).abs().max() < 0.03  # float16 storage
    entry = loaded.info
    assert entry["command"].startswith("python -m lib.train vid2vid") and entry["sha256"]
    state = tmp_path / "state" / "full-seed0-exact-single.state.pt"
    net = V.Vid2VidGenerator(width=8, blocks=2, norm="batch")
    step, extra = load_state(state, modules={"generator": net})
    assert step == 3 and extra["stage"] == "single"
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
    assert T.parse_args(["--variant", "copy"]).flow == "zero"  # the copy control's target
    with pytest.raises(SystemExit):
        T.parse_args(["--flow", "zero"])
    with pytest.raises(SystemExit):
        T.parse_args(["--real-start", "1.5"])


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
    assert result["world_size"] == 2 and result["steps"] == 3  # 1 warm-up + 2 adversarial
    assert result["max_replica_difference"] == 0.0
    assert result["params_changed"]
    assert result["batches_differ"]


# ------------------------------------------------------------------- committed weights, claims
# The bars themselves (flow, mask, segmentation, warping vs the copy control) are asserted on the
# committed weights in tests/evaluation/test_model_bars.py.
@pytest.fixture(scope="module")
def committed():
    try:
        seeds = {v: V.committed_seeds(v) for v in V.VARIANTS}
    except FileNotFoundError:
        pytest.skip("no committed vid2vid weights")
    return {v: V.load_vid2vid(v, seed=seeds[v][0]) for v in V.VARIANTS}, seeds


def test_committed_generators_load(committed):
    generators, seeds = committed
    for variant, g in generators.items():
        assert len(seeds[variant]) >= 3  # every variant with at least three seeds
        assert g.use_warp == (variant != "no_warp") and g.zero_flow == (variant == "copy")
        assert g.info["size"] == 64 and g.info["variant"] == variant
        assert g.info["command"].startswith("python -m lib.train vid2vid")
    with pytest.raises(ValueError, match="variant"):
        V.load_vid2vid("huge")
    with pytest.raises(FileNotFoundError, match="--variant full --seed 99"):
        V.load_vid2vid("full", seed=99)


def test_committed_generator_composites_its_heads(committed):
    generators, _ = committed
    test = street(2, frames=6, size=64, seed=1234, camera_speed=2.0)
    with torch.no_grad():
        full = V.generate_clip(generators["full"], test.labels)
        no_warp = V.generate_clip(generators["no_warp"], test.labels)
    m = full["mask"][:, 1:]
    composite = (1 - m) * warp(full["image"][:, :-1], full["flow"][:, 1:]) + m * full["h"][:, 1:]
    assert torch.allclose(composite, full["image"][:, 1:], atol=1e-5)
    assert torch.equal(no_warp["image"], no_warp["h"])


def test_editing_the_labels_changes_the_output_where_they_changed(committed):
    # Notebook 10, section 7: turning every car into road changes the output there.
    generators, _ = committed
    test = street(3, frames=6, size=64, seed=11, camera_speed=2.0)
    car, road = STREET_CLASSES.index("car"), STREET_CLASSES.index("road")
    edited_labels = torch.where(test.labels == car, road, test.labels)
    with torch.no_grad():
        before = V.generate_clip(generators["full"], test.labels, keep=("image",))["image"]
        after = V.generate_clip(generators["full"], edited_labels, keep=("image",))["image"]
    changed = (test.labels == car).unsqueeze(2)
    delta = (after - before).abs().mean(2, keepdim=True)
    assert bool(changed.any())
    assert float(delta[changed].mean()) > 3 * float(delta[~changed].mean())


def test_batch_norm_uses_batch_statistics_in_generation_too(clips):
    """norm="batch" keeps no running averages: eval mode normalises with the batch's own
    statistics (pix2pix's test-time batch norm), so a batch of one clip is normalised alone."""
    torch.manual_seed(0)
    g = V.Vid2VidGenerator(width=8, blocks=1, norm="batch").eval()
    assert not any("running" in k or "tracked" in k for k in g.state_dict())
    with torch.no_grad():
        both = V.generate_clip(g, clips.labels[:2, :3])["image"]
        first = V.generate_clip(g, clips.labels[:1, :3])["image"]
        again = V.generate_clip(g, clips.labels[:2, :3])["image"]
    assert torch.equal(both, again)  # deterministic
    assert not torch.allclose(both[:1], first)  # the other clip of the batch enters
    rebuilt = V.Vid2VidGenerator.from_config(g.config)
    rebuilt.load_state_dict(g.state_dict())
