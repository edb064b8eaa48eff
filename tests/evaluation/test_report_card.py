"""lib.evaluation.report_card and its explorer: every metric on a dict of image sets, the scoring
of the deck's four criteria, the claims notebook 09 shows (on small sets, with the notebook's
rules), and ReportCardExplorer driven without a browser."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from ipywidgets import widgets  # noqa: E402

from lib import bench  # noqa: E402
from lib.datasets import ImageSet, photos, shapes  # noqa: E402
from lib.evaluation import report_card as rc  # noqa: E402
from lib.evaluation import study  # noqa: E402
from lib.features import get as get_network  # noqa: E402
from lib.models import generate, load_generator  # noqa: E402
from lib.widgets.report_card import ReportCardExplorer  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
N = 200  # images per set for the claims (the notebook's smoke run uses 150, its default 1000)
SMALL = dict(kid_subsets=5, swd_images=64, ms_ssim_pairs=5, device="cpu")


@pytest.fixture(scope="module")
def net():
    return get_network("shapes-cnn", device="cpu")


@pytest.fixture(scope="module")
def evaluator(net):
    return rc.Evaluator(shapes(N, seed=100), net, held_out=shapes(100, seed=200), **SMALL)


@pytest.fixture(scope="module")
def draws():
    return [shapes(N, seed=1 + r) for r in range(3)]


@pytest.fixture(scope="module")
def other():
    return photos(N, size=32, seed=0)


@pytest.fixture(scope="module")
def card(evaluator, draws, other, net):
    """The notebook's sections 1–2 on 200 images per set: fresh draws, bench, DCGAN."""
    real = [evaluator.evaluate(d, seed=r) for r, d in enumerate(draws)]
    spread = rc.real_spread(real)
    sets = bench.bench_sets(draws[0], other=other, level=2, seed=0)
    sets["DCGAN"] = generate(load_generator("shapes"), N, seed=0)
    evaluations = rc.report_card(sets, evaluator, seed=0)
    return {
        "real": real,
        "spread": spread,
        "sets": sets,
        "card": evaluations,
        "seps": {n: rc.separation(e, spread) for n, e in evaluations.items()},
        "scores": {n: rc.worse_than_real(e, spread) for n, e in evaluations.items()},
    }


# -- the metrics' descriptions ------------------------------------------------------------------


def test_metric_specs_are_complete_and_unique():
    keys = [m.key for m in rc.METRICS]
    assert len(set(keys)) == len(keys) == 13
    for m in rc.METRICS:
        assert m.better in ("lower", "higher")
        assert m.looks_at in ("fidelity", "diversity", "both")
        assert m.needs in ("logits", "features", "pixels", "labels")
        assert m.interpretable in rc.INTERPRETABILITY and m.reason
        assert m.sign == (1.0 if m.better == "lower" else -1.0)
        assert rc.metric(m.key) is m
    assert rc.format_value("fid", math.nan) == "—"
    assert rc.format_value("is", 7.456) == "7.46"
    with pytest.raises(ValueError, match="metric: unknown value 'FID'"):
        rc.metric("FID")
    with pytest.raises(TypeError, match="metric key"):
        rc.metric(3)


# -- the bench ----------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [1, 3])
def test_bench_set_is_one_entry_of_bench_sets(level):
    source, other = shapes(40, seed=3), photos(20, size=32, seed=1)
    everything = bench.bench_sets(source, other=other, level=level, seed=5)
    assert tuple(everything) == rc.bench_set_names(10)
    for name, expected in everything.items():
        got = rc.bench_set(source, name, level, other=other, seed=5)
        assert torch.equal(got.images, expected.images), name
        if expected.labels is None:
            assert got.labels is None
        else:
            assert torch.equal(got.labels, expected.labels), name


def test_bench_set_validates():
    source = shapes(20, seed=0)
    with pytest.raises(ValueError, match="name: unknown value 'fog'"):
        rc.bench_set(source, "fog")
    with pytest.raises(ValueError, match="'mix' set needs images of another data set"):
        rc.bench_set(source, "mix")
    with pytest.raises(ValueError, match="needs a real set with labels"):
        rc.bench_set(ImageSet(source.images), "2 per class")
    with pytest.raises(TypeError, match="ImageSet"):
        rc.bench_set(source.images, "blur")
    with pytest.raises(ValueError, match="level"):
        rc.bench_set(source, "blur", 7)
    assert rc.bench_set_names(4, with_mix=False)[-3] == "drop 2 of 4 modes"


