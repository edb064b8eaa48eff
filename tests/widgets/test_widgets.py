"""lib.widgets.MetricExplorer without a browser: numbers, wiring of the controls, validation."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from ipywidgets import widgets  # noqa: E402

from lib import bench  # noqa: E402
from lib.datasets import ImageSet, digits, shapes  # noqa: E402
from lib.features import FeatureExtractor  # noqa: E402
from lib.features import get as get_network  # noqa: E402
from lib.widgets import MANIPULATIONS, MetricExplorer  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
N = 300


@pytest.fixture(scope="module")
def net():
    return get_network("shapes-cnn", device="cpu")


@pytest.fixture(scope="module")
def real():
    return shapes(N, seed=1)


@pytest.fixture(scope="module")
def source():
    return shapes(N, seed=2)


@pytest.fixture(scope="module")
def other():
    # Another data set (grey 32×32 digits) for the "mix" contamination.
    return digits("test")


@pytest.fixture(scope="module")
def shared(real, source, other, net):
    return MetricExplorer(real, source, net, other=other, manipulation="blur")


@pytest.fixture
def explorer(shared):
    """One explorer for the module (the reference is looked at once), put back to its first
    settings through its own controls; settings seen before come from its cache."""
    shared.seed.value = 0
    shared.dropdown.value = "blur"
    shared.slider.value = 0
    return shared


def test_initial_results_grid_and_widget(explorer):
    r = explorer.results
    assert (r["manipulation"], r["parameter"], r["value"], r["seed"]) == ("blur", "level", 0, 0)
    assert r["n_real"] == r["n_generated"] == N
    for key in ("is", "is_std", "fid", "kid", "kid_std", "real_is", "real_is_std"):
        assert math.isfinite(r[key]), key
    # A second draw of the same data: IS close to the real set's, FID small.
    assert abs(r["is"] - r["real_is"]) < 1.0
    assert r["fid"] < 5
    assert bytes(explorer.grid.value).startswith(PNG)
    assert bytes(explorer.plot.value).startswith(PNG)
    assert explorer.samples.shape == (16, 3, 32, 32)
    assert "FID" in explorer.numbers.value and "IS" in explorer.numbers.value
    assert isinstance(explorer.widget, widgets.VBox)
    controls = explorer.widget.children[0].children
    assert controls == (explorer.dropdown, explorer.slider, explorer.seed)
    assert tuple(explorer.dropdown.options) == MANIPULATIONS
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "blur" in repr(explorer)


def test_moving_the_blur_slider_raises_fid_and_lowers_is(explorer):
    top = len(bench.LEVELS["blur"]) - 1
    assert (explorer.slider.min, explorer.slider.max) == (0, top)
    fids, scores = [explorer.results["fid"]], [explorer.results["is"]]
    grid0 = explorer.grid.value
    for level in (top // 2, top):
        explorer.slider.value = level
        assert explorer.results["value"] == level
        assert explorer.results["strength"] == pytest.approx(bench.LEVELS["blur"][level])
        fids.append(explorer.results["fid"])
        scores.append(explorer.results["is"])
    assert fids[0] < fids[1] < fids[2]
    assert scores[2] < scores[0]
    assert bytes(explorer.grid.value) != bytes(grid0)
    assert sorted(explorer.history["blur"]) == [0, top // 2, top]
    # Moving back reuses the numbers (deterministic given the seed).
    explorer.slider.value = 0
    assert explorer.results["fid"] == fids[0]


def test_dropdown_adapts_the_slider_and_recomputes(explorer, source):
    clean_fid = explorer.results["fid"]

    explorer.dropdown.value = "drop modes"
    assert (explorer.slider.min, explorer.slider.max, explorer.slider.value) == (1, 10, 10)
    assert explorer.slider.description == "modes kept"
    assert explorer.results["manipulation"] == "drop modes"
    all_modes_is = explorer.results["is"]
    explorer.slider.value = 1
    assert explorer.results["value"] == 1
    assert explorer.results["is"] < 1.5 < all_modes_is  # one class left: IS → 1
    assert explorer.results["fid"] > 10 * max(clean_fid, 1.0)

    explorer.dropdown.value = "collapse within class"
    most = int(source.class_counts().max())
    assert (explorer.slider.min, explorer.slider.max, explorer.slider.value) == (1, most, most)
    assert explorer.slider.description == "distinct per class"
    assert explorer.results["manipulation"] == "collapse within class"

    explorer.dropdown.value = "memorise"
    assert explorer.slider.disabled and explorer.slider.max == 0
    assert explorer.results["manipulation"] == "memorise"
    # IS's blind spot: one confident image per class keeps IS near the real set's; FID sees it.
    assert explorer.results["is"] > 0.8 * explorer.results["real_is"]
    assert explorer.results["fid"] > 10 * max(clean_fid, 1.0)

    explorer.dropdown.value = "mix"
    explorer.slider.value = explorer.slider.max
    assert explorer.results["fid"] > 10 * max(clean_fid, 1.0)

    explorer.dropdown.value = "blur"
    assert not explorer.slider.disabled
    assert (explorer.slider.min, explorer.slider.value) == (0, 0)
    assert explorer.slider.max == len(bench.LEVELS["blur"]) - 1
    assert explorer.slider.description == "level"
    assert explorer.results["fid"] == clean_fid


def test_each_change_triggers_exactly_one_update(explorer, monkeypatch):
    calls = []
    real_update = explorer.update

    def counting_update():
        calls.append((explorer.dropdown.value, explorer.slider.value, explorer.seed.value))
        return real_update()

    monkeypatch.setattr(explorer, "update", counting_update)
    explorer.slider.value = 1
    assert calls == [("blur", 1, 0)]
    explorer.slider.value = 1  # no change, no update
    assert len(calls) == 1
    # The dropdown also moves the slider's range and value: still one update, not two.
    explorer.dropdown.value = "drop modes"
    assert calls[1:] == [("drop modes", 10, 0)]
    explorer.seed.value = 5
    assert calls[2:] == [("drop modes", 10, 5)]
    assert explorer.results["seed"] == 5


def test_a_failing_update_is_shown_in_the_panel_and_raised(explorer, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("network fell over")

    monkeypatch.setattr(explorer, "compute", broken)
    with pytest.raises(RuntimeError, match="fell over"):
        explorer.seed.value = 777  # a setting not computed before
    assert "could not update" in explorer.numbers.value
    assert "fell over" in explorer.numbers.value
    assert explorer.error == "RuntimeError: network fell over"


def test_sweep_matches_the_slider_and_fills_the_history(explorer):
    rows = explorer.sweep("blur")
    assert [row["value"] for row in rows] == list(range(len(bench.LEVELS["blur"])))
    assert rows[-1]["fid"] > rows[0]["fid"]
    assert sorted(explorer.history["blur"]) == [row["value"] for row in rows]
    assert explorer.slider.value == 0  # the widgets did not move
    fresh, _ = explorer.compute("blur", 3, 0)
    for key in ("is", "is_std", "fid", "kid"):
        assert rows[3][key] == pytest.approx(fresh[key], rel=1e-9)
    explorer.slider.value = 3
    assert explorer.results["fid"] == rows[3]["fid"]
    assert bytes(explorer.plot.value).startswith(PNG)


def test_mix_needs_other_and_unlabelled_sources_lose_the_class_manipulations(real, source, net):
    unlabelled = ImageSet(source.images[:100])
    ex = MetricExplorer(real[:100], unlabelled, net, manipulation="noise", splits=5, kid=False)
    assert "mix" not in ex.options
    assert "drop modes" not in ex.options and "collapse within class" not in ex.options
    assert "memorise" in ex.options
    assert "kid" not in ex.results
    ex.slider.value = ex.slider.max
    assert ex.results["fid"] > 0


class _NoHead(FeatureExtractor):
    name = "no-head"
    num_features = 4
    input_channels = (3,)

    def _run(self, x, taps):
        return {"features": x.mean((2, 3)).repeat(1, 2)[:, :4]}


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (dict(real=torch.rand(10, 3, 32, 32)), TypeError, "real: expected a lib.datasets"),
        (dict(source="shapes"), TypeError, "source: expected a lib.datasets"),
        (dict(real="bad-range"), ValueError, r"real.images: float images must lie in \[0, 1\]"),
        (dict(network=42), TypeError, "network: expected"),
        (dict(network="no-such-net"), ValueError, "unknown feature network"),
        (dict(network=_NoHead()), ValueError, "no classifier head"),
        (dict(manipulation="sharpen"), ValueError, "manipulation: unknown value 'sharpen'"),
        (dict(manipulation="mix", other=None), ValueError, "'mix' needs other="),
        (dict(other=torch.rand(4, 2, 32, 32)), ValueError, "other: expected 1 or 3 channel"),
        (dict(other=torch.full((4, 3, 8, 8), 2.0)), ValueError, r"other: float images must"),
        (dict(other=[1, 2]), TypeError, "other: expected an ImageSet"),
        (dict(splits=41), ValueError, "splits: 41 splits of 40 generated images"),
        (dict(max_images=1), ValueError, "max_images: must be at least 2"),
        (dict(seed=-1), ValueError, "seed: must be at least 0"),
        (dict(seed=1.5), TypeError, "seed: expected an integer"),
        (dict(kid="yes"), TypeError, "kid: expected True or False"),
        (dict(value=99), ValueError, r"value: 99 is out of range for 'blur' \(level 0\.\."),
        (dict(unlabelled=True, manipulation="drop modes"), ValueError, "needs a source set"),
    ],
)
def test_bad_inputs_raise_clear_errors(real, source, other, net, change, error, match):
    real, source = real[:40], source[:40]
    kwargs = dict(real=real, source=source, network=net, other=other)
    if change.pop("unlabelled", False):
        kwargs["source"] = ImageSet(source.images)
    if change.get("real") == "bad-range":
        change["real"] = ImageSet(real.images * 2, real.labels, real.class_names)
    kwargs.update(change)
    with pytest.raises(error, match=match):
        MetricExplorer(**kwargs)


def test_generate_validates_its_arguments(explorer):
    with pytest.raises(ValueError, match="out of range for 'drop modes'"):
        explorer.generate("drop modes", 0)
    with pytest.raises(ValueError, match="manipulation: unknown value"):
        explorer.generate("zoom", 1)
    with pytest.raises(TypeError, match="value: expected an integer"):
        explorer.generate("blur", 1.0)
