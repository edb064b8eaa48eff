"""CartoonGAN: networks, the three-term adversarial loss, the content, colour and temporal
losses, the diagnostics, neural style transfer, training (a few steps lower the losses, resume).
The committed generators and their bars: test_cartoongan_committed.py."""

from __future__ import annotations

import json

import pytest
import torch

import lib.metrics.video as video_metrics
from lib.datasets.cartoon import cartoons, photo_renders
from lib.datasets.photos import photos
from lib.datasets.street import street
from lib.metrics.cartoon import checkerboard_score, output_diversity
from lib.models.cartoongan import (
    CartoonDiscriminator,
    CartoonGenerator,
    FullImageDiscriminator,
    cartoonize,
    colour_loss,
    committed_seeds,
    content_loss,
    content_net,
    discriminator_loss,
    generator_adversarial_loss,
    load_cartoongan,
    network_view,
    parameter_count,
    temporal_loss,
)
from lib.models.cartoongan_diagnostics import output_diagnostics, training_diagnostics
from lib.models.style_transfer import gram_matrix, neural_style_transfer, style_loss, style_net
from lib.train.recipes.cartoongan import (
    PRESETS,
    Recipe,
    finetune_temporal,
    main,
    recipe_for,
    train,
    training_data,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def warping_error(frames, flow, occlusion):
    """The form notebook 12 reports: L1, frame by frame (N×(T−1))."""
    return video_metrics.warping_error(
        frames, flow, occlusion, distance="absolute", reduction="frames"
    )


@pytest.fixture(scope="module")
def net():
    return content_net("course", device="cpu")


@pytest.fixture(scope="module")
def held_out():
    return photos(24, size=64, seed=424_242).images


# ------------------------------------------------------------------------------------ networks
def test_generator_shapes_range_and_gradients():
    torch.manual_seed(0)
    g = CartoonGenerator(width=4, blocks=1)
    x = torch.rand(2, 3, 32, 32)
    y = g(x)
    assert y.shape == x.shape and float(y.detach().min()) >= 0 and float(y.detach().max()) <= 1
    y.mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in g.parameters())
    assert g.config() == {"width": 4, "blocks": 1, "norm": "instance", "upsample": "transposed"}
    assert CartoonGenerator(**g.config()).state_dict().keys() == g.state_dict().keys()


def test_resize_upsampling_replaces_the_transposed_convolutions():
    """``upsample="resize"``: nearest ×2 then a 3×3 convolution (no uneven kernel overlap);
    the same shapes, rebuilt from its config; a config without the key is the paper's."""
    g = CartoonGenerator(width=4, blocks=1, upsample="resize")
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in g.modules())
    assert sum(isinstance(m, torch.nn.Upsample) for m in g.modules()) == 2
    x = torch.rand(2, 3, 32, 32)
    assert g(x).shape == x.shape
    assert CartoonGenerator(**g.config()).state_dict().keys() == g.state_dict().keys()
    assert CartoonGenerator(width=4, blocks=1, norm="none").upsample == "transposed"
    with pytest.raises(ValueError, match="upsample"):
        CartoonGenerator(upsample="bilinear")


def test_paper_sized_generator_has_eight_residual_blocks_at_256_channels():
    g = CartoonGenerator()  # width 64, 8 blocks: the paper's
    assert len(g.residual) == 8 and g.residual[0].body[1].in_channels == 256
    assert 10e6 < parameter_count(g) < 12e6


def test_discriminator_is_a_patch_discriminator():
    d = CartoonDiscriminator(width=8)
    x = torch.rand(2, 3, 64, 64, requires_grad=True)
    out = d(x)
    assert out.shape == (2, 1, 16, 16)  # one score per patch, 1/4 resolution
    # Through its convolutions one score sees only a receptive_field-sized patch (instance
    # normalisation adds the image's feature mean and variance; take it out to see the patch).
    for k, m in enumerate(d.body):
        if isinstance(m, torch.nn.InstanceNorm2d):
            d.body[k] = torch.nn.Identity()
    out = d(x)
    out[0, 0, 8, 8].backward()
    touched = x.grad[0].abs().sum(0) > 0
    rows = touched.any(1).nonzero()
    assert int(rows.max() - rows.min() + 1) <= CartoonDiscriminator.receptive_field() == 37
    assert not touched[:, :8].any()  # far-away pixels do not matter


