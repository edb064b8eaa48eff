"""The committed CartoonGAN generators (``data/cartoongan``): they load with their checksums, the
bars ``python -m lib models cartoongan`` measures on them reproduce the manifest, and the claims
notebook 12 draws from them hold by more than the seed spread."""

from __future__ import annotations

import pytest

from lib.evaluation import cartoongan_bars as cgb
from lib.models import cartoongan as cg
from lib.weights import read_manifest

MAIN_RUN = ("full", "init_only", "temporal", "temporal_control")
ABLATIONS = ("full", "init_only", "no_smooth", "no_content", "l2_content", "no_init")

pytestmark = pytest.mark.usefixtures("one_thread")


def _committed() -> list[int]:
    try:
        return cg.committed_seeds("full")
    except FileNotFoundError:
        pytest.skip("no committed CartoonGAN weights")


def test_committed_generators_load_with_their_checksums():
    seeds = _committed()
    assert seeds == [0, 1, 2]
    for name in MAIN_RUN:
        assert cg.committed_seeds(name) == seeds
        for seed in seeds:
            g = cg.load_cartoongan(name, seed=seed)
            assert g.variant == name and not g.training and g.info["seed"] == seed
            assert g.info["recipe"]["photo_source"] == "renders"
            assert g.info["command"].endswith(f"--seed {seed} --out data/cartoongan")
    folder = cg.CARTOONGAN_ABLATIONS["ablations"]
    for name in ABLATIONS:
        info = cg.load_cartoongan(name, folder=folder).info
        assert info["recipe"]["steps"] == 1500 and info["seed"] == 0
    omega = cg.load_cartoongan("full", folder=cg.CARTOONGAN_ABLATIONS["omega-10"]).info
    assert omega["recipe"]["omega"] == 10.0 and omega["recipe"]["steps"] == 1500


@pytest.fixture(scope="module")
def report() -> dict:
    _committed()
    return cgb.cartoongan_bars()


@pytest.mark.slow
def test_bars_reproduce_the_manifest(report):
    recorded = read_manifest(cg.CARTOONGAN_DIR)["bars"]
    assert recorded["command"] == "python -m lib models cartoongan --json"
    assert set(report["bars"]) == set(recorded["bars"])
    for name, bar in report["bars"].items():
        assert bar["value"] == pytest.approx(recorded["bars"][name]["value"], abs=1e-4), name
        assert bar["holds"] == recorded["bars"][name]["holds"], name
    assert report["controls"]["full"]["seeds"] == [0, 1, 2]


@pytest.mark.slow
def test_one_seed_cartoonises_in_part_and_two_give_the_photo_back(report):
    """Notebook 12, section 5: no style or content bar holds over the three seeds, because the
    recipe splits them — seed 1 closes most of the edge gap and half the texture gap, while for
    seeds 0 and 2 the discriminator wins outright (its term for G(p) below 0.01) and G returns
    its reconstruction (pixel change ≤ 0.04, edges as soft as the photos')."""
    bars = report["bars"]
    for name in ("edge_sharpness_gap_closed", "texture_energy_gap_closed"):
        assert not bars[name]["holds"] and bars[name]["sd"] > 0.25  # the seeds disagree
    test = cgb.cartoongan_test_set()
    net = cg.content_net("course", device="cpu")
    photo = cgb.cartoongan_measures(test.photos, test, net)
    toon = cgb.cartoongan_measures(test.cartoons, test, net)
    for seed in (0, 1, 2):
        g = cg.load_cartoongan("full", seed=seed)
        out = cg.cartoonize(g, test.photos)
        ratios = cgb.bar_ratios(cgb.cartoongan_measures(out, test, net), photo, toon)
        change = float((out - test.photos).abs().mean())
        d_generated = g.info["history"]["d_generated"][-1]
        if seed == 1:
            assert ratios["edge_sharpness_gap_closed"] > 0.8
            assert ratios["texture_energy_gap_closed"] > 0.5
            assert d_generated > 0.05
        else:
            assert ratios["edge_sharpness_gap_closed"] < 0.1 and change < 0.045
            assert d_generated < 0.01


@pytest.mark.slow
def test_temporal_finetune_lowers_flicker_but_moves_the_style(report):
    """The temporal fine-tune lowers the warping error by more than 40 % (mean over the seeds),
    but changes a style statistic by more than the 15 % bar allows."""
    assert report["bars"]["temporal_flicker_drop"]["holds"]
    assert not report["bars"]["temporal_style_drift"]["holds"]


@pytest.mark.slow
def test_omega_and_the_content_loss_on_the_ablation_schedule():
    """Notebook 12, sections 5–6 (one seed, 1,500 adversarial steps): at the paper's ω = 10 the
    output stays the photo; without the content loss the content goes and a checkerboard
    appears. (Single-seed observations with wide margins; the other ablations are not asserted.)"""
    _committed()
    test = cgb.cartoongan_test_set()
    net = cg.content_net("course", device="cpu")
    photo = cgb.cartoongan_measures(test.photos, test, net)
    toon = cgb.cartoongan_measures(test.cartoons, test, net)
    folder = cg.CARTOONGAN_ABLATIONS["ablations"]

    def measured(g):
        return cgb.generator_measures(g, test, net, photo=photo, toon=toon)

    full = measured(cg.load_cartoongan("full", folder=folder))
    omega10 = measured(cg.load_cartoongan("full", folder=cg.CARTOONGAN_ABLATIONS["omega-10"]))
    no_content = measured(cg.load_cartoongan("no_content", folder=folder))
    assert omega10["pixel_change"] < 0.04 and omega10["edge_sharpness_gap_closed"] < 0.1
    assert full["edge_sharpness_gap_closed"] > 0.5
    assert no_content["content_closer_than_photo"] > full["content_closer_than_photo"] + 0.2
    assert no_content["checkerboard"] > 5 > full["checkerboard"]