def test_fgsm_moves_pixels_by_at_most_epsilon_and_flips_predictions(net, draws):
    clean = draws[1][:100]
    attacked = rc.fgsm(net, clean, 2 / 255)
    assert attacked.images.shape == clean.images.shape
    assert torch.equal(attacked.labels, clean.labels)
    assert float((attacked.images - clean.images).abs().max()) <= 2 / 255 + 1e-6
    before = net.logits(clean.images).argmax(1)
    after = net.logits(attacked.images).argmax(1)
    assert float((before != after).float().mean()) > 0.05
    unlabelled = rc.fgsm(net, ImageSet(clean.images), 0.0)  # predicted labels, no step
    assert torch.equal(unlabelled.images, clean.images)
    with pytest.raises(ValueError, match="epsilon"):
        rc.fgsm(net, clean, 2.0)
    with pytest.raises(TypeError, match="classifier"):
        rc.fgsm("shapes-cnn", clean)


# -- the tiny classifier ------------------------------------------------------------------------


def test_linear_probe_separates_blobs_and_never_predicts_an_absent_class():
    gen = torch.Generator().manual_seed(0)
    centres = 5 * torch.randn(4, 6, generator=gen, dtype=torch.float64)
    labels = torch.arange(200) % 4
    x = centres[labels] + 0.3 * torch.randn(200, 6, generator=gen, dtype=torch.float64)
    probe = rc.LinearProbe(x, labels, 4)
    assert probe.accuracy(x, labels) == 1.0
    again = rc.LinearProbe(x, labels, 4)
    assert torch.equal(probe.weight, again.weight)  # closed form: no seed, same result
    kept = labels < 2
    half = rc.LinearProbe(x[kept], labels[kept], 4)
    assert set(half.predict(x).tolist()) <= {0, 1}
    assert abs(half.accuracy(x, labels) - 0.5) < 0.05
    with pytest.raises(ValueError, match="labels: must lie in 0..3"):
        rc.LinearProbe(x, labels + 1, 4)
    with pytest.raises(ValueError, match="integer labels"):
        rc.LinearProbe(x, labels.double(), 4)
    with pytest.raises(ValueError, match="l2"):
        rc.LinearProbe(x, labels, 4, l2=0.0)
    with pytest.raises(ValueError, match="expected 6 columns"):
        probe.predict(x[:, :3])


@pytest.mark.parametrize("n", [200, 5])  # more rows than columns, and fewer
def test_linear_probe_is_the_closed_form_ridge_fit(n):
    from lib.bench.attacks import fgsm
    from lib.metrics.probe import LinearProbe

    assert rc.LinearProbe is LinearProbe and rc.fgsm is fgsm
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(n, 6, generator=gen, dtype=torch.float64) * torch.arange(1.0, 7.0)
    labels = torch.arange(n) % 3
    probe = LinearProbe(x, labels, 4, l2=1e-2)
    # W = (ZᵀZ + λ N I)⁻¹ Zᵀ (Y − ȳ), b = ȳ, with z the standardised features.
    z = (x - x.mean(0)) / x.std(0, correction=0)
    onehot = torch.nn.functional.one_hot(labels, 4).double()
    gram = z.T @ z + 1e-2 * n * torch.eye(6, dtype=torch.float64)
    weight = torch.linalg.solve(gram, z.T @ (onehot - onehot.mean(0)))
    assert torch.allclose(probe.weight, weight, rtol=1e-9, atol=1e-12)
    assert torch.allclose(probe.bias, onehot.mean(0), rtol=0, atol=1e-12)
    assert float(probe.bias[3]) == 0.0 and not probe.weight[:, 3].any()  # the absent class
    assert torch.equal(probe.predict(x), (z @ weight + onehot.mean(0)).argmax(1))


# -- the evaluator ------------------------------------------------------------------------------


def test_evaluation_has_every_metric_its_seconds_and_is_deterministic(evaluator, draws):
    e = evaluator.evaluate(draws[1], seed=4)
    assert set(e.values) == {m.key for m in rc.METRICS}
    assert all(math.isfinite(v) for v in e.values.values())
    assert set(e.seconds) == set(e.values) | {"features"} and e.n == N
    assert all(s >= 0 for s in e.seconds.values())
    assert e.values == evaluator.evaluate(draws[1], seed=4).values
    assert 0.9 < evaluator.real_to_real <= 1.0
    gtt = evaluator.gan_train_test(draws[1])
    assert (gtt.gan_train, gtt.gan_test) == (e.values["gan_train"], e.values["gan_test"])
    assert "13 metrics" in repr(evaluator)