def test_patch_discriminator_has_far_fewer_parameters_than_a_full_image_one():
    patch = parameter_count(CartoonDiscriminator(32))
    full = parameter_count(FullImageDiscriminator(256, 32))
    assert full > 2 * patch  # and the full one grows with the image size
    assert parameter_count(FullImageDiscriminator(512, 32)) > full


@pytest.mark.parametrize(
    "bad, error",
    [
        (torch.rand(2, 1, 32, 32), ValueError),  # grey
        (torch.rand(2, 3, 30, 32), ValueError),  # not a multiple of 4
        (torch.rand(3, 32, 32), ValueError),  # no batch dimension
        (torch.zeros(2, 3, 32, 32, dtype=torch.uint8), TypeError),
    ],
)
def test_networks_refuse_bad_inputs(bad, error):
    with pytest.raises(error):
        CartoonGenerator(width=4, blocks=1)(bad)
    with pytest.raises(error):
        CartoonDiscriminator(width=4)(bad)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="norm"):
        CartoonGenerator(norm="layer")
    with pytest.raises(ValueError, match="width"):
        CartoonGenerator(width=0)
    with pytest.raises(ValueError, match="multiple of 4"):
        FullImageDiscriminator(30)
    with pytest.raises(TypeError, match="module"):
        parameter_count("G")


# -------------------------------------------------------------------------------------- losses
def test_discriminator_loss_three_terms():
    ones, zeros = torch.ones(2, 1, 4, 4), torch.zeros(2, 1, 4, 4)
    total, terms = discriminator_loss(ones, zeros, zeros)
    assert float(total) == 0 and set(terms) == {"d_cartoon", "d_smooth", "d_generated"}
    total, terms = discriminator_loss(zeros, ones, ones)  # everything wrong: 1 + 1 + 1
    assert float(total) == pytest.approx(3.0)
    total, terms = discriminator_loss(zeros, None, ones)  # no edge-smoothed negatives
    assert float(total) == pytest.approx(2.0) and "d_smooth" not in terms
    assert float(generator_adversarial_loss(ones)) == 0
    assert float(generator_adversarial_loss(zeros)) == 1
    with pytest.raises(ValueError, match="d_cartoon"):
        discriminator_loss(torch.zeros(0), zeros, zeros)


def test_content_loss_is_omega_times_the_feature_distance(net):
    p = photos(4, size=32, seed=1).images
    q = photos(4, size=32, seed=2).images
    assert float(content_loss(net, p, p)) == 0
    one = float(content_loss(net, q, p, omega=1.0))
    assert float(content_loss(net, q, p)) == pytest.approx(10 * one, rel=1e-5)
    fq, fp = net(q), net(p)  # 32×32 images: no tiling; one term per content layer
    assert set(fq) == {"stage1_pre", "stage3_pre"}
    l1_by_hand = sum(float((fq[k] - fp[k]).abs().mean()) for k in fq)
    assert one == pytest.approx(l1_by_hand, rel=1e-5)
    l2 = float(content_loss(net, q, p, omega=1.0, distance="l2"))
    assert l2 == pytest.approx(sum(float((fq[k] - fp[k]).square().mean()) for k in fq), rel=1e-5)
    # A 64×64 image is seen as four 32×32 tiles, not shrunk.
    big = photos(2, size=64, seed=3).images
    tiles = network_view(net, big)
    assert tiles.shape == (8, 3, 32, 32) and torch.equal(tiles[1], big[0, :, :32, 32:])
    with pytest.raises(ValueError, match="omega"):
        content_loss(net, q, p, omega=-1.0)
    with pytest.raises(ValueError, match="distance"):
        content_loss(net, q, p, distance="l3")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        content_loss(net, q * 2, p)


