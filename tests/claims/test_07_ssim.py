"""The SSIM claims of notebook 07 (equal-MSE images, MS-SSIM as a diversity score) and its
results, asserted on small data; and the SSIM maps widget without a browser.

Thresholds come from the committed run of notebooks/07_ssim.ipynb (256-px grey photo, 1,000
shapes): equal-MSE SSIM from 0.525 (noise) to 0.991 (brightness); within-class MS-SSIM 0.115 →
1.000 as the shapes collapse; whole-set MS-SSIM of digits 0.299 → 0.639 as classes drop, shapes
flat at 0.11. Here at 176 px and a few hundred images, with margins.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from ipywidgets import widgets  # noqa: E402
from scipy import stats  # noqa: E402

from lib import bench  # noqa: E402
from lib.bench.distortions import DISTORTIONS, STRENGTH_RANGES, distort, match_mse, mse  # noqa: E402
from lib.datasets import ImageSet, digits, photos, shapes  # noqa: E402
from lib.metrics import ms_ssim, ssim  # noqa: E402
from lib.metrics.diversity import ms_ssim_diversity, scale_weights  # noqa: E402
from lib.widgets.ssim_maps import MAP_NAMES, SSIMMapsWidget  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
TARGET = 210 / 255**2
SMALL = dict(weights=scale_weights(3), win_size=7)


def _grey(size: int) -> torch.Tensor:
    colour = photos(1, size=size, sources=("chelsea",), scale=(1.0, 1.0), seed=0).images
    luma = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (colour * luma).sum(1, keepdim=True).clamp(0, 1)


@pytest.fixture(scope="module")
def reference():
    return _grey(176)  # large enough for MS-SSIM's five scales


@pytest.fixture(scope="module")
def matched(reference):
    return {kind: match_mse(reference, kind, TARGET) for kind in DISTORTIONS}


@pytest.fixture(scope="module")
def parts(reference, matched):
    return {
        kind: ssim(reference, m.images, return_map=True, return_components=True)
        for kind, m in matched.items()
    }


# ------------------------------------------------------------- claim 22: MSE cannot tell them
def test_equal_mse_set_gets_very_different_ssim(reference, matched, parts):
    mses = torch.tensor([m.mse for m in matched.values()])
    assert float((mses - TARGET).abs().max()) < 0.005 * TARGET
    scores = {kind: float(out.value) for kind, out in parts.items()}
    assert max(scores.values()) - min(scores.values()) > 0.3  # notebook: 0.991 − 0.525
    # Slight global changes stay near 1; fine-structure damage of the same energy does not.
    assert scores["brightness"] > 0.98 and scores["contrast"] > 0.9
    assert max(scores[k] for k in ("blur", "noise", "jpeg")) < 0.7
    assert scores["brightness"] == max(scores.values())
    # The large local change averages out too, but the map shows it.
    assert scores["patch"] > 0.95
    patch_map = parts["patch"].ssim_map
    assert float((patch_map >= 0.95).float().mean()) > 0.9 and float(patch_map.min()) < 0.1


def test_mse_and_ssim_rank_differently(reference, matched):
    b4 = match_mse(reference, "brightness", 4 * TARGET)
    b4_ssim = float(ssim(reference, b4.images))
    for kind in ("blur", "noise", "jpeg"):
        # More MSE (4×) but a higher SSIM than these distortions at the target.
        assert b4.mse > 3.9 * matched[kind].mse
        assert b4_ssim > float(ssim(reference, matched[kind].images))
    all_mse, all_ssim = [], []
    for kind, m in matched.items():
        top = min(2 * m.strength, STRENGTH_RANGES[kind][1])
        strengths = torch.linspace(0, top, 7)[1:]
        imgs = torch.cat([distort(reference, kind, float(s)) for s in strengths])
        refs = reference.expand_as(imgs)
        e, s = mse(refs, imgs).numpy(), ssim(refs, imgs, reduction="none").numpy()
        assert stats.spearmanr(e, s)[0] < -0.9  # within a distortion: the same order
        all_mse.extend(e)
        all_ssim.extend(s)
    assert abs(stats.spearmanr(all_mse, all_ssim)[0]) < 0.8  # across: notebook −0.39


# --------------------------------------------- claim 23: luminance × contrast × structure
def test_the_three_terms_multiply_to_the_ssim_map(parts):
    for out in parts.values():
        product = out.luminance * out.contrast * out.structure
        assert torch.allclose(product, out.ssim_map, atol=1e-4)
        assert float(out.ssim_map.mean()) == pytest.approx(float(out.value), abs=1e-6)


def test_each_distortion_shows_in_its_own_term(parts):
    means = {
        kind: {n: float(getattr(o, n).mean()) for n in ("luminance", "contrast", "structure")}
        for kind, o in parts.items()
    }
    b = means["brightness"]
    assert b["contrast"] > 0.99 and b["structure"] > 0.99 and b["luminance"] < 0.995
    assert min(means["contrast"], key=means["contrast"].get) == "contrast"
    assert min(means["noise"], key=means["noise"].get) == "structure"
    assert min(means["blur"], key=means["blur"].get) in ("contrast", "structure")
    assert means["blur"]["luminance"] > 0.98


def test_ms_ssim_forgives_blur_and_weighs_local_damage(reference, matched, parts):
    multi = {k: float(ms_ssim(reference, m.images)) for k, m in matched.items()}
    single = {k: float(o.value) for k, o in parts.items()}
    assert multi["blur"] - single["blur"] > 0.1  # notebook: 0.769 vs 0.591
    assert multi["noise"] - single["noise"] > 0.2  # notebook: 0.920 vs 0.525
    assert multi["patch"] < single["patch"]  # notebook: 0.870 vs 0.977
    assert multi["brightness"] > 0.99


# ------------------------------------------------------------- MS-SSIM as a diversity measure
@pytest.fixture(scope="module")
def fresh():
    return shapes(300, seed=1)


@pytest.fixture(scope="module")
def digit_set():
    return digits("train")


def test_within_class_ms_ssim_rises_as_distinct_images_per_class_fall(fresh):
    def within(s):
        return ms_ssim_diversity(s.images, s.labels, n_pairs=30, seed=0, **SMALL).mean

    values = [within(fresh)]
    for d in (10, 3, 1):
        values.append(within(bench.collapse_within_class(fresh, d, seed=0)))
    assert values[0] < 0.2  # notebook: 0.115
    assert all(b > a + 0.03 for a, b in zip(values, values[1:], strict=False)), values
    assert values[-1] == pytest.approx(1.0, abs=1e-6)


def _drop_curve(base: ImageSet, keep: tuple[int, ...], draws: int = 2) -> list[float]:
    n = int(base.class_counts().min())
    means = []
    for k in keep:
        runs = []
        for draw in range(draws):
            gen = torch.Generator().manual_seed(100 * k + draw)
            classes = sorted(torch.randperm(base.num_classes, generator=gen)[:k].tolist())
            kept = bench.drop_modes(base, classes, n, seed=draw)
            runs.append(ms_ssim_diversity(kept.images, n_pairs=150, seed=draw, **SMALL).mean)
        means.append(sum(runs) / len(runs))
    return means


def test_pairwise_ms_ssim_rises_as_kept_modes_fall_on_digits_not_on_shapes(fresh, digit_set):
    digit_curve = _drop_curve(digit_set, (10, 2, 1))
    assert all(b > a + 0.05 for a, b in zip(digit_curve, digit_curve[1:], strict=False))
    assert digit_curve[-1] - digit_curve[0] > 0.2  # notebook: 0.299 → 0.639
    shape_curve = _drop_curve(fresh, (10, 1))
    assert max(abs(v - shape_curve[0]) for v in shape_curve) < 0.05  # notebook: flat at 0.11


def test_one_class_is_a_pixel_cluster_for_digits_but_not_for_shapes(fresh, digit_set):
    for data, low, high in ((digit_set, 0.2, 1.0), (fresh, -0.05, 0.05)):
        res = ms_ssim_diversity(data.images, n_pairs=800, seed=0, **SMALL)
        labels = data.labels[res.pairs]
        same = labels[:, 0] == labels[:, 1]
        gap = float(res.values[same].mean() - res.values[~same].mean())
        assert low < gap < high  # notebook: digits 0.610 − 0.268, shapes 0.114 − 0.112


# ------------------------------------------------------------------------ the maps widget
@pytest.fixture(scope="module")
def small_grey():
    return _grey(96)


@pytest.fixture
def panel(small_grey):
    return SSIMMapsWidget(small_grey[0], distortion="blur")


def test_initial_state_matches_the_target_mse(panel):
    r = panel.results
    assert r["distortion"] == "blur" and r["seed"] == 0
    assert r["mse_8bit"] == pytest.approx(210, rel=0.005)
    assert r["strength"] == pytest.approx(panel.slider.value)
    assert 0 < r["ssim"] < 1 and r["ms_ssim"] is None  # 96 px: too small for five scales
    for name in MAP_NAMES:
        assert panel.maps[name].shape == (86, 86)  # the valid 11-px window
        assert r[name] == pytest.approx(float(panel.maps[name].mean()), abs=1e-6)
    product = panel.maps["luminance"] * panel.maps["contrast"] * panel.maps["structure"]
    assert torch.allclose(product, panel.maps["ssim"], atol=1e-4)
    assert bytes(panel.picture.value).startswith(PNG)
    assert "SSIM" in panel.numbers.value and "MSE" in panel.numbers.value
    assert isinstance(panel.widget, widgets.VBox)
    assert panel.widget.children[0].children == (panel.dropdown, panel.slider, panel.seed)
    assert tuple(panel.dropdown.options) == DISTORTIONS
    assert "application/vnd.jupyter.widget-view+json" in panel._repr_mimebundle_()
    assert "blur" in repr(panel)


def test_moving_the_slider_changes_the_maps_and_numbers(panel):
    before = dict(panel.results)
    ssim_map, picture = panel.maps["ssim"].clone(), bytes(panel.picture.value)
    panel.slider.value = 2 * panel.slider.value
    after = panel.results
    assert after["strength"] == pytest.approx(2 * before["strength"])
    assert after["mse"] > before["mse"] and after["ssim"] < before["ssim"]
    assert after["contrast"] < before["contrast"]
    assert not torch.equal(panel.maps["ssim"], ssim_map)
    assert bytes(panel.picture.value) != picture
    panel.slider.value = 0.0
    assert panel.results["ssim"] == pytest.approx(1.0, abs=1e-6)
    assert panel.results["mse"] == 0.0


def test_choosing_a_distortion_rematches_the_mse_with_one_update(panel, monkeypatch):
    calls = []
    real_update = panel.update

    def counting_update():
        calls.append((panel.dropdown.value, panel.slider.value))
        return real_update()

    monkeypatch.setattr(panel, "update", counting_update)
    panel.dropdown.value = "brightness"
    assert len(calls) == 1
    assert panel.slider.max == 1.0
    assert panel.results["mse_8bit"] == pytest.approx(210, rel=0.005)
    # A brightness shift lowers only the luminance map (claim 23 in the widget).
    assert panel.results["contrast"] > 0.99 and panel.results["structure"] > 0.99
    assert panel.results["luminance"] < 0.999
    panel.dropdown.value = "patch"
    assert len(calls) == 2 and panel.slider.max == 96.0
    assert panel.results["ssim_map_min"] < 0.1 < panel.results["ssim"]


def test_the_button_matches_a_new_target_and_the_seed_redraws_noise(panel):
    panel.dropdown.value = "noise"
    first = panel.maps["structure"].clone()
    panel.seed.value = 7
    assert panel.results["seed"] == 7
    assert not torch.equal(panel.maps["structure"], first)
    panel.target.value = 50.0
    panel.match_button.click()
    assert panel.results["mse_8bit"] == pytest.approx(50, rel=0.005)
    low_noise_ssim = panel.results["ssim"]
    panel.slider.value = panel.slider.value * 2
    assert panel.results["ssim"] < low_noise_ssim


def test_compute_leaves_the_widgets_alone_and_accepts_colour(small_grey):
    colour = photos(1, size=64, sources=("coffee",), scale=(1.0, 1.0), seed=0)
    panel = SSIMMapsWidget(colour, distortion="jpeg", strength=2.0)
    assert panel.slider.value == 2.0 and panel.reference.shape == (1, 3, 64, 64)
    results, maps = panel.compute("contrast", 0.5, 0)
    assert results["distortion"] == "contrast" and maps["distorted"].shape == (1, 3, 64, 64)
    assert panel.results["distortion"] == "jpeg" and panel.dropdown.value == "jpeg"
    big = SSIMMapsWidget(_grey(176)[0], distortion="noise")
    assert isinstance(big.results["ms_ssim"], float)


def test_a_failing_update_is_shown_in_the_panel_and_raised(panel, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("maps fell over")

    monkeypatch.setattr(panel, "compute", broken)
    with pytest.raises(RuntimeError, match="fell over"):
        panel.slider.value = 1.0
    assert "could not update" in panel.numbers.value
    assert panel.error == "RuntimeError: maps fell over"


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (dict(image=[1, 2]), TypeError, "image: expected a C×H×W tensor"),
        (dict(image=torch.rand(2, 1, 32, 32)), ValueError, "expected one image"),
        (dict(image=torch.rand(1, 32, 32) * 2), ValueError, r"image: float images must lie"),
        (dict(image=torch.rand(1, 8, 8)), ValueError, "smaller than the 11-pixel SSIM window"),
        (dict(win_size=4), ValueError, "win_size: must be odd"),
        (dict(distortion="zoom"), ValueError, "distortion: unknown value 'zoom'"),
        (dict(target_mse_8bit=-1.0), ValueError, "target_mse_8bit: expected a positive"),
        (dict(seed=-1), ValueError, "seed: must be in"),
        (dict(seed="0"), TypeError, "seed: expected an integer"),
        (dict(strength=99.0), ValueError, r"strength: 99 is out of range for 'blur'"),
        (dict(centre=(2.0, 0.5)), ValueError, "centre"),
    ],
)
def test_bad_inputs_raise_clear_errors(small_grey, change, error, match):
    kwargs = dict(image=small_grey[0][:, :32, :32])
    kwargs.update(change)
    image = kwargs.pop("image")
    with pytest.raises(error, match=match):
        SSIMMapsWidget(image, **kwargs)