def test_unlabelled_sets_and_no_held_out_set(evaluator, draws, net):
    e = evaluator.evaluate(ImageSet(draws[1].images), seed=0)
    for key in ("label_acc", "gan_train", "gan_test"):
        assert math.isnan(e.values[key])
    assert math.isfinite(e.values["ms_ssim"])  # pairs within the predicted classes
    plain = rc.Evaluator(draws[2], net, **SMALL)
    assert [m.key for m in plain.metrics] == [m.key for m in rc.METRICS][:-2]
    assert "gan_train" not in plain.evaluate(draws[1]).values
    with pytest.raises(ValueError, match="held_out="):
        plain.gan_train_test(draws[1])


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda ev, s: ev.evaluate(s.images), TypeError, "ImageSet"),
        (lambda ev, s: ev.evaluate(s[:8]), ValueError, "too few"),
        (lambda ev, s: ev.evaluate(ImageSet(s.images[:, :1])), ValueError, "reference's are"),
        (lambda ev, s: ev.evaluate(s, seed=-1), ValueError, "seed"),
        (
            lambda ev, s: ev.evaluate(ImageSet(s.images, s.labels + 10, s.class_names)),
            ValueError,
            r"labels: must lie in 0\.\.9",
        ),
        (
            lambda ev, s: rc.Evaluator(s, "random-cnn", held_out=ImageSet(s.images)),
            ValueError,
            "labelled",
        ),
        (lambda ev, s: rc.Evaluator(s, 3), TypeError, "network"),
        (lambda ev, s: rc.report_card({}, ev), TypeError, "non-empty"),
        (lambda ev, s: rc.report_card({"a": s}, "ev"), TypeError, "Evaluator"),
    ],
)
def test_bad_inputs_raise_clear_errors(evaluator, draws, make, error, match):
    with pytest.raises(error, match=match):
        make(evaluator, draws[1])


# -- scoring ------------------------------------------------------------------------------------


def test_spread_scores_separation_and_detection_by_hand():
    draws = [{"fid": 1.0, "is": 7.0}, {"fid": 2.0, "is": 8.0}, {"fid": 3.0, "is": 9.0}]
    spread = rc.real_spread(draws)
    assert spread["fid"] == rc.Spread(2.0, 1.0, 3.0, 3) and spread["fid"].spread == 2.0
    bad = {"fid": 7.0, "is": 4.0}
    assert rc.worse_than_real(bad, spread) == {"fid": 2.5, "is": 2.0}
    # beyond the worst draw (fid 3, is 7) by 2 and 1.5 spreads
    assert rc.separation(bad, spread) == {"fid": 2.0, "is": 1.5}
    good = {"fid": 2.5, "is": 10.0}
    assert rc.worse_than_real(good, spread) == {"fid": 0.25, "is": -1.0}
    seps = {"bad": rc.separation(bad, spread), "good": rc.separation(good, spread)}
    assert rc.detection(seps, ["bad", "good"]) == {"is": (1, 2), "fid": (1, 2)}
    assert rc.detection(seps, ["bad", "good"], threshold=1.8) == {"is": (0, 2), "fid": (1, 2)}
    seps["bad"]["is"] = math.nan
    assert rc.detection(seps, ["bad", "good"])["is"] == (0, 1)
    with pytest.raises(ValueError, match="at least two"):
        rc.real_spread(draws[:1])
    with pytest.raises(ValueError, match="no separations for 'x'"):
        rc.detection(seps, ["x"])


def test_distortion_trend_and_cost_by_hand():
    series = [{"fid": v, "is": w} for v, w in [(1, 9), (2, 8), (3, 8.5), (4, 7), (5, 6)]]
    trend = rc.distortion_trend(series)
    assert trend["fid"] == (1.0, True)
    assert trend["is"][1] is False and trend["is"][0] == pytest.approx(0.8)
    e = rc.Evaluation({"fid": 1.0, "swd": 2.0}, {"features": 1.0, "fid": 0.5, "swd": 2.0}, 10)
    assert rc.cost_per_set([e]) == {"fid": 1.5, "swd": 2.0}  # SWD needs no network pass
    assert rc.cost_per_set([e], include_features=False) == {"fid": 0.5, "swd": 2.0}
    with pytest.raises(ValueError, match="two or more levels"):
        rc.distortion_trend(series[:1])
    with pytest.raises(TypeError, match="Evaluation"):
        rc.cost_per_set([{"fid": 1.0}])


# -- the claims of notebook 09 ------------------------------------------------------------------