def test_colour_loss_keeps_block_colours_and_frees_the_inside_of_a_block():
    p = photos(2, size=32, seed=1).images
    q = photos(2, size=32, seed=2).images
    assert float(colour_loss(q, p, pool=1)) == pytest.approx(float((q - p).abs().mean()))
    blocks = torch.nn.functional.avg_pool2d
    by_hand = float((blocks(q, 4) - blocks(p, 4)).abs().mean())
    assert float(colour_loss(q, p)) == pytest.approx(by_hand)
    # A pattern with zero mean in every 4×4 block (texture removed or added, an outline beside
    # its lighter band) costs nothing at pool 4; a tint costs its size at any pool.
    pattern = 0.05 * (torch.arange(32).remainder(2) * 2 - 1).float()
    flat = torch.full_like(p, 0.5)
    assert float(colour_loss(flat + pattern, flat)) == pytest.approx(0, abs=1e-7)
    assert float(colour_loss(flat + pattern, flat, pool=1)) == pytest.approx(0.05)
    assert float(colour_loss(flat + 0.1, flat, pool=8)) == pytest.approx(0.1)
    q.requires_grad_(True)
    colour_loss(q, p).backward()
    assert q.grad is not None and q.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="one shape"):
        colour_loss(q, p[:1])
    with pytest.raises(ValueError, match="pool"):
        colour_loss(q, p, pool=0)


def test_temporal_loss_and_warping_error_vanish_on_exactly_moved_frames():
    clips = street(2, frames=4, size=32, seed=3, texture=0.0, camera_speed=0.0)
    e = warping_error(clips.frames, clips.flow, clips.occlusion)
    assert e.shape == (2, 3)
    still = clips.frames[:, :1].expand(-1, 4, -1, -1, -1)
    zero = warping_error(still, torch.zeros_like(clips.flow), torch.zeros_like(clips.occlusion))
    assert float(zero.abs().max()) == 0
    # A frame shifted by exactly 2 px and its flow: no error away from the entering border.
    x = torch.rand(1, 3, 16, 20)
    shifted = torch.roll(x, 2, dims=-1)
    flow = torch.zeros(1, 2, 16, 20)
    flow[:, 0] = -2.0
    occ = torch.zeros(1, 16, 20, dtype=torch.bool)
    occ[..., :2] = True
    assert float(temporal_loss(shifted, x, flow, occ)) < 1e-6
    noisy = (shifted + 0.1 * torch.randn_like(shifted)).clamp(0, 1)
    assert float(temporal_loss(noisy, x, flow, occ)) > 0.03


def test_temporal_losses_refuse_bad_inputs():
    x = torch.rand(1, 3, 8, 8)
    flow = torch.zeros(1, 2, 8, 8)
    with pytest.raises(TypeError, match="bool"):
        temporal_loss(x, x, flow, torch.zeros(1, 8, 8))
    with pytest.raises(ValueError, match="occlusion"):
        temporal_loss(x, x, flow, torch.zeros(1, 4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="current, previous"):
        temporal_loss(x, x[:, :1], flow, torch.zeros(1, 8, 8, dtype=torch.bool))
    clip = torch.rand(1, 3, 3, 8, 8)
    with pytest.raises(ValueError, match="flow"):
        warping_error(clip, torch.zeros(1, 3, 2, 4, 4), torch.zeros(1, 3, 8, 8, dtype=bool))
    with pytest.raises(ValueError, match="2 frames"):
        warping_error(clip[:, :1], torch.zeros(1, 1, 2, 8, 8), torch.zeros(1, 1, 8, 8, dtype=bool))
    with pytest.raises(ValueError, match="N×T×C×H×W"):
        warping_error(x, flow, torch.zeros(1, 8, 8, dtype=bool))


# --------------------------------------------------------------------------------- diagnostics
def test_checkerboard_score_finds_periodic_artifacts(held_out):
    smooth = held_out[:4]
    yy, xx = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    board = ((yy + xx) % 2).float().expand(4, 3, 64, 64)
    assert float(checkerboard_score(board).min()) > 0.99
    assert float(checkerboard_score(smooth).max()) < 0.05
    artifact = (0.9 * smooth + 0.1 * board).clamp(0, 1)
    assert float(checkerboard_score(artifact).mean()) > 5 * float(checkerboard_score(smooth).mean())
    with pytest.raises(ValueError, match="multiples of 4"):
        checkerboard_score(torch.rand(1, 3, 30, 30))


def test_output_diversity_detects_collapse(held_out):
    assert float(output_diversity(held_out, held_out)) == pytest.approx(1.0)
    collapsed = held_out[:1].expand_as(held_out)
    assert float(output_diversity(collapsed, held_out)) == 0
    with pytest.raises(ValueError, match="at least 2"):
        output_diversity(held_out[:1], held_out[:1])


def test_constant_generator_diagnostics_say_collapse(held_out, net):
    g = CartoonGenerator(width=4, blocks=0)
    for m in g.modules():  # zero weights: G returns grey (tanh(0) + 1) / 2 for every photo
        if isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d):
            torch.nn.init.zeros_(m.weight)
            torch.nn.init.zeros_(m.bias)
    d = training_diagnostics(g, held_out, net)
    assert d["diversity"] == 0 and d["pixel_change"] > 0.1  # a constant grey image: collapse
    with pytest.raises(TypeError, match="CartoonGenerator"):
        cartoonize(torch.nn.Identity(), held_out)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cartoonize(g, held_out * 2)