@pytest.mark.slow
def test_every_metric_but_mis_detects_the_dcgan_and_mis_prefers_distortions(card):
    seps, scores = card["seps"], card["scores"]
    assert all(seps["DCGAN"][k] > 1 for k in seps["DCGAN"] if k != "mis")
    assert scores["DCGAN"]["mis"] < 0
    assert all(scores[n]["mis"] < 0 for n in rc.FIDELITY_SETS)
    assert seps["DCGAN"]["ms_ssim"] > 1  # its images of one class are alike


def test_criterion_1_which_losses_each_metric_detects(card):
    seps = card["seps"]
    fidelity, diversity = list(rc.FIDELITY_SETS), list(rc.DIVERSITY_SETS)
    found_f, found_d = rc.detection(seps, fidelity), rc.detection(seps, diversity)
    for k in ("fid", "kid"):
        assert found_f[k] == (6, 6) and found_d[k] == (3, 3)
    for k in ("recall", "coverage", "gan_train"):
        assert found_d[k] == (3, 3)
    drop = diversity[0]
    assert not any(seps[drop][k] > 1 for k in ("precision", "density", "label_acc", "gan_test"))
    assert found_f["mis"][0] == 0
    assert all(seps[n]["ms_ssim"] > 1 for n in diversity[1:]) and found_f["ms_ssim"][0] <= 1
    for k in ("label_acc", "gan_train", "gan_test"):  # no labels for the photos mixed in
        assert found_f[k][1] == 5


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*samples for 96-dimensional features")
def test_criterion_3_distortion_trends_and_the_attack(evaluator, card, draws, other, net):
    small = draws[0][:60]
    clean = evaluator.evaluate(small)
    trends = {}
    for kind in ("noise", "salt_pepper"):
        levels = bench.degradation_series(small.images, kind, seed=0)
        series = [clean] + [
            evaluator.evaluate(ImageSet(x, small.labels, small.class_names)) for x in levels[1:]
        ]
        trends[kind] = rc.distortion_trend(series)
    assert all(trends[kind]["kid"] == (1.0, True) for kind in trends)
    assert trends["noise"]["ms_ssim"][0] == trends["salt_pepper"]["ms_ssim"][0] == -1.0
    assert not any(trends[kind]["mis"][1] for kind in trends)

    attacked = rc.fgsm(net, draws[0], 2 / 255)
    sep = rc.separation(evaluator.evaluate(attacked), card["spread"])
    assert sep["label_acc"] > 1 and sep["is"] > 1
    assert sep["ms_ssim"] <= 1


def test_the_shipped_study_and_its_agreement_with_the_metrics(card):
    records = study.read_answers(study.EXAMPLE_PATH)
    preferences = study.preference_table(records, order=["real"])
    told_apart = sorted(p.b for p in preferences if p.low > 0.5)
    assert told_apart == sorted(k for k in rc.FIDELITY_SETS if k != "mix")
    bias = study.position_bias(records)
    assert (bias.k, bias.n) == (181, 320) and bias.low > 0.5
    human = study.human_scores(records, against="real")
    values = {m.label: {n: card["card"][n].values[m.key] for n in human} for m in rc.METRICS}
    lower = {m.label: m.better == "lower" for m in rc.METRICS}
    agreement = study.agreement_table(human, values, lower)
    for m in rc.METRICS:
        if m.looks_at == "fidelity":
            assert agreement[m.label].tau > 0.3, m.label
    for label in ("m-IS", "recall", "coverage", "MS-SSIM"):
        assert agreement[label].tau < 0, label
    assert agreement["FID"].tau < agreement["label acc."].tau


# -- the explorer -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def panel(net):
    reference, source = shapes(120, seed=11), shapes(120, seed=12)
    small = rc.Evaluator(reference, net, held_out=shapes(60, seed=13), **SMALL)
    spread = rc.real_spread([small.evaluate(shapes(120, seed=14 + r), seed=r) for r in range(2)])
    extra = {"DCGAN": generate(load_generator("shapes"), 120, seed=0)}
    return ReportCardExplorer(
        small,
        source,
        other=photos(60, size=32, seed=2),
        extra=extra,
        spread=spread,
        set_name="blur",
        metric_key="fid",
        level=0,
    )


@pytest.fixture
def explorer(panel):
    panel.set_dropdown.value = "blur"
    panel.metric_dropdown.value = "fid"
    panel.level_slider.value = 0
    return panel


def test_initial_state_and_widgets(explorer):
    r = explorer.results
    assert (r["set"], r["level"], r["metric"], r["n"]) == ("blur", 0, "fid", 120)
    assert set(r["values"]) == {m.key for m in rc.METRICS}
    assert r["value"] == r["values"]["fid"]
    assert set(r["detected"]) == set(r["worse_than_real"]) == set(r["values"])
    assert bytes(explorer.grid.value).startswith(PNG)
    assert bytes(explorer.plot.value).startswith(PNG)
    controls = explorer.widget.children[0].children
    assert controls == (explorer.set_dropdown, explorer.level_slider, explorer.metric_dropdown)
    assert tuple(explorer.set_dropdown.options) == (*rc.bench_set_names(10), "DCGAN")
    assert isinstance(explorer.widget, widgets.VBox)
    assert "application/vnd.jupyter.widget-view+json" in explorer._repr_mimebundle_()
    assert "'blur'" in repr(explorer)


def test_moving_the_level_changes_the_numbers_shown(explorer):
    before_html, before = explorer.numbers.value, explorer.results["values"]
    explorer.level_slider.value = 4
    after = explorer.results["values"]
    assert explorer.results["level"] == 4
    assert after["fid"] > before["fid"] and after["swd"] > before["swd"]
    assert explorer.numbers.value != before_html
    assert "level 4 (strength 2.5)" in explorer.numbers.value
    assert rc.format_value("fid", after["fid"]) in explorer.numbers.value
    assert explorer.results["detected"]["fid"] is True


def test_choosing_a_metric_redraws_without_recomputing(explorer):
    kept = len(explorer._evaluations)
    explorer.metric_dropdown.value = "recall"
    assert explorer.results["metric"] == "recall"
    assert explorer.results["value"] == explorer.results["values"]["recall"]
    assert len(explorer._evaluations) == kept
    assert "background:#fff3c4;font-weight:bold'><td>recall" in explorer.numbers.value


def test_sets_without_a_level_disable_the_slider(explorer):
    explorer.set_dropdown.value = "memorised (1 per class)"
    assert explorer.level_slider.disabled and explorer.results["level"] is None
    memorised = explorer.results["values"]
    explorer.level_slider.value = 3  # the level does not change this set: no new evaluation
    assert explorer.results["values"] == memorised
    explorer.set_dropdown.value = "DCGAN"
    assert explorer.results["set"] == "DCGAN" and explorer.results["n"] == 120
    explorer.set_dropdown.value = "noise"
    assert not explorer.level_slider.disabled


def test_precomputed_evaluations_are_shown_as_given(panel):
    fake = rc.Evaluation({**panel.evaluation("swirl", 2).values, "fid": 123.0}, {"fid": 0.0}, 7)
    other = ReportCardExplorer(
        panel.evaluator,
        panel.source,
        spread=panel.spread,
        set_name="swirl",
        level=2,
        precomputed={("swirl", 2): fake},
    )
    assert other.results["value"] == 123.0 and other.results["n"] == 7
    assert "mix" not in other.set_dropdown.options  # no other= images


def test_a_failing_update_is_shown_in_the_panel_and_raised(explorer, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("network fell over")

    monkeypatch.setattr(explorer.evaluator, "evaluate", broken)
    with pytest.raises(RuntimeError, match="fell over"):
        explorer.set_dropdown.value = "salt_pepper"  # not evaluated before at level 0
    assert "could not update" in explorer.numbers.value
    assert explorer.error == "RuntimeError: network fell over"


def test_explorer_validates(panel):
    with pytest.raises(ValueError, match="set_name: unknown value 'fog'"):
        ReportCardExplorer(panel.evaluator, panel.source, set_name="fog")
    with pytest.raises(ValueError, match="metric_key"):
        ReportCardExplorer(panel.evaluator, panel.source, metric_key="FID")
    with pytest.raises(ValueError, match="level"):
        ReportCardExplorer(panel.evaluator, panel.source, level=5)
    with pytest.raises(ValueError, match="already bench sets"):
        ReportCardExplorer(panel.evaluator, panel.source, extra={"blur": panel.source})
    with pytest.raises(TypeError, match="Evaluator"):
        ReportCardExplorer("evaluator", panel.source)


def test_classroom_explorer_builds_the_app_from_scratch():
    from lib.widgets.report_card import classroom_explorer

    app = classroom_explorer(60, n_held_out=30, n_real_draws=2, device="cpu")
    assert isinstance(app, ReportCardExplorer)
    assert "DCGAN" in app.set_names and set(app.spread) >= {"fid", "kid", "is"}
    assert app.results["set"] == "blur" and app.results["n"] == 60
    assert math.isfinite(app.results["values"]["fid"])
    with pytest.raises(ValueError, match="n_images"):
        classroom_explorer(10)
    with pytest.raises(ValueError, match="seed"):
        classroom_explorer(60, seed=-1)