def test_output_diagnostics_are_training_diagnostics_of_outputs_at_hand(held_out, net):
    """Oracle: the identity "output" changes nothing, keeps every feature, has the photos'
    own checkerboard and diversity; a generator's numbers match training_diagnostics."""
    same = output_diagnostics(held_out, held_out, net)
    assert same == {
        "pixel_change": 0.0,
        "feature_distance": 0.0,
        "checkerboard": pytest.approx(1.0),
        "diversity": pytest.approx(1.0),
    }
    g = CartoonGenerator(width=4, blocks=1)
    full = training_diagnostics(g, held_out, net)
    assert output_diagnostics(cartoonize(g, held_out), held_out, net) == {
        k: pytest.approx(full[k]) for k in same
    }
    with pytest.raises(ValueError, match="G\\(photos\\)"):
        output_diagnostics(held_out[:2], held_out, net)


# ---------------------------------------------------------------------------- style transfer
def test_gram_matrix_value():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 2, 1, 2)
    expected = torch.tensor([[5.0, 11.0], [11.0, 25.0]]) / 4
    assert torch.allclose(gram_matrix(f)[0], expected)
    with pytest.raises(ValueError, match="features"):
        gram_matrix(torch.rand(2, 3))


def test_neural_style_transfer_lowers_the_style_loss():
    snet = style_net("course", device="cpu")
    p = photos(2, size=32, seed=4).images
    s = cartoons(1, size=32, seed=5).images
    out, history = neural_style_transfer(p, s, net=snet, steps=30, return_history=True)
    assert out.shape == p.shape and float(out.min()) >= 0 and float(out.max()) <= 1
    assert history[-1]["style"] < 0.5 * history[0]["style"]
    assert float(style_loss(snet, out, s)) < float(style_loss(snet, p, s))
    with pytest.raises(ValueError, match="style"):
        neural_style_transfer(p, torch.rand(3, 3, 32, 32), net=snet, steps=1)
    with pytest.raises(ValueError, match="steps"):
        neural_style_transfer(p, s, net=snet, steps=0)
    with pytest.raises(ValueError, match="style_net"):
        neural_style_transfer(p, s, net=content_net("course", device="cpu"), steps=1)


# ------------------------------------------------------------------------------------ training
TINY = Recipe(
    size=32,
    batch_size=4,
    init_steps=12,
    steps=6,
    g_width=4,
    g_blocks=1,
    d_width=4,
    n_cartoons=16,
    n_photos=16,
    n_clips=2,
    clip_frames=3,
)


@pytest.fixture(scope="module")
def tiny_data():
    from dataclasses import replace

    return training_data(replace(TINY, temporal_steps=2), seed=0)


def test_a_few_steps_lower_the_losses(tiny_data):
    result = train("full", TINY, data=tiny_data, show_progress=False)
    history = result["history"]
    init = [h["content"] for h in history if h["phase"] == 0]
    assert len(init) == 12 and sum(init[-3:]) < sum(init[:3])
    adv = [h for h in history if h["phase"] == 1]
    assert len(adv) == 6 and {"d_cartoon", "d_smooth", "d_generated", "content"} <= set(adv[0])
    assert result["init_generator"] is not None
    # A discriminator's own steps on fixed data lower its loss.
    d = CartoonDiscriminator(4)
    opt = torch.optim.Adam(d.parameters(), 1e-3)
    fake = result["generator"](tiny_data.photos[:4]).detach()
    c, e = tiny_data.cartoons[:4], tiny_data.smoothed[:4]
    losses = []
    for _ in range(15):
        loss, _ = discriminator_loss(d(c), d(e), d(fake))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0]


def test_variants_change_the_right_terms(tiny_data):
    no_smooth = train(
        "no_smooth",
        recipe_for(
            "no_smooth",
            size=32,
            batch_size=4,
            init_steps=1,
            steps=2,
            g_width=4,
            g_blocks=1,
            d_width=4,
            n_cartoons=16,
            n_photos=16,
        ),
        data=tiny_data,
        show_progress=False,
    )
    assert all("d_smooth" not in h for h in no_smooth["history"])
    assert recipe_for("no_content").omega == 0
    assert recipe_for("l2_content").distance == "l2"
    assert recipe_for("no_init").init_steps == 0
    assert recipe_for("no_smooth", "course").temporal_steps == 0  # only full is fine-tuned
    assert PRESETS["paper"].g_width == 64 and PRESETS["paper"].g_blocks == 8
    with pytest.raises(ValueError, match="variant"):
        recipe_for("cyclegan")
    with pytest.raises(ValueError, match="unknown recipe fields"):
        recipe_for("full", lr=1.0)
    with pytest.raises(ValueError, match="multiple of 4"):
        recipe_for("full", size=30)


def test_colour_terms_and_the_generator_norm_in_the_recipe(tiny_data):
    from dataclasses import replace

    recipe = replace(TINY, g_norm="none", init_pixel_weight=10.0, colour_weight=2.0)
    result = train("full", recipe, data=tiny_data, show_progress=False)
    g = result["generator"]
    assert g.norm == "none" and not any(isinstance(m, torch.nn.InstanceNorm2d) for m in g.modules())
    adv = [h for h in result["history"] if h["phase"] == 1]
    assert all(h["colour"] > 0 for h in adv)
    paper = replace(TINY, g_norm="instance", init_pixel_weight=0.0, colour_weight=0.0)
    plain = train("full", paper, data=tiny_data, show_progress=False)
    assert all("colour" not in h for h in plain["history"])
    assert any(isinstance(m, torch.nn.InstanceNorm2d) for m in plain["generator"].modules())
    assert PRESETS["paper"].g_norm == "instance" and PRESETS["paper"].colour_weight == 0
    resized = train("full", replace(TINY, g_upsample="resize"), data=tiny_data, show_progress=False)
    assert resized["generator"].upsample == "resize"
    # The initialisation phase can look through another network than the adversarial phase:
    # through the course network it is the course-only run's phase, loss for loss.
    mixed = replace(TINY, content_backend="layout", init_content_backend="course")
    both = train("full", mixed, data=tiny_data, show_progress=False)
    course = train(
        "full", replace(TINY, content_backend="course"), data=tiny_data, show_progress=False
    )
    assert both["content_net"].backend == "layout"
    init = [[h["content"] for h in r["history"] if h["phase"] == 0] for r in (both, course)]
    assert init[0] == init[1] and len(init[0]) == TINY.init_steps
    for bad in (
        {"g_norm": "layer"},
        {"colour_pool": 0},
        {"colour_weight": -1.0},
        {"g_upsample": "bilinear"},
        {"content_backend": "alexnet"},
        {"init_content_backend": "alexnet"},
    ):
        with pytest.raises(ValueError, match=next(iter(bad))):
            recipe_for("full", **bad)


def test_photo_side_crops_or_renders_of_other_scenes():
    """The default ``photo_source="renders"`` trains on the cartoons' world rendered as photos,
    from other scene draws than the cartoons (unpaired); ``"crops"`` on the bundled photos."""
    recipe = recipe_for("full", size=32, n_cartoons=8, n_photos=8, photo_source="crops")
    crops = training_data(recipe, seed=1).photos
    assert torch.equal(crops, photos(8, size=32, seed=12).images)
    renders = training_data(recipe_for("full", size=32, n_cartoons=8, n_photos=8), seed=1)
    assert recipe_for("full").photo_source == "renders"
    assert torch.equal(renders.photos, photo_renders(8, size=32, seed=12).images)
    # other scenes than the cartoons': far from the renders of the cartoons' own scenes
    own = photo_renders(8, size=32, seed=11).images
    assert (renders.photos - own).abs().mean() > 0.05
    with pytest.raises(ValueError, match="photo_source"):
        recipe_for("full", photo_source="paintings")
    with pytest.raises(SystemExit):
        main(["--photos", "paintings"])


def test_temporal_finetune_runs_and_control_has_no_temporal_term(tiny_data):
    from dataclasses import replace

    recipe = replace(TINY, temporal_steps=2)
    result = train("full", recipe, data=tiny_data, show_progress=False)
    g, hist = finetune_temporal(
        result["generator"],
        result["discriminator"],
        recipe,
        tiny_data,
        weight=10.0,
        show_progress=False,
    )
    assert len(hist) == 2 and "temporal" in hist[0] and not g.training
    with pytest.raises(ValueError, match="weight"):
        finetune_temporal(g, result["discriminator"], recipe, tiny_data, weight=-1.0)


def test_command_line_writes_weights_and_resumes(tmp_path, capsys):
    args = [
        "--size",
        "32",
        "--batch",
        "2",
        "--init-steps",
        "2",
        "--steps",
        "2",
        "--images",
        "8",
        "--out",
        str(tmp_path),
        "--quiet",
        "--checkpoint-every",
        "2",
    ]
    assert main(args) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert set(manifest) == {"full-seed0", "init_only-seed0"}
    g = load_cartoongan("full", folder=tmp_path)
    assert g.info["recipe"]["size"] == 32 and "measurements" in g.info
    assert (tmp_path / "full-seed0-state.pt").is_file()
    assert main([*args, "--resume", "--steps", "3"]) == 0  # continues at step 4 of 5
    assert "done in" in capsys.readouterr().out
    assert main([*args, "--seed", "2", "--steps", "1", "--init-steps", "1"]) == 0
    assert committed_seeds("full", folder=tmp_path) == [0, 2]
    assert load_cartoongan("full", seed=2, folder=tmp_path).info["seed"] == 2
    with pytest.raises(FileNotFoundError, match="--seed 1"):
        load_cartoongan("full", seed=1, folder=tmp_path)
    with pytest.raises(FileNotFoundError, match="no committed CartoonGAN generator 'no_init'"):
        committed_seeds("no_init", folder=tmp_path)
    with pytest.raises(SystemExit):
        main(["--variant", "cyclegan"])


def test_command_line_chooses_the_content_network_and_the_upsampling(tmp_path):
    """The scene-layout content network, resize upsampling, D's learning rate and λ_col from the
    command line: recorded in the manifest's recipe, and the committed file loads as trained."""
    args = ["--size", "32", "--batch", "2", "--init-steps", "1", "--steps", "2", "--images", "8"]
    args += ["--content-net", "layout", "--upsample", "resize", "--lr-d", "1e-4"]
    args += ["--colour-weight", "1", "--out", str(tmp_path), "--quiet"]
    assert main(args) == 0
    g = load_cartoongan("full", folder=tmp_path)
    recipe = g.info["recipe"]
    assert recipe["content_backend"] == "layout" and recipe["g_upsample"] == "resize"
    assert recipe["lr_d"] == 1e-4 and recipe["colour_weight"] == 1.0
    assert g.upsample == "resize" and not any(
        isinstance(m, torch.nn.ConvTranspose2d) for m in g.modules()
    )
    for bad in (["--content-net", "alexnet"], ["--upsample", "bilinear"], ["--lr-d", "0"]):
        with pytest.raises(SystemExit):
            main(bad)


def test_load_errors_say_how_to_retrain(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m lib.train cartoongan"):
        load_cartoongan("full", folder=tmp_path)
    with pytest.raises(ValueError, match="variant"):
        load_cartoongan("anime")
